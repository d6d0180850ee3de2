using Proximity.Spatial.Bans;

namespace Proximity.Api.Registry;

/// <summary>
/// People, devices and bans. Every change is validated and atomic; bans are versioned (each change is a new
/// version, the history is kept). Implementations: <see cref="InMemoryRegistry"/>,
/// <see cref="Storage.PostgresRegistry"/>.
/// </summary>
public interface IRegistry
{
    Task<IReadOnlyList<Offender>> OffendersAsync();
    Task<Offender?> OffenderAsync(string id);
    /// <summary>Creates (version 1) or replaces; <paramref name="expectedVersion"/> guards against lost updates.</summary>
    Task<Offender> SaveOffenderAsync(Offender offender, int? expectedVersion);

    Task<IReadOnlyList<Victim>> VictimsAsync();
    Task<Victim?> VictimAsync(string id);
    Task<Victim> SaveVictimAsync(Victim victim, int? expectedVersion);

    Task<IReadOnlyList<Device>> DevicesAsync();
    Task<Device?> DeviceAsync(string id);
    /// <summary>Registers a device with <paramref name="secret"/> (a case file's) or, when null, a newly generated one.</summary>
    Task<DeviceWithSecret> RegisterDeviceAsync(string id, DeviceKind kind, DateTimeOffset now, string? secret = null);
    /// <summary>Assigns an active device to a person of the matching kind (ankle monitor: offender).</summary>
    Task<Device> AssignDeviceAsync(string id, string? personId);
    Task<DeviceWithSecret> RotateSecretAsync(string id, DateTimeOffset now);
    Task<Device> RetireDeviceAsync(string id, DateTimeOffset now);
    /// <summary>For broker authentication: true only for an active device with this secret.</summary>
    Task<bool> VerifyDeviceSecretAsync(string id, string secret);

    Task<IReadOnlyList<BanRecord>> BansAsync(string? offenderId = null);
    /// <summary>The newest version.</summary>
    Task<BanRecord?> BanAsync(string id);
    /// <summary>All versions, oldest first.</summary>
    Task<IReadOnlyList<BanRecord>> BanHistoryAsync(string id);
    Task<BanRecord> CreateBanAsync(BanRecord version1);
    /// <summary>Appends the next version; fails when <paramref name="next"/> is not exactly one newer.</summary>
    Task<BanRecord> AppendBanVersionAsync(BanRecord next);

    /// <summary>Raised after an offender's bans changed, with the current versions for the decision core.</summary>
    event Action<string, IReadOnlyList<Ban>>? BansChanged;

    /// <summary>Raised after a device was registered, assigned, re-keyed or retired, with the device as it now is.</summary>
    event Action<DeviceChange>? DeviceChanged;
}
