using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Proximity.Ingest.Tests;

/// <summary>Reads one counter of one host (its own meter factory), by the value of one tag.</summary>
public sealed class CounterReader : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _byTag = new();

    public CounterReader(IMeterFactory scope, string counter, string tag)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == scope && instrument.Name == counter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string key = "";
            foreach (var t in tags) if (t.Key == tag) key = t.Value as string ?? "";
            _byTag.AddOrUpdate(key, value, (_, v) => v + value);
        });
        _listener.Start();
    }

    /// <summary>The <c>proximity.ingest.rejected</c> counter, by reason.</summary>
    public static CounterReader Rejects(IMeterFactory scope) => new(scope, IngestMetrics.RejectedCounter, "reason");

    public long Total => _byTag.Values.Sum();

    public long this[string tagValue] => _byTag.GetValueOrDefault(tagValue);

    public void Dispose() => _listener.Dispose();
}
