using Proximity.Spatial.Decisions;

namespace Proximity.Spatial.Monitoring;

/// <summary>
/// Whether a fix arrived late (store-and-forward) rather than live: late = arrived much later than this device's
/// fixes usually do. The baseline (the smallest lag seen from the device, at most <see cref="MaxClockSkew"/>)
/// absorbs a device clock that runs behind or ahead, so only delays in delivery count. Shared by replay and the
/// live grains so both mark the same fixes late.
/// </summary>
public sealed class ArrivalLateness(TimeSpan lateAfter)
{
    /// <summary>A device clock further behind than this is not believed: the lag is a backlog, not skew.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, TimeSpan> _baselineLag = new(StringComparer.Ordinal);

    public bool IsLate(in PositionFix fix, DateTimeOffset arrived) => IsLate(fix.DeviceId, fix.Timestamp, arrived);

    /// <summary>Whether something the device stamped <paramref name="deviceTime"/> (a fix, an event) arrived late.</summary>
    public bool IsLate(string deviceId, DateTimeOffset deviceTime, DateTimeOffset arrived)
    {
        var lag = arrived - deviceTime;
        if (!_baselineLag.TryGetValue(deviceId, out var baseline) || lag < baseline)
            _baselineLag[deviceId] = baseline = lag < MaxClockSkew ? lag : MaxClockSkew;
        return lag - baseline > lateAfter;
    }
}
