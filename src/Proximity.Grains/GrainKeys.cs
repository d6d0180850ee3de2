namespace Proximity.Grains;

/// <summary>
/// Grain keys carry a type prefix: storage providers parse bare keys that look like numbers as integers.
/// </summary>
public static class GrainKeys
{
    public static string Device(string deviceId) => "dev-" + deviceId;
    public static string Offender(string offenderId) => "off-" + offenderId;
    public static string Victim(string victimId) => "vic-" + victimId;
    public static string Alert(string alertId) => "alr-" + alertId;

    /// <summary>The id inside a prefixed key.</summary>
    public static string IdOf(string key) => key.Length > 4 && key[3] == '-' ? key[4..] : throw new ArgumentException($"'{key}' is not a prefixed grain key");

    public static IDeviceGrain DeviceGrain(this IGrainFactory f, string deviceId) => f.GetGrain<IDeviceGrain>(Device(deviceId));
    public static IOffenderGrain OffenderGrain(this IGrainFactory f, string offenderId) => f.GetGrain<IOffenderGrain>(Offender(offenderId));
    public static IVictimGrain VictimGrain(this IGrainFactory f, string victimId) => f.GetGrain<IVictimGrain>(Victim(victimId));
    public static IAlertGrain AlertGrain(this IGrainFactory f, string alertId) => f.GetGrain<IAlertGrain>(Alert(alertId));
}
