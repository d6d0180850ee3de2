using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Proximity.Protocol;

namespace Proximity.Ingest;

/// <summary>
/// Counters of ingest (meter <c>Proximity.Ingest</c>): messages accepted, fixes, rejects by reason, retries,
/// dropped outbound messages, and how long a device message takes from arrival to its acknowledgement; at most one
/// log line of each kind per interval, so a misbehaving device or a dead node cannot flood the log.
/// </summary>
public sealed class IngestMetrics
{
    public const string MeterName = "Proximity.Ingest";
    public const string RejectedCounter = "proximity.ingest.rejected";
    public const string BrokerConnectsCounter = "proximity.ingest.broker_connects";
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _fixes;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _retried;
    private readonly Counter<long> _unacknowledged;
    private readonly Counter<long> _outboundDropped;
    private readonly Counter<long> _brokerConnects;
    private readonly Histogram<double> _handled;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<RejectReason, LogWindow> _windows = new();
    private readonly LogWindow _retryFailures = new(), _retryRecoveries = new(), _drops = new();

    public IngestMetrics(IMeterFactory meters, ILogger<IngestMetrics> logger, TimeProvider time)
    {
        var meter = meters.Create(MeterName);
        _accepted = meter.CreateCounter<long>("proximity.ingest.accepted", description: "device messages accepted");
        _fixes = meter.CreateCounter<long>("proximity.ingest.fixes", description: "fixes judged (not duplicates, nor older than the person's newest, nor reports without a fix)");
        _rejected = meter.CreateCounter<long>(RejectedCounter, description: "device messages rejected, by reason");
        _refused = meter.CreateCounter<long>("proximity.ingest.refused", description: "connections and subscriptions refused, by reason");
        _retried = meter.CreateCounter<long>("proximity.ingest.retried", description: "failed attempts to hand a message to the grains (tried again)");
        _unacknowledged = meter.CreateCounter<long>("proximity.ingest.unacknowledged",
            description: "device messages left unacknowledged so that they come again (history full, grains failing), by reason");
        _outboundDropped = meter.CreateCounter<long>("proximity.mqtt.outbound_dropped",
            description: "messages for a broker client dropped because its queue of pending messages was full");
        _brokerConnects = meter.CreateCounter<long>(BrokerConnectsCounter,
            description: "attempts to connect to the external MQTT broker, by outcome (connected, failed)");
        _handled = meter.CreateHistogram("proximity.ingest.duration", unit: "s",
            description: "device message received → judged, alerts recorded, fixes stored: when it is acknowledged",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = HandledBuckets });
        _logger = logger;
        _time = time;
    }

    /// <summary>Fine enough below 50 ms to read a p99 against a 25 ms target from the buckets.</summary>
    public static IReadOnlyList<double> HandledBuckets { get; } =
        [0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2, 5];

    /// <summary>A device message taken (<paramref name="receivedTimestamp"/>: <see cref="Stopwatch.GetTimestamp"/> at arrival) is about to be acknowledged.</summary>
    public void Handled(long receivedTimestamp) => _handled.Record(Stopwatch.GetElapsedTime(receivedTimestamp).TotalSeconds);

    public void Accepted(int fixes)
    {
        _accepted.Add(1);
        if (fixes > 0) _fixes.Add(fixes);
    }

    public void Rejected(RejectReason reason, string topic, string? clientId, string message)
    {
        _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason.ToString()));
        if (!Due(_windows.GetOrAdd(reason, _ => new LogWindow()), out long suppressed)) return;
        _logger.LogWarning("rejected message on {Topic} from {Client}: {Reason}: {Message} ({Suppressed} more {Reason2} rejects since the last line)",
            topic, clientId ?? "(broker)", reason, message, suppressed, reason);
    }

    /// <summary>An attempt to hand a message to the grains failed; it is tried again.</summary>
    public void RetryFailed(string topic, Exception error)
    {
        _retried.Add(1);
        if (!Due(_retryFailures, out long suppressed)) return;
        _logger.LogWarning("handling a message on {Topic} failed ({Error}: {Message}); trying again ({Failures} failed attempts since the last line)",
            topic, error.GetType().Name, error.Message.Split('\n', 2)[0].Trim(), suppressed + 1);
    }

    public void RetrySucceeded(string topic, int attempts)
    {
        if (!Due(_retryRecoveries, out long suppressed)) return;
        _logger.LogInformation("a message on {Topic} was handled after {Attempts} attempts ({Recovered} messages handled after a failure since the last line)",
            topic, attempts, suppressed + 1);
    }

    public void Refused(string what, string clientId)
    {
        _refused.Add(1, new KeyValuePair<string, object?>("reason", what));
        _logger.LogDebug("refused {What} for client {Client}", what, clientId);
    }

    /// <summary>A valid message the service could not fully take this time (<c>history_full</c>, <c>grain_failure</c>).</summary>
    public void Unacknowledged(string reason) => _unacknowledged.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void BrokerConnect(bool connected) => _brokerConnects.Add(1, new KeyValuePair<string, object?>("outcome", connected ? "connected" : "failed"));

    public void OutboundDropped(string clientId)
    {
        _outboundDropped.Add(1);
        if (!Due(_drops, out long suppressed)) return;
        _logger.LogWarning("dropped a message for {Client}: its queue of pending messages is full ({Suppressed} more dropped since the last line)",
            clientId, suppressed);
    }

    // Counts one occurrence; true when a log line is due, with how many occurrences went unlogged since the last.
    private bool Due(LogWindow window, out long suppressed)
    {
        var now = _time.GetUtcNow();
        lock (window)
        {
            window.Count++;
            suppressed = window.Count - 1;
            if (now - window.LastLog < LogInterval) return false;
            window.Count = 0;
            window.LastLog = now;
            return true;
        }
    }

    private sealed class LogWindow
    {
        public DateTimeOffset LastLog = DateTimeOffset.MinValue;
        public long Count;
    }
}
