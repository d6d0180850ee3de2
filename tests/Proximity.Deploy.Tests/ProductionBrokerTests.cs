using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;

namespace Proximity.Deploy.Tests;

/// <summary>
/// The production broker configuration, run for real: devices over TLS, the service on the
/// internal listener with the shared subscription the nodes use, integrations on the alert feed.
/// </summary>
public sealed class ProductionBrokerTests(ProductionBroker broker) : IClassFixture<ProductionBroker>, IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private readonly List<IMqttClient> _clients = [];

    private sealed record Received(string Topic, string Payload);

    private async Task<(IMqttClient Client, Channel<Received> Inbox)> ConnectAsync(MqttClientOptions options)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var inbox = Channel.CreateUnbounded<Received>();
        client.ApplicationMessageReceivedAsync += e =>
        {
            inbox.Writer.TryWrite(new Received(e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        _clients.Add(client);
        using var cts = new CancellationTokenSource(Wait);
        var result = await client.ConnectAsync(options, cts.Token);
        Assert.Equal(MqttClientConnectResultCode.Success, result.ResultCode);
        return (client, inbox);
    }

    private static async Task SubscribeAsync(IMqttClient client, params string[] filters)
    {
        var builder = new MqttClientSubscribeOptionsBuilder();
        foreach (var f in filters) builder.WithTopicFilter(f, MqttQualityOfServiceLevel.AtLeastOnce);
        using var cts = new CancellationTokenSource(Wait);
        var result = await client.SubscribeAsync(builder.Build(), cts.Token);
        Assert.All(result.Items, i => Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, i.ResultCode));
    }

    private static async Task<MqttClientPublishResult> PublishAsync(IMqttClient client, string topic, string payload)
    {
        using var cts = new CancellationTokenSource(Wait);
        return await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic(topic).WithPayload(payload).WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cts.Token);
    }

    private static async Task<Received> NextAsync(Channel<Received> inbox)
    {
        using var cts = new CancellationTokenSource(Wait);
        return await inbox.Reader.ReadAsync(cts.Token);
    }

    private async Task<(IMqttClient, Channel<Received>)> ServiceNodeAsync(string node)
    {
        var service = await ConnectAsync(broker.InternalClient(ProductionBroker.ServiceUser, node));
        await SubscribeAsync(service.Client,
            "$share/proximity/proximity/v1/devices/+/position", "$share/proximity/proximity/v1/devices/+/event");
        return service;
    }

    [Fact]
    public async Task A_device_cannot_publish_fixes_as_another_device()
    {
        var (_, serviceInbox) = await ServiceNodeAsync("node-publish-test");
        var (deviceA, _) = await ConnectAsync(broker.TlsClient("dev-a"));

        var forged = await PublishAsync(deviceA, "proximity/v1/devices/dev-b/position", """{"forged":true}""");
        var forgedEvent = await PublishAsync(deviceA, "proximity/v1/devices/dev-b/event", """{"forged":true}""");
        var own = await PublishAsync(deviceA, "proximity/v1/devices/dev-a/position", """{"own":true}""");

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forged.ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, forgedEvent.ReasonCode);
        Assert.True(own.IsSuccess, own.ReasonCode.ToString());
        // The broker handles one client's publishes in order: had the forged ones gone through, they
        // would have reached the service before the device's own.
        var first = await NextAsync(serviceInbox);
        Assert.Equal(new Received("proximity/v1/devices/dev-a/position", """{"own":true}"""), first);
    }

    [Fact]
    public async Task A_device_receives_only_its_own_notifications_and_commands()
    {
        var (service, _) = await ConnectAsync(broker.InternalClient(ProductionBroker.ServiceUser, "node-notify-test"));
        var (deviceA, inboxA) = await ConnectAsync(broker.TlsClient("dev-a"));
        var (deviceB, inboxB) = await ConnectAsync(broker.TlsClient("dev-b"));
        // Device A tries to listen to everything below devices/; 2.0 grants the subscription but
        // delivers only what the ACL lets A read.
        await SubscribeAsync(deviceA, "proximity/v1/devices/+/notify", "proximity/v1/devices/+/command", "proximity/v1/devices/#");
        await SubscribeAsync(deviceB, "proximity/v1/devices/dev-b/notify");

        Assert.True((await PublishAsync(service, "proximity/v1/devices/dev-b/notify", "for-b")).IsSuccess);
        Assert.True((await PublishAsync(service, "proximity/v1/devices/dev-b/command", "cmd-b")).IsSuccess);
        Assert.True((await PublishAsync(service, "proximity/v1/devices/dev-a/notify", "for-a")).IsSuccess);

        Assert.Equal(new Received("proximity/v1/devices/dev-b/notify", "for-b"), await NextAsync(inboxB));
        var firstForA = await NextAsync(inboxA);
        Assert.Equal(new Received("proximity/v1/devices/dev-a/notify", "for-a"), firstForA);
    }

    [Fact]
    public async Task A_device_cannot_forge_alerts_or_its_own_commands()
    {
        var (integration, alerts) = await ConnectAsync(broker.TlsClient(ProductionBroker.IntegrationUser));
        await SubscribeAsync(integration, "proximity/v1/alerts/#");
        var (deviceA, _) = await ConnectAsync(broker.TlsClient("dev-a"));
        var (service, _) = await ConnectAsync(broker.InternalClient(ProductionBroker.ServiceUser, "node-alert-test"));

        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(deviceA, "proximity/v1/alerts/critical", "fake")).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(deviceA, "proximity/v1/devices/dev-a/command", "fake")).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await PublishAsync(integration, "proximity/v1/alerts/critical", "fake")).ReasonCode);
        Assert.True((await PublishAsync(service, "proximity/v1/alerts/critical", "real")).IsSuccess);

        Assert.Equal(new Received("proximity/v1/alerts/critical", "real"), await NextAsync(alerts));
    }

    [Fact]
    public async Task On_the_device_listener_the_client_id_is_the_username_so_no_device_can_take_over_anothers_session()
    {
        var (deviceB, _) = await ConnectAsync(broker.TlsClient("dev-b"));
        // Device A claims B's client id; without use_username_as_clientid this would disconnect B.
        var (deviceA, _) = await ConnectAsync(broker.TlsClient("dev-a", clientId: "dev-b"));

        var fromB = await PublishAsync(deviceB, "proximity/v1/devices/dev-b/position", "still-here");
        Assert.True(fromB.IsSuccess, fromB.ReasonCode.ToString());
        Assert.True(deviceB.IsConnected);
        Assert.True(deviceA.IsConnected);
    }

    [Theory]
    [InlineData("dev-a", "wrong-secret", true)]
    [InlineData("dev-unknown", "secret-a", true)]
    [InlineData("dev-a", "wrong-secret", false)]
    public async Task Wrong_credentials_are_refused_on_both_listeners(string user, string password, bool tls)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        _clients.Add(client);
        var options = tls ? broker.TlsClient(user, password) : broker.InternalClient(user, user, password);
        using var cts = new CancellationTokenSource(Wait);
        MqttClientConnectResultCode code;
        try { code = (await client.ConnectAsync(options, cts.Token)).ResultCode; }
        catch (MqttConnectingFailedException e) when (e.Message.Contains(nameof(MqttClientConnectResultCode.BadUserNameOrPassword), StringComparison.Ordinal))
        {
            code = MqttClientConnectResultCode.BadUserNameOrPassword;
        }
        catch (MqttConnectingFailedException e) when (e.Message.Contains(nameof(MqttClientConnectResultCode.NotAuthorized), StringComparison.Ordinal))
        {
            code = MqttClientConnectResultCode.NotAuthorized;
        }
        Assert.Contains(code, new[] { MqttClientConnectResultCode.BadUserNameOrPassword, MqttClientConnectResultCode.NotAuthorized });
        Assert.False(client.IsConnected);
    }

    [Fact]
    public async Task Two_service_nodes_share_the_device_traffic_through_the_shared_subscription()
    {
        var (_, inbox1) = await ServiceNodeAsync("node-share-1");
        var (_, inbox2) = await ServiceNodeAsync("node-share-2");
        var (deviceA, _) = await ConnectAsync(broker.TlsClient("dev-a"));

        const int count = 20;
        for (int i = 0; i < count; i++)
            Assert.True((await PublishAsync(deviceA, "proximity/v1/devices/dev-a/event", $"{{\"seq\":{i}}}")).IsSuccess);

        var seen = new List<string>();
        int got1 = 0, got2 = 0;
        using var cts = new CancellationTokenSource(Wait);
        while (seen.Count < count)
        {
            var next = await Task.WhenAny(inbox1.Reader.WaitToReadAsync(cts.Token).AsTask(), inbox2.Reader.WaitToReadAsync(cts.Token).AsTask());
            await next;
            while (inbox1.Reader.TryRead(out var m)) { seen.Add(m.Payload); got1++; }
            while (inbox2.Reader.TryRead(out var m)) { seen.Add(m.Payload); got2++; }
        }
        Assert.Equal(count, seen.Count);
        Assert.Equal(count, seen.Distinct().Count());
        Assert.True(got1 > 0 && got2 > 0, $"node 1 got {got1}, node 2 got {got2}: the subscription is not shared");
    }

    /// <summary>
    /// Why the silos have stable names (a StatefulSet, fixed hostnames in Compose): Mosquitto 2.0 keeps
    /// handing a disconnected persistent session its round-robin share of a shared subscription. Those
    /// messages wait in the session until a client with the same id returns; under a new id they would
    /// wait until the session expires, and then be gone.
    /// </summary>
    [Fact]
    public async Task A_node_that_returns_under_its_client_id_gets_the_messages_the_broker_kept_for_it()
    {
        MqttClientOptions Persistent(string node) => new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", broker.InternalPort)
            .WithClientId(node)
            .WithCredentials(ProductionBroker.ServiceUser, ProductionBroker.Passwords[ProductionBroker.ServiceUser])
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(false)
            .WithSessionExpiryInterval(3600)
            .WithTimeout(Wait)
            .Build();
        string node1Id = $"node-stay-{Guid.NewGuid():N}", node2Id = $"node-restart-{Guid.NewGuid():N}";
        var (node1, inbox1) = await ConnectAsync(Persistent(node1Id));
        var (node2, _) = await ConnectAsync(Persistent(node2Id));
        await SubscribeAsync(node1, "$share/restart/proximity/v1/devices/+/position");
        await SubscribeAsync(node2, "$share/restart/proximity/v1/devices/+/position");
        await node2.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(),
            TestContext.Current.CancellationToken);

        var (deviceA, _) = await ConnectAsync(broker.TlsClient("dev-a"));
        const int count = 10;
        for (int i = 0; i < count; i++)
            Assert.True((await PublishAsync(deviceA, "proximity/v1/devices/dev-a/position", $"fix-{i}")).IsSuccess);

        var (node2Again, inbox2) = await ConnectAsync(Persistent(node2Id));
        var received1 = new List<string>();
        var received2 = new List<string>();
        using var cts = new CancellationTokenSource(Wait);
        while (received1.Count + received2.Count < count)
        {
            await Task.WhenAny(inbox1.Reader.WaitToReadAsync(cts.Token).AsTask(), inbox2.Reader.WaitToReadAsync(cts.Token).AsTask()).Unwrap();
            while (inbox1.Reader.TryRead(out var m)) received1.Add(m.Payload);
            while (inbox2.Reader.TryRead(out var m)) received2.Add(m.Payload);
        }
        Assert.True(received2.Count > 0, "the broker gave the absent node no share: stable client ids would no longer matter");
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"fix-{i}"), received1.Concat(received2).Order(StringComparer.Ordinal));
        Assert.True(node2Again.IsConnected);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients)
        {
            if (c.IsConnected)
            {
                try { await c.DisconnectAsync(); } catch (MqttCommunicationException) { }
            }
            c.Dispose();
        }
    }
}
