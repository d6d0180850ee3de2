using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using MQTTnet;
using Proximity.Storage.Tests;

namespace Proximity.Deploy.Tests;

/// <summary>The case the cluster tests load: offenders off-1…off-N with one ankle monitor each; off-1 has an
/// exclusion zone (a 300 m circle), the others only add traffic for the shared subscription to spread.</summary>
internal static partial class ClusterCase
{
    public static readonly double[] ZoneCenter = [5.12, 52.09];

    public static string Device(int i) => $"dev-o{i}";

    public static string Secret(int i) => $"secret-o{i}";

    public static string Offender(int i) => $"off-{i}";

    /// <summary>The devices' broker accounts.</summary>
    public static Dictionary<string, string> Users(int offenders) => Enumerable.Range(1, offenders).ToDictionary(Device, Secret);

    public static string Json(int offenders) => JsonSerializer.Serialize(new
    {
        offenders = Enumerable.Range(1, offenders).Select(i => new { id = Offender(i), devices = new[] { new { id = Device(i), secret = Secret(i) } } }),
        victims = Array.Empty<object>(),
        bans = new[]
        {
            new
            {
                id = "ban-home", type = "exclusion", offenderId = Offender(1),
                area = new { type = "Circle", center = ZoneCenter, radiusMeters = 300 },
                validFrom = "2026-01-01T00:00:00Z",
            },
        },
    });

    /// <summary>A fix of offender i's ankle monitor: off-1 inside its zone, the others far from it.</summary>
    public static string Fix(long seq, DateTime ts, int offender) => string.Create(CultureInfo.InvariantCulture,
        $$"""{"seq":{{seq}},"ts":"{{ts:yyyy-MM-ddTHH:mm:ss.fffZ}}","lat":{{(offender == 1 ? 52.09 : 52.20 + offender * 0.01)}},"lon":{{(offender == 1 ? 5.12 : 5.30)}},"acc":5,"src":"gps"}""");

    /// <summary>Fixes this node's ingest handed to the grains (its share of the shared subscription).</summary>
    public static double FixesHandled(string metrics) =>
        FixesCounter().Matches(metrics).Sum(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"\norleans_consistent_ring_size\{[^}]*\} 3\n")]
    private static partial Regex RingSize();

    [GeneratedRegex(@"\nproximity_ingest_fixes_total\{[^}]*\} ([0-9.e+]+)")]
    private static partial Regex FixesCounter();

    /// <summary>
    /// What both cluster tests run on: the production Mosquitto with the devices' accounts, a private PostgreSQL,
    /// three <c>proximity run</c> nodes and the test's MQTT clients, all gone when it is disposed.
    /// </summary>
    public sealed class Rig(int offenders, string name) : IAsyncLifetime
    {
        private readonly List<IMqttClient> _clients = [];
        private readonly string _dir = Directory.CreateTempSubdirectory($"proximity-{name}-").FullName;
        private PostgresServer? _postgres;

        public ProductionBroker Broker { get; } = new() { ExtraUsers = Users(offenders) };
        public List<ClusterNode> Nodes { get; } = [];

        public async ValueTask InitializeAsync()
        {
            await Broker.InitializeAsync();
            _postgres = await PostgresServer.StartAsync();
        }

        /// <summary>
        /// Writes the case, starts three nodes on a fresh database behind the broker and waits until they are ready
        /// and form one ring (membership in PostgreSQL).
        /// </summary>
        public async Task<(string Database, string ClusterId)> StartThreeNodesAsync(CancellationToken ct)
        {
            string database = await _postgres!.CreateDatabaseAsync(migrate: false);
            string casePath = Path.Combine(_dir, "case.json");
            await File.WriteAllTextAsync(casePath, Json(offenders), ct);
            string signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
            string clusterId = "proximity-test-" + Guid.NewGuid().ToString("N")[..8];
            for (int n = 1; n <= 3; n++)
                Nodes.Add(new ClusterNode($"node-{n}", casePath, database, Broker.InternalPort, clusterId, signingKey));
            foreach (var node in Nodes) await node.PollAsync("/health/ready", (r, _) => r.IsSuccessStatusCode, ct);
            foreach (var node in Nodes) await node.PollAsync("/metrics", (r, body) => r.IsSuccessStatusCode && RingSize().IsMatch(body), ct);
            return (database, clusterId);
        }

        /// <summary>A connected MQTT client, disposed with the rig.</summary>
        public async Task<IMqttClient> ConnectAsync(MqttClientOptions options, CancellationToken ct)
        {
            var client = new MqttClientFactory().CreateMqttClient();
            _clients.Add(client);
            await client.ConnectAsync(options, ct);
            return client;
        }

        /// <summary>Every node's log, for a failure message.</summary>
        public string Logs => string.Join("\n----\n", Nodes.Select(n => n.Log));

        public async ValueTask DisposeAsync()
        {
            foreach (var c in _clients) c.Dispose();
            foreach (var node in Nodes) await node.DisposeAsync();
            if (_postgres is not null) await _postgres.DisposeAsync();
            await Broker.DisposeAsync();
            try { Directory.Delete(_dir, true); } catch (IOException) { }
        }
    }
}
