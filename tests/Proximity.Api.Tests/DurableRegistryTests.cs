using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Proximity.Api.Alerts;
using Proximity.Api.Auth;
using Proximity.Api.Registry;
using Proximity.Grains.Durability;
using Proximity.Grains.Registry;
using Proximity.Ingest.Tests;
using Proximity.Protocol;
using Proximity.Server.Api;
using Proximity.Spatial.Monitoring;
using Proximity.Storage;
using Proximity.Storage.Export;
using Proximity.Storage.Tests;

namespace Proximity.Api.Tests;

/// <summary>
/// Production mode (<c>--storage postgres</c>) keeps the registry in PostgreSQL: the case file is imported into it once,
/// every node loads the grains' registry from it, and a ban created through one node's API reaches the others.
/// </summary>
public sealed class DurableRegistryTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    // No bans in the file: the one enforced below is created through the API.
    private const string Case = """
        {
          "offenders": [{"id": "O1", "devices": [{"id": "A1", "secret": "ankle-secret"}]}],
          "victims": [{"id": "V1", "devices": [{"id": "P1", "secret": "phone-secret"}]}],
          "bans": [
            {"id": "z1", "type": "exclusion", "offenderId": "O1", "warningBufferMeters": 100,
             "area": {"type": "Polygon", "coordinates": [[[4.88,52.36],[4.90,52.36],[4.90,52.38],[4.88,52.38],[4.88,52.36]]]}}
          ]
        }
        """;

    [Fact]
    public async Task A_second_start_with_the_same_case_changes_nothing_and_the_export_holds_the_case()
    {
        string connection = await postgres.Server.CreateDatabaseAsync(migrate: true);
        var storage = new StorageChoice(true, connection, false);
        var (first, _) = await DurableRegistry.LoadAsync(storage, CaseFile.Parse(Case), 1000, Ct);
        var counts = await CountsAsync(connection);
        var (second, _) = await DurableRegistry.LoadAsync(storage, CaseFile.Parse(Case), 1000, Ct);

        Assert.Equal(counts, await CountsAsync(connection));
        Assert.Equal((1L, 1L, 2L, 2L), counts); // bans, ban versions, people, devices
        foreach (var loaded in new[] { first, second })
        {
            // Only hashes are stored; the secrets of the case file still open the broker.
            var live = new ProximityRegistry(loaded, 1000);
            Assert.NotNull(live.Authenticate("A1", "ankle-secret"));
            Assert.Null(live.Authenticate("A1", "phone-secret"));
            Assert.Equal(["z1"], live.BansOf("O1").Select(b => b.Id));
        }

        string dir = Path.Combine(Path.GetTempPath(), "proximity-export-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var database = ProximityDatabase.Open(connection);
            await new CaseExporter(database).ExportAsync("O1", dir, cancellationToken: Ct);
            string[] Ids(string file) => File.ReadAllLines(Path.Combine(dir, file))
                .Select(l => JsonDocument.Parse(l).RootElement.GetProperty(file == "bans.ndjson" ? "ban_id" : "id").GetString()!).ToArray();
            Assert.Equal(["O1"], Ids("people.ndjson")); // no contact ban: the victim is not part of this offender's case
            Assert.Equal(["A1"], Ids("devices.ndjson"));
            Assert.Equal(["z1"], Ids("bans.ndjson"));
            Assert.DoesNotContain("secret", File.ReadAllText(Path.Combine(dir, "devices.ndjson")), StringComparison.OrdinalIgnoreCase);
            Assert.Empty(await CaseExporter.VerifyAsync(dir, Ct));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_ban_created_through_another_nodes_api_is_enforced_here_and_after_a_restart()
    {
        string connection = await postgres.Server.CreateDatabaseAsync(migrate: true);
        var storage = new StorageChoice(true, connection, false);

        await using (var node = await LiveNode.StartAsync(CaseFile.Parse(Case), storage))
        {
            // Another node's API (same database): its change reaches this node by the ban table, not by an event.
            await using (var other = await ApiHost.StartAsync(new Dictionary<string, string?>
            {
                ["Proximity:Storage"] = "postgres", ["Proximity:ConnectionString"] = connection,
            }))
            {
                await other.Registry.SaveOffenderAsync((await other.Registry.OffenderAsync("O1"))! with { CaseOfficer = "po1" }, null);
                using var po = other.Client(Roles.ProbationOfficer, "po1");
                var created = await po.PostAsJsonAsync("/api/bans", new BanRequest
                {
                    Id = "c1", Type = "contact", OffenderId = "O1", VictimId = "V1", LegalBasis = LegalBasis.Article38vSr,
                    IssuingAuthority = "Rechtbank Amsterdam", CaseReference = "13/1", MinDistanceMeters = 500, WarningDistanceMeters = 1000,
                }, Ct);
                Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync(Ct));
            }
            await BreachIsRaisedAsync(node, "c1", 100, 1);

            // Through this node's own API: a 50 m ban, not breached at 100 m.
            using var own = new HttpClient { BaseAddress = node.Address };
            own.DefaultRequestHeaders.Authorization = new("Bearer", ApiHost.Token(Roles.ProbationOfficer, "po1"));
            Assert.Equal(HttpStatusCode.Created, (await own.PostAsJsonAsync("/api/bans", Close("c2"), Ct)).StatusCode);
        }

        // The restarted node imports the same case again: nothing new; the API's bans are still enforced (the open
        // c1 episode continues in the grain's stored state, so the proof is a first c2 breach).
        long versions = (await CountsAsync(connection)).Versions;
        await using (var restarted = await LiveNode.StartAsync(CaseFile.Parse(Case), storage))
        {
            Assert.Equal(versions, (await CountsAsync(connection)).Versions);
            Assert.Equal(["c1", "c2", "z1"], (await restarted.Registry.BansAsync("O1")).Select(b => b.Id));
            await BreachIsRaisedAsync(restarted, "c2", 20, 1000);
        }
    }

    private static BanRequest Close(string id) => new()
    {
        Id = id, Type = "contact", OffenderId = "O1", VictimId = "V1", LegalBasis = LegalBasis.Article38vSr,
        IssuingAuthority = "Rechtbank Amsterdam", CaseReference = "13/2", MinDistanceMeters = 50, WarningDistanceMeters = 0,
    };

    private static async Task<(long Bans, long Versions, long People, long Devices)> CountsAsync(string connection)
    {
        await using var data = NpgsqlDataSource.Create(connection);
        await using var cmd = data.CreateCommand(
            "SELECT (SELECT count(*) FROM ban), (SELECT count(*) FROM ban_version), (SELECT count(*) FROM person), (SELECT count(*) FROM device)");
        await using var r = await cmd.ExecuteReaderAsync(Ct);
        await r.ReadAsync(Ct);
        return (r.GetInt64(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3));
    }

    /// <summary>The victim's phone and the ankle monitor <paramref name="meters"/> from it until <paramref name="banId"/>'s breach is raised.</summary>
    private static async Task BreachIsRaisedAsync(LiveNode node, string banId, double meters, long firstSeq)
    {
        await using var phone = await MqttTestClient.ConnectAsync(node.MqttPort, "P1", "phone-secret");
        await using var ankle = await MqttTestClient.ConnectAsync(node.MqttPort, "A1", "ankle-secret");
        var alerts = node.App.Services.GetRequiredService<IAlertDirectory>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long seq = firstSeq;
        while (true)
        {
            // Fresh fixes each round: the ban may arrive (by polling) after the first ones were judged.
            var t = DateTimeOffset.UtcNow.AddSeconds(-2);
            await phone.PublishAsync("proximity/v1/devices/P1/position", MqttTestClient.Fix(seq, t, 0));
            await ankle.PublishAsync("proximity/v1/devices/A1/position", MqttTestClient.Fix(seq, t.AddMilliseconds(500), meters));
            seq++;
            var raised = await alerts.ListAsync(new AlertFilter { OffenderId = "O1" });
            if (raised.Any(a => a.Alert.Type == AlertType.ContactBanBreach && a.Alert.BanId == banId)) return;
            Assert.True(DateTime.UtcNow < deadline, "no contact-ban breach raised within 60 s; alerts: " +
                string.Join(", ", raised.Select(a => a.Alert.Id)));
            await Task.Delay(500, Ct);
        }
    }
}
