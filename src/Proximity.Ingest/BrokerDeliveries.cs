using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using Proximity.Grains.Outputs;

namespace Proximity.Ingest;

/// <summary>
/// What a node does with each message an external broker delivers to one of its MQTT sessions (its own, or a dead
/// node's it took over): hands it to the grains, again and again while they cannot be reached (their node died and
/// is not yet declared dead), one device's messages in the order they came; waits until its fixes are in the
/// position history (unless the database is away: decisions go on, the history waits in a bounded buffer); then
/// acknowledges it (store before ack). Messages are handled concurrently, as many as the
/// broker lets be in flight.
/// </summary>
public sealed class BrokerDeliveries(IngestRouter router, IngestOptions options, IngestMetrics metrics, ILogger<BrokerDeliveries> logger)
{
    private readonly KeyedSequencer _sequencer = new();

    /// <summary>Handles what <paramref name="client"/> receives from now on; <paramref name="stop"/> abandons what is in hand (not acknowledged).</summary>
    public DeliveryCounter Attach(IMqttClient client, CancellationToken stop)
    {
        var counter = new DeliveryCounter();
        client.ApplicationMessageReceivedAsync += e =>
        {
            var topic = e.ApplicationMessage.Topic;
            if (topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal)) return Task.CompletedTask;
            // MQTTnet hands messages over one at a time and waits for this handler: it only starts the work, so
            // the next message comes at once; the work acknowledges (PUBACK) when it is done.
            e.AutoAcknowledge = false;
            // The client may reuse the payload's buffer once the handler returned.
            var payload = new ReadOnlySequence<byte>(e.ApplicationMessage.Payload.ToArray());
            counter.Track(HandleAsync(e, topic, payload, DeviceTopic.Parse(topic)?.DeviceId ?? topic, Stopwatch.GetTimestamp(), stop));
            return Task.CompletedTask;
        };
        return counter;
    }

    private async Task HandleAsync(MqttApplicationMessageReceivedEventArgs e, string topic, ReadOnlySequence<byte> payload, string device,
        long received, CancellationToken ct)
    {
        try
        {
            var pause = options.RetryDelay;
            IngestResult result;
            while ((result = await _sequencer.Run(device, () => UntilHandledAsync(topic, payload, ct))).MustComeAgain)
            {
                // Judged, but the history is full (the database away too long): held, not acknowledged, and
                // handled again (a duplicate for the decisions, a second chance for the history).
                metrics.Unacknowledged("history_full");
                await Task.Delay(pause, ct);
                pause = Longer(pause);
            }
            if (result.Accepted && result.Fixes is not null) await router.WhenRecordedAsync().WaitAsync(ct);
            if (result.Accepted) metrics.Handled(received);
            await e.AcknowledgeAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping: not acknowledged, the broker delivers it again.
        }
        catch (Exception x) when (x is MqttCommunicationException or InvalidOperationException or ObjectDisposedException)
        {
            // The connection went before the acknowledgement: the broker delivers the message again (handled twice,
            // judged once: the offender's gate drops a fix it has seen).
            logger.LogDebug("no acknowledgement for a message on {Topic}: {Error}", topic, x.Message);
        }
    }

    private async Task<IngestResult> UntilHandledAsync(string topic, ReadOnlySequence<byte> payload, CancellationToken ct)
    {
        var delay = options.RetryDelay;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var result = await router.HandleAsync(topic, payload, null);
                if (attempt > 1) metrics.RetrySucceeded(topic, attempt);
                return result;
            }
            catch (Exception x) when (!ct.IsCancellationRequested)
            {
                metrics.RetryFailed(topic, x);
                await Task.Delay(delay, ct);
                delay = Longer(delay);
            }
        }
    }

    private TimeSpan Longer(TimeSpan pause) => TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, options.MaxRetryDelay.Ticks));
}

/// <summary>The messages of one session in hand (received, not yet acknowledged) and when the last one came.</summary>
public sealed class DeliveryCounter
{
    private readonly ConcurrentDictionary<Task, byte> _inHand = new();
    private long _received;
    private long _lastReceivedTicks = Environment.TickCount64;

    public int InHand => _inHand.Count;
    public long Received => Interlocked.Read(ref _received);
    public TimeSpan SinceLastMessage => TimeSpan.FromMilliseconds(Environment.TickCount64 - Interlocked.Read(ref _lastReceivedTicks));

    internal void Track(Task work)
    {
        Interlocked.Increment(ref _received);
        Interlocked.Exchange(ref _lastReceivedTicks, Environment.TickCount64);
        _inHand.TryAdd(work, 0);
        _ = work.ContinueWith(t => _inHand.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Waits (at most <paramref name="timeout"/>) until the messages in hand now are done.</summary>
    public async Task WhenDoneAsync(TimeSpan timeout, CancellationToken ct)
    {
        try { await Task.WhenAll(_inHand.Keys).WaitAsync(timeout, ct); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException) { }
    }
}
