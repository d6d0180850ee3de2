namespace Proximity.Simulator.Models;

/// <summary>The device's own clock: true time plus an offset and a drift (parts per million).</summary>
public sealed class DeviceClock(double offsetSeconds = 0, double driftPpm = 0)
{
    private double _offset = offsetSeconds;
    private double _elapsed;

    public double OffsetSeconds => _offset + _elapsed * driftPpm * 1e-6;

    public void Advance(double seconds) => _elapsed += Math.Max(0, seconds);

    /// <summary>A clock step (for example after a bad network time sync).</summary>
    public void Step(double seconds) => _offset += seconds;

    public DateTimeOffset Read(DateTimeOffset trueTime) => trueTime.AddSeconds(OffsetSeconds);
}
