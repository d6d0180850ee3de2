using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Proximity.Ingest.Tests;

/// <summary>Reads the <c>proximity.ingest.rejected</c> counter of one host (its own meter factory), by reason.</summary>
public sealed class RejectCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _byReason = new();

    public RejectCounter(IMeterFactory scope)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == scope && instrument.Name == IngestMetrics.RejectedCounter) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string reason = "";
            foreach (var t in tags) if (t.Key == "reason") reason = t.Value as string ?? "";
            _byReason.AddOrUpdate(reason, value, (_, v) => v + value);
        });
        _listener.Start();
    }

    public long Total => _byReason.Values.Sum();

    public long this[string reason] => _byReason.GetValueOrDefault(reason);

    public void Dispose() => _listener.Dispose();
}
