using System.Diagnostics;
using System.Diagnostics.Metrics;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

/// <summary>
/// What the operations dashboard watches besides ingest and outputs: how long judging a fix takes, alerts raised
/// by type and severity, how many devices are offline right now, and whether the cluster hears its devices at all
/// (meter <c>Proximity.Decisions</c>).
/// </summary>
public sealed class DecisionMetrics
{
    public const string MeterName = "Proximity.Decisions";

    private readonly Histogram<double> _decision;
    private readonly Counter<long> _alerts;
    private readonly UpDownCounter<long> _offline;

    public DecisionMetrics(IMeterFactory meters, DeviceFeed feed)
    {
        var meter = meters.Create(MeterName);
        _decision = meter.CreateHistogram<double>("proximity.decision.duration", unit: "s",
            description: "time to judge a batch of fixes against an offender's bans");
        _alerts = meter.CreateCounter<long>("proximity.alerts.raised", description: "alerts raised, by type and severity");
        _offline = meter.CreateUpDownCounter<long>("proximity.devices.offline", description: "devices currently reported offline");
        meter.CreateObservableGauge("proximity.devices.feed_lost", () => feed.Lost ? 1 : 0,
            description: "1 while no node hears its devices (every broker connection down): device silence is not reported");
    }

    public long Start() => Stopwatch.GetTimestamp();

    public void Decided(long started) => _decision.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);

    public void Raised(Alert alert) => _alerts.Add(1,
        new KeyValuePair<string, object?>("type", alert.Type.ToString()), new KeyValuePair<string, object?>("severity", alert.Severity.ToString()));

    public void DeviceOffline(bool offline) => _offline.Add(offline ? 1 : -1);
}
