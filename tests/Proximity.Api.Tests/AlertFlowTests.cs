using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Proximity.Api.Auth;

namespace Proximity.Api.Tests;

public sealed class AlertFlowTests : IAsyncLifetime
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
    public async Task Lifecycle_runs_open_acknowledged_dispatched_resolved_and_refuses_other_orders()
    {
        using var op = _host.Client(Roles.PoliceControlRoom, "meldkamer-3");
        string id = Uri.EscapeDataString(await Seed.RaiseAsync(_host, "b1:ContactBanBreach:20261123T140509.250Z"));
        Assert.Equal(HttpStatusCode.BadRequest, (await op.PostAsJsonAsync($"/api/alerts/{id}/resolve", new { reason = " " }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await op.PostAsJsonAsync($"/api/alerts/{id}/dispatch", new { }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsync($"/api/alerts/{id}/acknowledge", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsync($"/api/alerts/{id}/acknowledge", null, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await op.PostAsJsonAsync($"/api/alerts/{id}/dispatch", new { unit = "AM-12" }, Ct)).StatusCode);
        var resolved = await (await op.PostAsJsonAsync($"/api/alerts/{id}/resolve", new { reason = "unit on site, victim safe" }, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal("Resolved", resolved.GetProperty("state").GetString());
        Assert.Equal(["acknowledged", "dispatched", "resolved"], resolved.GetProperty("actions").EnumerateArray().Select(a => a.GetProperty("action").GetString()!).ToArray());
        Assert.All(resolved.GetProperty("actions").EnumerateArray(), a => Assert.Equal("meldkamer-3", a.GetProperty("user").GetString()));
        Assert.Equal(HttpStatusCode.Conflict, (await op.PostAsJsonAsync($"/api/alerts/{id}/dispatch", new { unit = "AM-13" }, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await op.PostAsync("/api/alerts/nope/acknowledge", null, Ct)).StatusCode);

        var bogus = await op.GetAsync("/api/alerts?state=Bogus", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bogus.StatusCode);
        Assert.Equal("application/problem+json", bogus.Content.Headers.ContentType?.MediaType);

        var filtered = await op.GetFromJsonAsync<JsonElement>("/api/alerts?state=Resolved&minSeverity=Critical", Ct);
        Assert.Contains(filtered.EnumerateArray(), a => a.GetProperty("id").GetString() == Uri.UnescapeDataString(id));
        Assert.DoesNotContain(filtered.EnumerateArray(), a => a.GetProperty("id").GetString() == "seed-alert");
    }

    [Fact]
    public async Task Stream_sends_open_alerts_then_each_change()
    {
        using var centre = _host.Client(Roles.MonitoringCentre, "op1");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        using var stream = await EventStream.OpenAsync(centre, cts.Token);

        var first = await stream.NextAsync();
        Assert.Equal(("snapshot", "seed-alert"), (first.Event, first.Data.GetProperty("id").GetString()));
        Assert.Equal("ready", (await stream.NextAsync()).Event);
        var monitoring = await stream.NextAsync(); // a node without the live pipeline does not know whether devices are heard
        Assert.Equal(("monitoring", "Unknown"), (monitoring.Event, monitoring.Data.GetProperty("deviceFeed").GetString()));

        await Seed.RaiseAsync(_host, "live-1", police: false);
        var raised = await stream.NextAsync();
        Assert.Equal(("raised", "live-1", "Critical"), (raised.Event, raised.Data.GetProperty("id").GetString(), raised.Data.GetProperty("severity").GetString()));

        await centre.PostAsync("/api/alerts/live-1/acknowledge", null, cts.Token);
        var ack = await stream.NextAsync();
        Assert.Equal(("acknowledged", "Acknowledged"), (ack.Event, ack.Data.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Stream_of_the_police_control_room_skips_alerts_not_routed_to_the_police()
    {
        using var police = _host.Client(Roles.PoliceControlRoom);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        using var stream = await EventStream.OpenAsync(police, cts.Token);
        var ids = new List<string>();
        await Seed.RaiseAsync(_host, "not-for-police", police: false);
        await Seed.RaiseAsync(_host, "for-police", police: true);
        while (ids.LastOrDefault() != "for-police")
            if ((await stream.NextAsync()).Data.TryGetProperty("id", out var id)) ids.Add(id.GetString()!);
        Assert.Equal(["seed-alert", "for-police"], ids);
    }
}
