namespace Proximity.Replay;

/// <summary>
/// When a recorded fix arrived, for a recording without receive times. Lines are in arrival order, and a device
/// reporting live sends its fixes as its own clock runs: between two of its fixes, as much time passed as its clock
/// says. So a device clock running minutes ahead moves no other device's arrivals (taking the newest time of any
/// device as "now" made every live fix of the others look minutes old), and a backlog, older than the device's
/// newest fix, arrives now: late.
/// </summary>
internal sealed class ArrivalClock
{
    private readonly Dictionary<string, (DateTimeOffset DeviceTime, DateTimeOffset Arrived)> _newest = new(StringComparer.Ordinal);

    public DateTimeOffset Now { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>The arrival of a fix the device stamped <paramref name="deviceTime"/>.</summary>
    public DateTimeOffset Arrive(string deviceId, DateTimeOffset deviceTime)
    {
        bool known = _newest.TryGetValue(deviceId, out var newest), newer = !known || deviceTime > newest.DeviceTime;
        // A device's first fix, or one older than its newest: now (the very first of all: its own time).
        var arrived = known && newer ? newest.Arrived + (deviceTime - newest.DeviceTime)
            : Now == DateTimeOffset.MinValue ? deviceTime : Now;
        if (arrived > Now) Now = arrived;
        if (newer) _newest[deviceId] = (deviceTime, Now);
        return Now;
    }

    /// <summary>A receive time the recording gives.</summary>
    public DateTimeOffset Received(DateTimeOffset at)
    {
        if (at > Now) Now = at;
        return at;
    }
}
