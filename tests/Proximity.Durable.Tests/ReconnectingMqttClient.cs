using System.Text;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Proximity.Ingest.Tests;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// An MQTT client (5 or 3.1.1) that outlives broker and service faults, as a device or a control room does: it reconnects by
/// itself, and what it publishes goes through a store-and-forward queue (QoS 1, in order, one at a time): a message
/// leaves the queue only when the broker acknowledged it; otherwise it is sent again once connected. Records which
/// messages the broker acknowledged and what arrived on its subscriptions.
/// </summary>
public sealed class ReconnectingMqttClient : IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly MqttClientOptions _options;
    private readonly string[] _filters;
    private readonly Queue<Outgoing> _outbox = new();
    private readonly List<string> _acknowledged = [];
    private readonly List<Received> _received = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _connector;
    private readonly Task _pump;
    private readonly SemaphoreSlim _queued = new(0);
    private int _connects;
    private int _refusals;
    private int _unheard;

    private sealed record Outgoing(string Key, string Topic, byte[] Payload);

    private ReconnectingMqttClient(int port, string id, string secret, bool persistentSession, string[] filters, MqttProtocolVersion version)
    {
        _filters = filters;
        var options = new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId(id).WithCredentials(id, secret)
            .WithProtocolVersion(version).WithTimeout(TimeSpan.FromSeconds(10)).WithKeepAlivePeriod(TimeSpan.FromSeconds(5))
            .WithCleanStart(!persistentSession);
        if (persistentSession) options.WithSessionExpiryInterval(3600);
        _options = options.Build();
        _client.ApplicationMessageReceivedAsync += e =>
        {
            lock (_received) _received.Add(new Received(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        _connector = Task.Run(() => KeepConnectedAsync(_stop.Token));
        _pump = Task.Run(() => PumpAsync(_stop.Token));
    }

    /// <summary>A device: publishes, keeps what the broker did not acknowledge.</summary>
    public static Task<ReconnectingMqttClient> DeviceAsync(int port, string id, string secret, MqttProtocolVersion version = MqttProtocolVersion.V500) =>
        StartAsync(new(port, id, secret, false, [], version));

    /// <summary>A control room: a persistent session (the broker queues alerts while it is away), subscribed to <paramref name="filters"/>.</summary>
    public static Task<ReconnectingMqttClient> SubscriberAsync(int port, string id, string secret, params string[] filters) =>
        StartAsync(new(port, id, secret, true, filters, MqttProtocolVersion.V500));

    private static async Task<ReconnectingMqttClient> StartAsync(ReconnectingMqttClient client)
    {
        await client.WaitUntilConnectedAsync(TimeSpan.FromSeconds(60));
        return client;
    }

    /// <summary>Successful connections so far (1 + reconnections).</summary>
    public int Connects => Volatile.Read(ref _connects);

    /// <summary>Publishes the broker answered with an error reason code (sent again later).</summary>
    public int Refusals => Volatile.Read(ref _refusals);

    /// <summary>Publishes the broker answered "no matching subscribers" (sent again later).</summary>
    public int Unheard => Volatile.Read(ref _unheard);

    /// <summary>Queues a QoS 1 message; <paramref name="key"/> names it in <see cref="Acknowledged"/>.</summary>
    public void Publish(string key, string topic, string payload)
    {
        lock (_outbox) _outbox.Enqueue(new Outgoing(key, topic, Encoding.UTF8.GetBytes(payload)));
        _queued.Release();
    }

    public int Queued { get { lock (_outbox) return _outbox.Count; } }

    /// <summary>Keys of the messages the broker acknowledged, in order.</summary>
    public IReadOnlyList<string> Acknowledged { get { lock (_acknowledged) return _acknowledged.ToArray(); } }

    public IReadOnlyList<Received> Received { get { lock (_received) return _received.ToArray(); } }

    /// <summary>Waits until everything queued was acknowledged (the queue is polled: it has no signal of its own).</summary>
    public async Task DrainAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (Queued > 0)
        {
            try { await Task.Delay(50, cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"{_options.ClientId}: {Queued} messages still not acknowledged after {timeout}"); }
        }
    }

    private async Task WaitUntilConnectedAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (!_client.IsConnected)
        {
            try { await Task.Delay(50, cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"{_options.ClientId} not connected within {timeout}"); }
        }
    }

    /// <summary>Waits for a received message that matches (polled).</summary>
    public async Task<Received> WaitForAsync(Func<Received, bool> match, string what, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            if (Received.FirstOrDefault(match) is { } m) return m;
            try { await Task.Delay(50, cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"{_options.ClientId}: no message {what} within {timeout}; got {Received.Count}"); }
        }
    }

    private async Task KeepConnectedAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            if (!_client.IsConnected)
            {
                try
                {
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(TimeSpan.FromSeconds(10));
                    await _client.ConnectAsync(_options, attempt.Token);
                    if (_filters.Length > 0)
                    {
                        var subscribe = new MqttClientSubscribeOptionsBuilder();
                        foreach (var f in _filters) subscribe.WithTopicFilter(f, MqttQualityOfServiceLevel.AtLeastOnce);
                        await _client.SubscribeAsync(subscribe.Build(), attempt.Token);
                    }
                    Interlocked.Increment(ref _connects);
                }
                catch (Exception) when (!ct.IsCancellationRequested)
                {
                    // The broker is away: try again shortly, as a device does.
                }
            }
            try { await Task.Delay(200, ct); } catch (OperationCanceledException) { }
        }
    }

    private async Task PumpAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await _queued.WaitAsync(ct);
                Outgoing next;
                lock (_outbox) next = _outbox.Peek();
                while (!await TrySendAsync(next, ct)) await Task.Delay(250, ct);
                lock (_outbox) _outbox.Dequeue();
                lock (_acknowledged) _acknowledged.Add(next.Key);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
    }

    private async Task<bool> TrySendAsync(Outgoing message, CancellationToken ct)
    {
        if (!_client.IsConnected) return false;
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(TimeSpan.FromSeconds(15));
            var result = await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(message.Topic).WithPayload(message.Payload)
                .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), attempt.Token);
            // As the device protocol asks: "no matching subscribers" (the service not subscribed yet, say just after a
            // broker restart) means nobody has it: send it again. (An MQTT 3.1.1 PUBACK carries no reason: success.)
            if (result.ReasonCode == MqttClientPublishReasonCode.Success) return true;
            if (result.ReasonCode == MqttClientPublishReasonCode.NoMatchingSubscribers) Interlocked.Increment(ref _unheard);
            else Interlocked.Increment(ref _refusals);
            return false;
        }
        catch (Exception) when (!ct.IsCancellationRequested)
        {
            return false; // connection lost before the acknowledgement: the broker may or may not have it; send again
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await Task.WhenAll(_connector, _pump); } catch (OperationCanceledException) { }
        if (_client.IsConnected)
        {
            try { await _client.DisconnectAsync(); } catch (Exception) { }
        }
        _client.Dispose();
        _stop.Dispose();
        _queued.Dispose();
    }
}
