using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Proximity.Api.Auth;
using Proximity.Api.Registry;

namespace Proximity.Api.Tests;

/// <summary>Bans, people and devices through the API; the same cases run against both registries.</summary>
public class BanTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync(await SettingsAsync());
        await Seed.CaseAsync(_host);
    }

    /// <summary>The host's settings: none, the in-memory registry.</summary>
    protected virtual Task<IDictionary<string, string?>?> SettingsAsync() => Task.FromResult<IDictionary<string, string?>?>(null);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Create_amend_end_keeps_every_version_and_tells_the_decision_core()
    {
        var changes = new List<(string Offender, int Count, int? Version)>();
        _host.Registry.BansChanged += (o, bans) => { lock (changes) changes.Add((o, bans.Count, bans.FirstOrDefault(b => b.Id == "ban-x")?.Version)); };
        using var po = _host.Client(Roles.ProbationOfficer, "po1");

        var created = await po.PostAsJsonAsync("/api/bans", Seed.ZoneBan() with { Id = "ban-x" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/bans/ban-x", created.Headers.Location?.OriginalString);

        var amended = await po.PutAsJsonAsync("/api/bans/ban-x?expectedVersion=1", Seed.ZoneBan() with { WarningBufferMeters = 400, Note = "court order 2" }, Ct);
        var v2 = await amended.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(2, v2.GetProperty("version").GetInt32());
        Assert.Equal(400, v2.GetProperty("warningBufferMeters").GetDouble());

        var stale = await po.PutAsJsonAsync("/api/bans/ban-x?expectedVersion=1", Seed.ZoneBan(), Ct);
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);

        var ended = await po.PostAsJsonAsync("/api/bans/ban-x/end", new { reason = "revoked by the court" }, Ct);
        var v3 = await ended.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Ended", v3.GetProperty("status").GetString());
        Assert.Equal(3, v3.GetProperty("version").GetInt32());

        var history = await po.GetFromJsonAsync<JsonElement>("/api/bans/ban-x/history", Ct);
        Assert.Equal([1, 2, 3], history.EnumerateArray().Select(v => v.GetProperty("version").GetInt32()).ToArray());
        Assert.Equal(HttpStatusCode.Conflict, (await po.PutAsJsonAsync("/api/bans/ban-x", Seed.ZoneBan(), Ct)).StatusCode);

        // The core sees each version; the ended one is out of force from now on.
        lock (changes) Assert.Equal([1, 2, 3], changes.Where(c => c.Offender == "off-1").Select(c => c.Version ?? 0).ToArray());
        var core = (await _host.Registry.BanAsync("ban-x"))!.Core;
        Assert.False(core.IsInForce(DateTimeOffset.UtcNow.AddSeconds(1)));

        var audit = await _host.Audit.QueryAsync(new Audit.AuditQuery { Subject = "ban/ban-x" });
        Assert.Equal(["ban-create", "ban-amend", "ban-end"], audit.Select(a => a.Action).Reverse().ToArray());
    }

    [Fact]
    public async Task Place_lookup_follows_bans_as_they_are_created_and_ended()
    {
        using var po = _host.Client(Roles.ProbationOfficer, "po1");
        using var police = _host.Client(Roles.PoliceOfficer, "agent");
        async Task<string[]> At() => (await police.GetFromJsonAsync<JsonElement>("/api/lookup/place?lat=52.2000&lon=5.0000", Ct))
            .GetProperty("bans").EnumerateArray().Select(b => b.GetProperty("ban").GetProperty("id").GetString()!).ToArray();

        Assert.Empty(await At());
        const string circle = """{"type":"Circle","center":[5.0,52.2],"radiusMeters":300}""";
        Assert.Equal(HttpStatusCode.Created, (await po.PostAsJsonAsync("/api/bans", Seed.ZoneBan(area: circle) with { Id = "ban-place" }, Ct)).StatusCode);
        Assert.Equal(["ban-place"], await At());
        Assert.Equal(HttpStatusCode.OK, (await po.PostAsJsonAsync("/api/bans/ban-place/end", new { reason = "revoked" }, Ct)).StatusCode);
        Assert.Empty(await At());
    }

    [Theory]
    [InlineData("""{"type":"Polygon","coordinates":[[[4.88,52.36],[4.89,52.36],[4.89,52.37],[4.88,52.37]]]}""", "not closed")]
    [InlineData("""{"type":"Polygon","coordinates":[[[4.88,52.36],[4.89,52.37],[4.89,52.36],[4.88,52.37],[4.88,52.36]]]}""", "invalid polygon")]
    [InlineData("""{"type":"Point","coordinates":[4.88,52.36]}""", "Polygon, MultiPolygon or Circle")]
    [InlineData("""{"type":"Circle","center":[4.88,52.36],"radiusMeters":-5}""", "radiusMeters")]
    public async Task Invalid_geojson_is_refused_with_a_problem_detail_and_nothing_changes(string area, string expected)
    {
        using var po = _host.Client(Roles.ProbationOfficer, "po1");
        var before = (await _host.Registry.BansAsync()).Count;
        var response = await po.PostAsJsonAsync("/api/bans", Seed.ZoneBan(area: area), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal(before, (await _host.Registry.BansAsync()).Count);
    }

    [Fact]
    public async Task Missing_court_particulars_and_malformed_json_are_problem_details()
    {
        using var po = _host.Client(Roles.ProbationOfficer, "po1");
        var bare = await po.PostAsJsonAsync("/api/bans", new { type = "contact", offenderId = "off-1", victimId = "vic-1", minDistanceMeters = 500 }, Ct);
        var detail = (await bare.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("detail").GetString()!;
        Assert.Contains("legalBasis is required", detail, StringComparison.Ordinal);
        Assert.Contains("issuingAuthority is required", detail, StringComparison.Ordinal);
        Assert.Contains("caseReference is required", detail, StringComparison.Ordinal);

        using var content = new StringContent("{\"type\": \"contact\",", System.Text.Encoding.UTF8, "application/json");
        var broken = await po.PostAsync("/api/bans", content, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, broken.StatusCode);
        Assert.Equal("application/problem+json", broken.Content.Headers.ContentType?.MediaType);

        var unknownVictim = await po.PostAsJsonAsync("/api/bans", Seed.ContactBan() with { VictimId = "vic-404" }, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, unknownVictim.StatusCode);
    }

    [Fact]
    public async Task Feasibility_warns_about_close_homes_small_distances_and_zones_over_the_offenders_home()
    {
        using var po = _host.Client(Roles.ProbationOfficer, "po1");
        await _host.Registry.SaveOffenderAsync((await _host.Registry.OffenderAsync("off-1"))! with
        {
            Home = new Place(52.3600, 4.9000), Work = new Place(52.3000, 4.7000),
        }, null);

        async Task<string[]> Codes(BanRequest draft)
        {
            var response = await po.PostAsJsonAsync("/api/bans/feasibility", draft, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>(Ct);
            foreach (var w in json.GetProperty("warnings").EnumerateArray()) Assert.False(string.IsNullOrWhiteSpace(w.GetProperty("message").GetString()));
            return json.GetProperty("warnings").EnumerateArray().Select(w => w.GetProperty("code").GetString()!).Order().ToArray();
        }

        // Homes ~1.3 km apart, 100 m minimum distance, 150 m warning distance.
        Assert.Equal(["DistanceBelowGpsError", "HomesClose", "WarningMarginSmall"],
            await Codes(Seed.ContactBan() with { MinDistanceMeters = 100, WarningDistanceMeters = 150 }));
        // A sound contact ban for homes far apart: no warnings (the victim's home is already an exclusion zone).
        await _host.Registry.SaveOffenderAsync((await _host.Registry.OffenderAsync("off-1"))! with { Home = new Place(52.0900, 5.1200) }, null);
        Assert.Empty(await Codes(Seed.ContactBan()));

        // An exclusion zone over the offender's own work, and one 60 m wide.
        const string overWork = """{"type":"Circle","center":[4.7000,52.3000],"radiusMeters":400}""";
        Assert.Equal(["ZoneOverlapsOffenderWork"], await Codes(Seed.ZoneBan(area: overWork)));
        const string narrow = """{"type":"Polygon","coordinates":[[[4.8000,52.4000],[4.8300,52.4000],[4.8300,52.40054],[4.8000,52.40054],[4.8000,52.4000]]]}""";
        Assert.Equal(["ZoneNarrow"], await Codes(Seed.ZoneBan(area: narrow)));
        // Feasibility stores nothing.
        Assert.Equal(2, (await _host.Registry.BansAsync("off-1")).Count);
    }

    [Fact]
    public async Task Devices_register_assign_rotate_and_retire()
    {
        using var admin = _host.Client(Roles.Admin, "admin");
        var created = await (await admin.PostAsJsonAsync("/api/devices", new { id = "dev-new", kind = "VictimDevice" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        string secret = created.GetProperty("secret").GetString()!;
        Assert.True(await _host.Registry.VerifyDeviceSecretAsync("dev-new", secret));
        Assert.False(await _host.Registry.VerifyDeviceSecretAsync("dev-new", secret + "x"));

        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/devices/dev-new/assign", new { personId = "off-1" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync("/api/devices/dev-new/assign", new { personId = "vic-1" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsJsonAsync("/api/devices", new { id = "dev-new", kind = "VictimDevice" }, Ct)).StatusCode);

        var rotated = await (await admin.PostAsync("/api/devices/dev-new/rotate-secret", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        string secret2 = rotated.GetProperty("secret").GetString()!;
        Assert.False(await _host.Registry.VerifyDeviceSecretAsync("dev-new", secret));
        Assert.True(await _host.Registry.VerifyDeviceSecretAsync("dev-new", secret2));

        var listed = await admin.GetStringAsync("/api/devices", Ct);
        Assert.DoesNotContain(secret2, listed, StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync("/api/devices/dev-new/retire", null, Ct)).StatusCode);
        Assert.False(await _host.Registry.VerifyDeviceSecretAsync("dev-new", secret2));
        Assert.Equal(HttpStatusCode.Conflict, (await admin.PostAsync("/api/devices/dev-new/retire", null, Ct)).StatusCode);
    }
}

/// <summary>The same cases with <c>Proximity:Storage=postgres</c>: the registry is <see cref="Storage.PostgresRegistry"/> on a real PostgreSQL.</summary>
public sealed class PostgresBanTests(Proximity.Storage.Tests.PostgresFixture postgres) : BanTests, IClassFixture<Proximity.Storage.Tests.PostgresFixture>
{
    protected override async Task<IDictionary<string, string?>?> SettingsAsync() => new Dictionary<string, string?>
    {
        ["Proximity:Storage"] = "postgres",
        ["Proximity:ConnectionString"] = await postgres.Server.CreateDatabaseAsync(migrate: true),
        ["Proximity:SecretHashIterations"] = "1000",
    };
}
