using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
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
public sealed partial class ThreeNodeClusterTests : IAsyncLifetime
{
    private const int Offenders = 6;
    private const int Rounds = 5;

    private readonly ProductionBroker _broker = new()
    {
        ExtraUsers = ClusterCase.Users(Offenders),
    };
    private PostgresServer? _postgres;
    private readonly List<ClusterNode> _nodes = [];
    private readonly List<IMqttClient> _clients = [];
    private readonly string _dir = Directory.CreateTempSubdirectory("proximity-cluster-").FullName;

    public async ValueTask InitializeAsync()
    {
        await _broker.InitializeAsync();
        _postgres = await PostgresServer.StartAsync();
    }

    private static string Fix(long seq, DateTime ts, double lat, double lon) => string.Create(CultureInfo.InvariantCulture,
        $$"""{"seq":{{seq}},"ts":"{{ts:yyyy-MM-ddTHH:mm:ss.fffZ}}","lat":{{lat}},"lon":{{lon}},"acc":5,"src":"gps"}""");

    [Fact]
    public async Task Three_nodes_on_postgres_and_mosquitto_form_one_cluster_share_the_devices_and_raise_the_breach_once()
    {
        var ct = TestContext.Current.CancellationToken;
        var (database, clusterId) = await ClusterCase.StartThreeNodesAsync(_postgres!, _broker, _dir, Offenders, _nodes, ct);

        // The control room on the alert feed, over TLS, as the production ACL's integration user.
        var alerts = Channel.CreateUnbounded<(string Topic, string Payload)>();
        var integration = await ConnectAsync(_broker.TlsClient(ProductionBroker.IntegrationUser), ct);
        integration.ApplicationMessageReceivedAsync += e =>
        {
            alerts.Writer.TryWrite((e.ApplicationMessage.Topic, e.ApplicationMessage.ConvertPayloadToString()));
            return Task.CompletedTask;
        };
        await integration.SubscribeAsync(new MqttClientSubscribeOptionsBuilder()
            .WithTopicFilter("proximity/v1/alerts/#", MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);

        // off-1 stays in its exclusion zone (one breach); the others report far away from it.
        var devices = new List<IMqttClient>();
        for (int i = 1; i <= Offenders; i++) devices.Add(await ConnectAsync(_broker.TlsClient(Device(i), Secret(i)), ct));
        var start = DateTime.UtcNow.AddSeconds(-30);
        for (int round = 0; round < Rounds; round++)
            for (int i = 1; i <= Offenders; i++)
                await PublishAsync(devices[i - 1], Device(i),
                    i == 1 ? Fix(round + 1, start.AddSeconds(5 * round), 52.09, 5.12) : Fix(round + 1, start.AddSeconds(5 * round), 52.20 + i * 0.01, 5.30), ct);

        using (var cts = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            cts.CancelAfter(TimeSpan.FromSeconds(60));
            JsonElement breach;
            try { breach = await NextBreachAsync(alerts, cts.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new Xunit.Sdk.XunitException("no breach alert; node logs:\n" + string.Join("\n----\n", _nodes.Select(n => n.Log)));
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
        foreach (var node in _nodes) handled.Add(FixesHandled(await node.MetricsAsync(ct)));
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

    private async Task<IMqttClient> ConnectAsync(MqttClientOptions options, CancellationToken ct)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        _clients.Add(client);
        await client.ConnectAsync(options, ct);
        return client;
    }

    private static async Task PublishAsync(IMqttClient device, string id, string payload, CancellationToken ct)
    {
        var result = await device.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic($"proximity/v1/devices/{id}/position").WithPayload(payload)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), ct);
        Assert.True(result.IsSuccess, result.ReasonCode.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _clients) c.Dispose();
        foreach (var node in _nodes) await node.DisposeAsync();
        if (_postgres is not null) await _postgres.DisposeAsync();
        await _broker.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [GeneratedRegex(@"\norleans_consistent_ring_size\{[^}]*\} 3\n")]
    internal static partial Regex RingSize();

    [GeneratedRegex(@"\nproximity_ingest_fixes_total\{[^}]*\} ([0-9.e+]+)")]
    private static partial Regex FixesCounter();

    /// <summary>Fixes this node's ingest handed to the grains (its share of the shared subscription).</summary>
    internal static double FixesHandled(string metrics) =>
        FixesCounter().Matches(metrics).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));
}
