using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using Polly;
using Polly.Retry;
using Proximity.Grains.Outputs;

namespace Proximity.Ingest;

/// <summary>
/// Ingest as a client of an external broker (Mosquitto, EMQX): a persistent session (clean start off, long
/// session expiry) so messages published while the service is down wait at the broker; QoS 1 with the
/// acknowledgement sent once the message is judged and its fixes are in the position history; a shared
/// subscription so several nodes split the devices. Messages are handled concurrently (up to the broker's
/// in-flight window, <see cref="IngestOptions.MaxInFlight"/>), one device's in the order they came; a message
/// whose grains cannot be reached (their node just died) or whose fixes the history cannot take yet is tried
/// again until it is handled. The connection is kept up by a Polly pipeline (reconnect with exponential backoff
/// and jitter, capped at <see cref="IngestOptions.ReconnectMaxDelay"/>, and a timeout per attempt). No circuit
/// breaker: an attempt at a broker that is down costs nothing, and every second away after it is back is a second
/// in which device messages find no subscriber (Mosquitto forgets shared subscriptions when it restarts).
/// </summary>
public sealed class ExternalBrokerIngest : IHostedService, IMqttPublisher, IIngestStatus, IDeviceSessions, IAsyncDisposable
{
    private readonly IngestOptions _options;
    private readonly ILogger _logger;
    private readonly IngestMetrics _metrics;
    private readonly IMqttClient _client;
    private readonly ResiliencePipeline _connect;
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _disconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly DeliveryCounter _deliveries;
    private Task _supervisor = Task.CompletedTask;

    public Task WhenReady => _ready.Task;

    public ExternalBrokerIngest(IngestOptions options, BrokerDeliveries deliveries, IngestMetrics metrics, ILogger<ExternalBrokerIngest> logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _metrics = metrics;
        _client = new MqttClientFactory().CreateMqttClient();
        _deliveries = deliveries.Attach(_client, _stop.Token);
        _client.DisconnectedAsync += e =>
        {
            if (!_stop.IsCancellationRequested)
                _logger.LogWarning("disconnected from MQTT broker {Host}:{Port}: {Reason}", options.BrokerHost, options.BrokerPort, e.Reason);
            _disconnected.TrySetResult();
            return Task.CompletedTask;
        };
        _connect = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                Delay = TimeSpan.FromMilliseconds(250),
                MaxDelay = options.ReconnectMaxDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = a =>
                {
                    _logger.LogWarning("connecting to MQTT broker {Host}:{Port} failed ({Error}); retry {Attempt} in {Delay}",
                        options.BrokerHost, options.BrokerPort, a.Outcome.Exception?.Message, a.AttemptNumber + 1, a.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(10))
            .Build();
    }

    public bool IsReady => _client.IsConnected;
    public string Description => $"MQTT client of {_options.BrokerHost}:{_options.BrokerPort} as {_options.ClientId}";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _supervisor = Task.Run(() => SuperviseAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Let the messages in hand finish (and be acknowledged) for a moment; the rest the broker delivers again.
        await _deliveries.WhenDoneAsync(TimeSpan.FromSeconds(5), cancellationToken);
        await _stop.CancelAsync();
        try { await _supervisor; } catch (OperationCanceledException) { }
        await _deliveries.WhenDoneAsync(Timeout.InfiniteTimeSpan, CancellationToken.None);
        if (_client.IsConnected)
            await _client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), CancellationToken.None);
    }

    /// <summary>
    /// The external broker's own password file and ACL decide who connects there (deploy/mosquitto); what a device
    /// that is no longer live still publishes is refused here as from an unknown device.
    /// </summary>
    public Task EndSessionAsync(string deviceId) => Task.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync(CancellationToken.None);
        _client.Dispose();
        _stop.Dispose();
    }

    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload.ToArray())
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        var result = await _client.PublishAsync(message, cancellationToken);
        if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
            throw new InvalidOperationException($"the broker refused a publish on {topic}: {result.ReasonCode}");
    }

    private async Task SuperviseAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await _connect.ExecuteAsync(ConnectAsync, ct);
            await WhileConnectedAsync(ct);
        }
    }

    // MQTTnet also reports each failed attempt as a disconnection, perhaps only after a later attempt succeeded: only
    // a client no longer connected ends the wait (it once went on connecting, and failing, every few seconds).
    private async Task WhileConnectedAsync(CancellationToken ct)
    {
        while (_client.IsConnected)
        {
            var disconnected = _disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_client.IsConnected) return;
            await Task.WhenAny(disconnected.Task, Task.Delay(TimeSpan.FromSeconds(5), ct)); // looked at again now and then
            ct.ThrowIfCancellationRequested();
        }
    }

    private async ValueTask ConnectAsync(CancellationToken ct)
    {
        MqttClientConnectResult result;
        try { result = await BrokerSession.ConnectAsync(_client, _options, _options.ClientId, ct); }
        catch
        {
            _metrics.BrokerConnect(connected: false);
            throw;
        }
        _metrics.BrokerConnect(connected: true);
        // A broker that kept the session also kept the subscriptions; subscribing again is harmless.
        var filters = _options.DeviceFilters;
        var subscribe = new MqttClientSubscribeOptionsBuilder();
        foreach (var f in filters) subscribe.WithTopicFilter(f, MqttQualityOfServiceLevel.AtLeastOnce);
        var sub = await _client.SubscribeAsync(subscribe.Build(), ct);
        foreach (var item in sub.Items)
            if (item.ResultCode > MqttClientSubscribeResultCode.GrantedQoS2)
                throw new InvalidOperationException($"the broker refused the subscription {item.TopicFilter.Topic}: {item.ResultCode}");
        _ready.TrySetResult();
        _logger.LogInformation("connected to MQTT broker {Host}:{Port} as {Client} (session present: {Session}), subscribed to {Filters}",
            _options.BrokerHost, _options.BrokerPort, _options.ClientId, result.IsSessionPresent, string.Join(", ", filters));
    }
}

/// <summary>The persistent MQTT 5 session a node holds at the external broker: its own, or a dead node's it takes over.</summary>
internal static class BrokerSession
{
    public static async Task<MqttClientConnectResult> ConnectAsync(IMqttClient client, IngestOptions options, string clientId, CancellationToken ct)
    {
        var result = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer(options.BrokerHost, options.BrokerPort)
            .WithClientId(clientId)
            .WithCredentials(options.Username, options.Password)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval((uint)options.SessionExpiry.TotalSeconds)
            .WithReceiveMaximum(options.MaxInFlight)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(15))
            .Build(), ct);
        if (result.ResultCode != MqttClientConnectResultCode.Success)
            throw new InvalidOperationException($"the broker refused the connection: {result.ResultCode}");
        return result;
    }
}
