using System.Diagnostics;

namespace Proximity.Simulator.Scenarios;

/// <summary>Simulated time: starts at <c>start</c> and runs <c>speed</c> times faster than the real clock.</summary>
public sealed class SimClock(DateTimeOffset start, double speed)
{
    private readonly Stopwatch _real = Stopwatch.StartNew();

    public DateTimeOffset Start { get; } = start;
    public double Speed { get; } = speed > 0 ? speed : throw new ArgumentOutOfRangeException(nameof(speed));
    public DateTimeOffset Now => Start + _real.Elapsed * Speed;
    public TimeSpan RealElapsed => _real.Elapsed;

    /// <summary>Waits until simulated time reaches <paramref name="target"/>; returns true when woken early by <paramref name="wake"/>.</summary>
    public async Task<bool> WaitUntilAsync(DateTimeOffset target, SemaphoreSlim wake, CancellationToken ct)
    {
        var real = (target - Now) / Speed;
        if (real <= TimeSpan.Zero) return false;
        return await wake.WaitAsync(real, ct);
    }
}
