using System.Security.Cryptography;
using System.Text.Json;
using Proximity.Storage.Tests;

namespace Proximity.Deploy.Tests;

/// <summary>The case the cluster tests load: offenders off-1…off-N with one ankle monitor each; off-1 has an
/// exclusion zone (a 300 m circle), the others only add traffic for the shared subscription to spread.</summary>
internal static class ClusterCase
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

    /// <summary>
    /// Writes the case, starts three nodes on a fresh database behind <paramref name="broker"/> (added to
    /// <paramref name="nodes"/> as they start, for disposal) and waits until they are ready and form one ring.
    /// </summary>
    public static async Task<(string Database, string ClusterId)> StartThreeNodesAsync(
        PostgresServer postgres, ProductionBroker broker, string dir, int offenders, List<ClusterNode> nodes, CancellationToken ct)
    {
        string database = await postgres.CreateDatabaseAsync(migrate: false);
        string casePath = Path.Combine(dir, "case.json");
        await File.WriteAllTextAsync(casePath, Json(offenders), ct);
        string signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(48));
        string clusterId = "proximity-test-" + Guid.NewGuid().ToString("N")[..8];
        for (int n = 1; n <= 3; n++)
            nodes.Add(new ClusterNode($"node-{n}", casePath, database, broker.InternalPort, clusterId, signingKey));
        foreach (var node in nodes) await node.PollAsync("/health/ready", (r, _) => r.IsSuccessStatusCode, ct);
        // Every node sees the same ring of three silos (membership in PostgreSQL).
        foreach (var node in nodes) await node.PollAsync("/metrics", (r, body) => r.IsSuccessStatusCode && ThreeNodeClusterTests.RingSize().IsMatch(body), ct);
        return (database, clusterId);
    }
}
