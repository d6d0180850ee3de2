using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;

namespace Proximity.Ingest;

/// <summary>Whether ingest can take messages (for the health endpoint).</summary>
public interface IIngestStatus
{
    bool IsReady { get; }
    string Description { get; }
    /// <summary>Completes when ingest first becomes able to take messages.</summary>
    Task WhenReady { get; }
}

/// <summary>Ends what a device's old secret or assignment still holds open in the broker.</summary>
public interface IDeviceSessions
{
    /// <summary>
    /// Disconnects the device and drops its session with anything queued for it (a notification meant for the
    /// person who carried it before): it has to log in again, as the registry now has it.
    /// </summary>
    Task EndSessionAsync(string deviceId);
}

/// <summary>
/// The embedded MQTTnet broker. Devices log in with client id = username = device id and their secret
/// (checked against its salted hash); integrations with their own id and secret. A device publishes and
/// subscribes only on its own topics, an integration only subscribes to alerts. Each device message is
/// handled inside the publish interceptor, so the QoS 1 PUBACK leaves only after the grains have judged it and,
/// on PostgreSQL, its fixes are in the position history (unless the database is away: decisions go on).
/// </summary>
public sealed class EmbeddedBroker(
    IngestOptions options,
    IngestRouter router,
    ProximityRegistry registry,
    IngestMetrics metrics,
    ILogger<EmbeddedBroker> logger) : IHostedService, IMqttPublisher, IIngestStatus, IDeviceSessions, IAsyncDisposable
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SessionSubscriptions _subscriptions = new();
    // By client id, set at each connect (a resumed session keeps the items of the connection that created it): the
    // protocol version, and the registry entry the device logged in as, so a connection made just before a re-key,
    // reassignment or retirement (ended by EndSessionAsync, which it may slip past) cannot publish with it.
    private readonly ConcurrentDictionary<string, Login> _logins = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _endingStale = new(StringComparer.Ordinal);
    // Time for a refusing PUBACK to leave before the connection is closed.
    private static readonly TimeSpan RefusalDelivery = TimeSpan.FromMilliseconds(200);
    private MqttServer? _server;

    private sealed record Login(bool Mqtt5, DeviceEntry? Device);

    public Task WhenReady => _ready.Task;

    public bool IsReady => _server?.IsStarted == true;
    public string Description => $"embedded MQTT broker on port {options.Port}";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var serverOptions = new MqttServerOptionsBuilder()
            .WithPersistentSessions()
            .WithMaxPendingMessagesPerClient(options.MaxPendingMessagesPerClient)
            .Build();
        _server = new MqttServerFactory().CreateMqttServer(serverOptions, [new DeviceListener(options, metrics, logger)]);
        _server.ValidatingConnectionAsync += ValidateConnection;
        _server.InterceptingSubscriptionAsync += InterceptSubscription;
        _server.InterceptingUnsubscriptionAsync += InterceptUnsubscription;
        _server.InterceptingPublishAsync += InterceptPublish;
        await _server.StartAsync();
        _ready.TrySetResult();
        logger.LogInformation("embedded MQTT broker listening on {Address}:{Port}", options.BindAddress, options.Port);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { IsStarted: true }) await _server.StopAsync();
    }

    // After a change in the registry: whatever the device's connection and session hold ends (what was queued for a
    // previous wearer goes with it; a device that logged in anew meanwhile logs in once more).
    public Task EndSessionAsync(string deviceId) => EndSessionAsync(deviceId, () => true);

    // Each step only while `proceed` holds: for a stale login, while it is still the device's latest, so a fresh
    // login made while the stale one closes keeps its connection and session.
    private async Task EndSessionAsync(string deviceId, Func<bool> proceed)
    {
        // Its entry among the logins is left: a stale one is refused at publish anyway, a fresh one made meanwhile is right.
        if (_server is not { IsStarted: true } server) return;
        // Ended even while the device is offline: its persistent session would otherwise resume with the old login.
        if ((await server.GetClientsAsync()).FirstOrDefault(c => c.Id == deviceId) is { } client && proceed())
            await client.DisconnectAsync(new MqttServerClientDisconnectOptions { ReasonCode = MqttDisconnectReasonCode.NotAuthorized });
        MqttSessionStatus session;
        try { session = await server.GetSessionAsync(deviceId); }
        catch (InvalidOperationException) { return; } // no session kept for it
        if (proceed()) await session.DeleteAsync();
    }

    // Once per stale login, and only while it is still the client's: a fresh login made meanwhile keeps its session.
    private void EndStaleSession(string clientId, Login? stale)
    {
        if (!_endingStale.TryAdd(clientId, 0)) return;
        _ = Task.Run(async () =>
        {
            try
            {
                await Task.Delay(RefusalDelivery);
                await EndSessionAsync(clientId, () => ReferenceEquals(_logins.GetValueOrDefault(clientId), stale));
            }
            catch (Exception x) { logger.LogWarning("client {Client}: its stale session could not be ended ({Problem})", clientId, x.Message); }
            finally { _endingStale.TryRemove(clientId, out _); }
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is null) return;
        if (_server.IsStarted) await _server.StopAsync();
        _server.Dispose();
        _server = null;
    }

    /// <summary>
    /// Delivers to the sessions subscribed to <paramref name="topic"/>: a device's command or notify topic goes to
    /// that device, an alert to the integrations reading alerts. A session that is offline gets it when it returns.
    /// </summary>
    public async ValueTask PublishAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var server = _server ?? throw new InvalidOperationException("the embedded broker is not running");
        if (topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal))
        {
            byte[] body = payload.ToArray();
            foreach (var reader in _subscriptions.AlertReaders) await DeliverAsync(server, reader, topic, body);
        }
        else if (topic.StartsWith(Topics.DevicesPrefix, StringComparison.Ordinal) && topic.IndexOf('/', Topics.DevicesPrefix.Length) is > 0 and var end)
            await DeliverAsync(server, topic[Topics.DevicesPrefix.Length..end], topic, payload.ToArray());
        else
            throw new ArgumentException($"the service publishes only alerts and device topics, not {topic}", nameof(topic));
    }

    private async ValueTask DeliverAsync(MqttServer server, string clientId, string topic, byte[] payload)
    {
        if (!_subscriptions.MayHaveSubscriptions(clientId)) return;
        MqttSessionStatus session;
        try { session = await server.GetSessionAsync(clientId); }
        catch (InvalidOperationException) { return; } // no session: the client is gone for good
        if (SessionSubscriptions.Qos(session.Items, topic) is not { } granted) return;
        var message = new MqttApplicationMessageBuilder()
            .WithTopic(topic)
            .WithPayload(payload)
            .WithQualityOfServiceLevel(granted < MqttQualityOfServiceLevel.AtLeastOnce ? granted : MqttQualityOfServiceLevel.AtLeastOnce)
            .Build();
        if (!session.TryEnqueueApplicationMessage(message, out _)) metrics.OutboundDropped(clientId);
    }

    private Task ValidateConnection(ValidatingConnectionEventArgs e)
    {
        if (string.IsNullOrEmpty(e.ClientId) || e.ClientId != e.UserName)
        {
            e.ReasonCode = MqttConnectReasonCode.ClientIdentifierNotValid;
            metrics.Refused("client_id_not_username", e.ClientId ?? "");
        }
        else
        {
            bool mqtt5 = e.ProtocolVersion == MQTTnet.Formatter.MqttProtocolVersion.V500;
            // The entry checked is the entry recorded: a re-key landing during the check leaves this login stale.
            if (registry.Authenticate(e.UserName, e.Password) is { } device) _logins[e.ClientId] = new Login(mqtt5, device);
            else if (registry.VerifyIntegration(e.UserName, e.Password)) _logins[e.ClientId] = new Login(mqtt5, null);
            else
            {
                e.ReasonCode = MqttConnectReasonCode.BadUserNameOrPassword;
                metrics.Refused("bad_credentials", e.ClientId);
            }
        }
        return Task.CompletedTask;
    }

    private Task InterceptSubscription(InterceptingSubscriptionEventArgs e)
    {
        if (!MayRead(e.ClientId, e.TopicFilter.Topic))
        {
            e.ProcessSubscription = false;
            e.Response.ReasonCode = MqttSubscribeReasonCode.NotAuthorized;
            metrics.Refused("subscription_not_authorized", e.ClientId);
        }
        else _subscriptions.Subscribed(e.ClientId, e.SessionItems, e.TopicFilter.Topic, e.TopicFilter.QualityOfServiceLevel);
        return Task.CompletedTask;
    }

    private Task InterceptUnsubscription(InterceptingUnsubscriptionEventArgs e)
    {
        _subscriptions.Unsubscribed(e.SessionItems, e.Topic);
        return Task.CompletedTask;
    }

    /// <summary>The topic ACL for reading: a device its own command/notify, an integration the alerts.</summary>
    public bool MayRead(string clientId, string filter)
    {
        if (registry.Device(clientId) is not null)
        {
            string own = DeviceTopic.Prefix + clientId + "/";
            return filter.StartsWith(own, StringComparison.Ordinal) && filter[own.Length..] is "command" or "notify" or "+" or "#";
        }
        return registry.IsIntegration(clientId) && filter.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal);
    }

    private async Task InterceptPublish(InterceptingPublishEventArgs e)
    {
        // Nobody subscribes to device uplinks: do not walk the sessions for them.
        e.ProcessPublish = false;
        if (registry.Device(e.ClientId) is not { } device)
        {
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            if (registry.IsIntegration(e.ClientId))
                metrics.Rejected(Protocol.RejectReason.TopicMismatch, e.ApplicationMessage.Topic, e.ClientId, "integrations may not publish");
            else
            {
                e.CloseConnection = true;
                metrics.Rejected(Protocol.RejectReason.UnknownDevice, e.ApplicationMessage.Topic, e.ClientId, "the device is retired or carried by nobody");
            }
            return;
        }
        var login = _logins.GetValueOrDefault(e.ClientId);
        if (login is null || !ReferenceEquals(login.Device, device))
        {
            // Refused, not asked again (it may be the previous wearer's), and the stale session ended once the refusal
            // has gone out. MQTT 3.1.1 has no refusing PUBACK: the connection closes at once, and the device sends the
            // message again after it logs in anew.
            e.Response.ReasonCode = MqttPubAckReasonCode.NotAuthorized;
            if (login?.Mqtt5 != true) e.CloseConnection = true;
            EndStaleSession(e.ClientId, login);
            metrics.Rejected(Protocol.RejectReason.UnknownDevice, e.ApplicationMessage.Topic, e.ClientId,
                "the device was re-keyed or given to someone else since it logged in: it must log in again");
            return;
        }
        long received = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var result = await router.HandleAsync(e.ApplicationMessage.Topic, e.ApplicationMessage.Payload, e.ClientId);
            if (!result.Accepted)
                e.Response.ReasonCode = result.Reason is Protocol.RejectReason.TopicMismatch or Protocol.RejectReason.UnknownTopic
                    ? MqttPubAckReasonCode.NotAuthorized
                    : MqttPubAckReasonCode.PayloadFormatInvalid;
            else if (result.MustComeAgain) AskAgain(e, MqttPubAckReasonCode.QuotaExceeded, "history_full");
            else if (result.Fixes is not null) await router.WhenRecordedAsync(); // at once in memory mode
            if (result.Accepted && !result.MustComeAgain) metrics.Handled(received);
        }
        catch (Exception x)
        {
            // The grains could not take it (silo stopping, timeout).
            logger.LogError(x, "ingest of a message on {Topic} from {Client} failed", e.ApplicationMessage.Topic, e.ClientId);
            AskAgain(e, MqttPubAckReasonCode.ImplementationSpecificError, "grain_failure");
        }
    }

    // Not acknowledged: an MQTT 5 device reads the reason code and sends the message again. An MQTT 3.1.1 PUBACK has
    // no reason code (it would read as success), so its connection is closed before the PUBACK leaves; the device
    // sends the unacknowledged message again when it reconnects.
    private void AskAgain(InterceptingPublishEventArgs e, MqttPubAckReasonCode reason, string counted)
    {
        metrics.Unacknowledged(counted);
        e.Response.ReasonCode = reason;
        if (_logins.GetValueOrDefault(e.ClientId)?.Mqtt5 != true) e.CloseConnection = true;
    }
}
