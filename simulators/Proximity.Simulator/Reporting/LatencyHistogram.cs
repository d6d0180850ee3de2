using System.Diagnostics;
using HdrHistogram;

namespace Proximity.Simulator.Reporting;

/// <summary>A thread-safe latency histogram in microseconds (HdrHistogram, 3 significant digits, up to 1 hour),
/// with a second histogram for the interval since the last progress line.</summary>
public sealed class LatencyHistogram
{
    private const long Highest = 3_600_000_000;
    private readonly Lock _lock = new();
    private readonly LongHistogram _total = new(Highest, 3);
    private readonly LongHistogram _interval = new(Highest, 3);

    public void RecordTicks(long stopwatchTicks) =>
        RecordMicroseconds(stopwatchTicks * 1_000_000 / Stopwatch.Frequency);

    public void RecordMicroseconds(long us)
    {
        us = Math.Clamp(us, 1, Highest);
        lock (_lock)
        {
            _total.RecordValue(us);
            _interval.RecordValue(us);
        }
    }

    public LatencySummary Total()
    {
        lock (_lock) return LatencySummary.Of(_total);
    }

    /// <summary>The interval's figures; starts a new interval.</summary>
    public LatencySummary TakeInterval()
    {
        lock (_lock)
        {
            var s = LatencySummary.Of(_interval);
            _interval.Reset();
            return s;
        }
    }

    /// <summary>The full percentile distribution (HdrHistogram's text format, values in milliseconds), for plotting.</summary>
    public void WriteDistribution(TextWriter writer)
    {
        lock (_lock) _total.OutputPercentileDistribution(writer, 5, 1000.0, false);
    }
}

public sealed record LatencySummary(long Count, double? P50Ms, double? P90Ms, double? P99Ms, double? P999Ms, double? MaxMs)
{
    internal static LatencySummary Of(LongHistogram h)
    {
        if (h.TotalCount == 0) return new LatencySummary(0, null, null, null, null, null);
        static double Ms(long us) => Math.Round(us / 1000.0, 3);
        return new LatencySummary(h.TotalCount, Ms(h.GetValueAtPercentile(50)), Ms(h.GetValueAtPercentile(90)),
            Ms(h.GetValueAtPercentile(99)), Ms(h.GetValueAtPercentile(99.9)), Ms(h.GetMaxValue()));
    }

    public string Format() => Count == 0 ? "-" : FormattableString.Invariant($"p50 {P50Ms:0.0} p99 {P99Ms:0.0} max {MaxMs:0.0} ms");
}
