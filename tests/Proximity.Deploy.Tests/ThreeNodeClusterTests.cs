using System.Text.Json;
using System.Threading.Channels;
using MQTTnet;
using MQTTnet.Protocol;
using Proximity.Storage.Tests;

using static Proximity.Deploy.Tests.ClusterCase;

namespace Proximity.Deploy.Tests;

/// <summary>
/// Three <c>proximity run</c> processes on loopback with the production configuration: one private
/// PostgreSQL (membership, grain state, alerts), the production Mosquitto config and ACL (devices and the
/// integration over TLS, the nodes on the internal listener as the service user with the shared
/// subscription). Devices publish through the broker; the cluster raises the one breach exactly once.
/// </summary>
public sealed class ThreeNodeClusterTests : IAsyncLifetime
{
    private const int Offenders = 6;
    private const int Rounds = 5;

    private readonly Rig _rig = new(Offenders, "cluster");

    public ValueTask InitializeAsync() => _rig.InitializeAsync();

    public ValueTask DisposeAsync() => _rig.DisposeAsync();

    [Fact]
    public async Task Three_nodes_on_postgres_and_mosquitto_form_one_cluster_share_the_devices_and_raise_the_breach_once()
    {
        var ct = TestContext.Current.CancellationToken;
        await _rig.StartThreeNodesAsync(ct);

        // The control room on the alert feed, over TLS, as the production ACL's integration user.
        var alerts = Channel.CreateUnbounded<(string Topic, string Payload)>();
        var integration = await _rig.ConnectAsync(_rig.Broker.TlsClient(ProductionBroker.IntegrationUser), ct);
        integration.ApplicationMessageReceivedAsync += e =>
        {
            alerts.Writer.TryWrite((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        await integration.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter("proximity/v1/alerts/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);

        // off-1 stays in its exclusion zone (one breach); the others report far away from it.
        var devices = new List<IMqttClient>();
        for (int i = 1; i <= Offenders; i++) devices.Add(await _rig.ConnectAsync(_rig.Broker.TlsClient(Device(i), Secret(i)), ct));
        var start = DateTime.UtcNow.AddSeconds(-30);
        for (int round = 0; round < Rounds; round++)
            for (int i = 1; i <= Offenders; i++)
                await PublishAsync(devices[i - 1], Device(i),
                    Fix(round + 1, start.AddSeconds(5 * round), i), ct);

        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            cts.CancelAfter(TimeSpan.FromSeconds(60));
            JsonElement breach;
            try { breach = await NextBreachAsync(alerts, cts.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new Xunit.Sdk.XunitException("no breach alert; node logs:\n" + _rig.Logs);
            }
            Assert.Equal("off-1", breach.GetProperty("offenderId").GetString());
            Assert.Equal("ban-home", breach.GetProperty("banId").GetString());
        }
        // Exactly once: no node publishes it again. A quiet period is the only way to see an absence.
        using (var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            quiet.CancelAfter(TimeSpan.FromSeconds(5));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => NextBreachAsync(alerts, quiet.Token));
        }

        // The shared subscription spread the devices' messages over more than one node.
        var handled = new List<double>();
        foreach (var node in _rig.Nodes) handled.Add(FixesHandled(await node.MetricsAsync(ct)));
        Assert.True(handled.Count(h => h > 0) >= 2, "fixes handled per node: " + string.Join(", ", handled));
        Assert.Equal(Rounds * Offenders, handled.Sum());
    }

    private static async Task<JsonElement> NextBreachAsync(Channel<(string Topic, string Payload)> alerts, CancellationToken ct)
    {
        while (true)
        {
            var (_, payload) = await alerts.Reader.ReadAsync(ct);
            var alert = JsonDocument.Parse(payload).RootElement;
            if (alert.TryGetProperty("type", out var t) && t.GetString() == "ExclusionZoneBreach") return alert;
        }
    }

    private static async Task PublishAsync(IMqttClient device, string id, string payload, CancellationToken ct)
    {
        var result = await device.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"proximity/v1/devices/{id}/position").WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);
        Assert.True(result.IsSuccess, result.ReasonCode.ToString());
    }
}
