using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Proximity.Api.Audit;
using Proximity.Api.Auth;

namespace Proximity.Api.Tests;

/// <summary>The data rules: victim positions, caseloads, police routing, reasons and audit records.</summary>
public sealed class PrivacyTests : IAsyncLifetime
{
    private ApiHost _host = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _host = await ApiHost.StartAsync();
        await Seed.CaseAsync(_host);
    }

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    [Fact]
    public async Task Victim_position_is_visible_to_control_rooms_only_while_an_alert_about_the_victim_is_open()
    {
        using var centre = _host.Client(Roles.MonitoringCentre, "op1");
        Assert.Equal(HttpStatusCode.OK, (await centre.GetAsync("/api/victims/vic-1/position?reason=alert+handling", Ct)).StatusCode);

        // Resolve every open alert about the victim: the position is no longer shown, and the refusal is audited.
        foreach (var a in await _host.Alerts.ListAsync(new Alerts.AlertFilter { VictimId = "vic-1", Open = true }))
            await _host.Alerts.ResolveAsync(a.Alert.Id, "op1", "test over");
        var refused = await centre.GetAsync("/api/victims/vic-1/position?reason=curiosity", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("only while an alert about that victim is open", await refused.Content.ReadAsStringAsync(Ct));
        var audit = await _host.Audit.QueryAsync(new AuditQuery { Subject = "victim/vic-1", Action = "position-refused" });
        Assert.Equal("curiosity", Assert.Single(audit).Reason);

        // A new alert opens it again.
        await Seed.RaiseAsync(_host, "again", police: true);
        Assert.Equal(HttpStatusCode.OK, (await centre.GetAsync("/api/victims/vic-1/position?reason=alert+again", Ct)).StatusCode);
    }

    [Fact]
    public async Task Police_control_room_sees_only_alerts_routed_to_the_police()
    {
        foreach (var a in await _host.Alerts.ListAsync(new Alerts.AlertFilter { Open = true }))
            await _host.Alerts.ResolveAsync(a.Alert.Id, "op1", "reset");
        await Seed.RaiseAsync(_host, "probation-only", police: false);
        using var police = _host.Client(Roles.PoliceControlRoom);
        var list = await police.GetFromJsonAsync<JsonElement>("/api/alerts", Ct);
        Assert.DoesNotContain(list.EnumerateArray(), a => a.GetProperty("id").GetString() == "probation-only");
        Assert.Equal(HttpStatusCode.Forbidden, (await police.GetAsync("/api/alerts/probation-only?reason=x", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await police.PostAsJsonAsync("/api/alerts/probation-only/acknowledge", new { }, Ct)).StatusCode);
        // No open police alert about the victim: the police control room may not see the victim's position.
        Assert.Equal(HttpStatusCode.Forbidden, (await police.GetAsync("/api/victims/vic-1/position?reason=x", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await police.GetAsync("/api/offenders/off-1/position?reason=x", Ct)).StatusCode);

        using var centre = _host.Client(Roles.MonitoringCentre);
        var all = await centre.GetFromJsonAsync<JsonElement>("/api/alerts", Ct);
        Assert.Contains(all.EnumerateArray(), a => a.GetProperty("id").GetString() == "probation-only");
    }

    [Fact]
    public async Task Probation_officer_sees_only_their_own_caseload()
    {
        using var po2 = _host.Client(Roles.ProbationOfficer, "po2");
        var offenders = await po2.GetFromJsonAsync<JsonElement>("/api/offenders", Ct);
        Assert.Equal(["off-2"], offenders.EnumerateArray().Select(o => o.GetProperty("id").GetString()!).ToArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await po2.GetAsync("/api/offenders/off-1", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await po2.GetAsync("/api/offenders/off-1/track?reason=x", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await po2.GetAsync("/api/bans/ban-c1", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await po2.PostAsJsonAsync("/api/bans", Seed.ZoneBan("off-1"), Ct)).StatusCode);
        Assert.Empty((await po2.GetFromJsonAsync<JsonElement>("/api/bans", Ct)).EnumerateArray());
        Assert.Empty((await po2.GetFromJsonAsync<JsonElement>("/api/alerts", Ct)).EnumerateArray());
        Assert.Equal(HttpStatusCode.Forbidden, (await po2.PostAsJsonAsync("/api/devices/dev-o1/retire", new { }, Ct)).StatusCode);
        Assert.Equal(Registry.DeviceStatus.Active, (await _host.Registry.DeviceAsync("dev-o1"))!.Status);

        // Registering an offender puts them in the officer's own caseload.
        var created = await po2.PostAsJsonAsync("/api/offenders", new { id = "off-9", name = "Kees" }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("po2", (await _host.Registry.OffenderAsync("off-9"))!.CaseOfficer);
        Assert.Equal(HttpStatusCode.Forbidden,
            (await po2.PostAsJsonAsync("/api/offenders", new { id = "off-10", name = "X", caseOfficer = "po1" }, Ct)).StatusCode);
    }

    [Fact]
    public async Task Probation_officer_gets_alert_evidence_without_the_victims_position()
    {
        using var po1 = _host.Client(Roles.ProbationOfficer, "po1");
        var detail = await po1.GetFromJsonAsync<JsonElement>("/api/alerts/seed-alert?reason=compliance+review", Ct);
        Assert.True(detail.GetProperty("victimPositionHidden").GetBoolean());
        var fixes = detail.GetProperty("record").GetProperty("alert").GetProperty("evidence").GetProperty("fixes");
        Assert.All(fixes.EnumerateArray(), f => Assert.Equal("offender", f.GetProperty("role").GetString()));

        using var centre = _host.Client(Roles.MonitoringCentre);
        var full = await centre.GetFromJsonAsync<JsonElement>("/api/alerts/seed-alert?reason=handling", Ct);
        Assert.False(full.GetProperty("victimPositionHidden").GetBoolean());
        Assert.Contains(full.GetProperty("record").GetProperty("alert").GetProperty("evidence").GetProperty("fixes").EnumerateArray(),
            f => f.GetProperty("role").GetString() == "victim");

        var map = await po1.GetFromJsonAsync<JsonElement>("/api/alerts/seed-alert/map?reason=compliance+review", Ct);
        Assert.Equal(JsonValueKind.Undefined, map.TryGetProperty("victim", out var v) ? v.ValueKind : JsonValueKind.Undefined);
        Assert.True(map.GetProperty("victimPositionHidden").GetBoolean());
        Assert.Equal(10, map.GetProperty("offender").GetProperty("track").GetArrayLength());
    }

    [Fact]
    public async Task Position_reads_need_a_reason_and_are_audited_with_it()
    {
        using var centre = _host.Client(Roles.MonitoringCentre, "op7");
        var missing = await centre.GetAsync("/api/offenders/off-1/position", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await _host.Audit.QueryAsync(new AuditQuery { User = "op7" }));

        var last = await centre.GetFromJsonAsync<JsonElement>("/api/offenders/off-1/position?reason=check+zone", Ct);
        Assert.Equal(9, last.GetProperty("seq").GetInt64());
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/offenders/off-1/track");
        request.Headers.Add("X-Reason", "court request 13/123456-26");
        var track = await (await centre.SendAsync(request, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(10, track.GetProperty("positions").GetArrayLength());

        var records = await _host.Audit.QueryAsync(new AuditQuery { User = "op7" });
        Assert.Contains(records, r => r.Action == "read-position" && r.Subject == "offender/off-1" && r.Reason == "check zone");
        Assert.Contains(records, r => r.Action == "read-track" && r.Subject == "offender/off-1" && r.Reason == "court request 13/123456-26");
        Assert.All(records, r => Assert.Equal(Roles.MonitoringCentre, r.Roles));

        // The auditor reads them back through the API.
        using var auditor = _host.Client(Roles.Auditor, "aud");
        var log = await auditor.GetFromJsonAsync<JsonElement>("/api/audit?user=op7", Ct);
        Assert.Equal(2, log.GetArrayLength());
    }

    [Fact]
    public async Task Street_lookup_shows_bans_and_protected_person_without_address()
    {
        using var police = _host.Client(Roles.PoliceOfficer, "agent-1");
        var json = await police.GetStringAsync("/api/lookup/person/off-1?reason=traffic+stop", Ct);
        var person = JsonDocument.Parse(json).RootElement;
        var bans = person.GetProperty("bans").EnumerateArray().ToList();
        Assert.Equal(["ban-c1", "ban-z1"], bans.Select(b => b.GetProperty("id").GetString()!).Order().ToArray());
        var contact = bans.Single(b => b.GetProperty("id").GetString() == "ban-c1");
        Assert.Equal("Anna de Vries", contact.GetProperty("protectedPerson").GetProperty("name").GetString());
        Assert.True(contact.GetProperty("inForceNow").GetBoolean());
        Assert.DoesNotContain("52.37,", json.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("home", json, StringComparison.OrdinalIgnoreCase);
        Assert.True(person.GetProperty("monitoringLive").ValueKind is JsonValueKind.True or JsonValueKind.False);

        // By place: inside the zone around the victim's home, the exclusion ban is in force; far away, none.
        var here = await police.GetFromJsonAsync<JsonElement>("/api/lookup/place?lat=52.3700&lon=4.8900", Ct);
        var hit = Assert.Single(here.GetProperty("bans").EnumerateArray());
        Assert.Equal("ban-z1", hit.GetProperty("ban").GetProperty("id").GetString());
        Assert.True(hit.GetProperty("inside").GetBoolean());
        var buffer = await police.GetFromJsonAsync<JsonElement>("/api/lookup/place?lat=52.3740&lon=4.8900", Ct); // ~150 m north of the zone
        Assert.False(Assert.Single(buffer.GetProperty("bans").EnumerateArray()).GetProperty("inside").GetBoolean());
        var far = await police.GetFromJsonAsync<JsonElement>("/api/lookup/place?lat=52.0&lon=5.0", Ct);
        Assert.Empty(far.GetProperty("bans").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await police.GetAsync("/api/lookup/place?lat=95&lon=4.9", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await police.GetAsync("/api/lookup/person/nobody", Ct)).StatusCode);

        var audit = await _host.Audit.QueryAsync(new AuditQuery { User = "agent-1" });
        Assert.Contains(audit, r => r.Action == "lookup-person" && r.Subject == "offender/off-1" && r.Reason == "traffic stop");
        Assert.Contains(audit, r => r.Action == "lookup-place");
    }

    [Fact]
    public async Task Street_police_cannot_see_victims_addresses_or_positions()
    {
        using var police = _host.Client(Roles.PoliceOfficer);
        Assert.Equal(HttpStatusCode.Forbidden, (await police.GetAsync("/api/victims/vic-1", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await police.GetAsync("/api/victims/vic-1/position?reason=x", Ct)).StatusCode);
        var lookup = await police.GetStringAsync("/api/lookup/person/vic-1", Ct);
        Assert.Contains("ban-c1", lookup, StringComparison.Ordinal);
        Assert.DoesNotContain("4.89,", lookup.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
    }
}
