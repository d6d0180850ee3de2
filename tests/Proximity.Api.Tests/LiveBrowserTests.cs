using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Proximity.Api.Auth;
using Proximity.Grains;
using Proximity.Ingest.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

namespace Proximity.Api.Tests;

/// <summary>
/// The whole path as <c>proximity run</c> wires it: devices publish over MQTT to the embedded broker, the grains
/// raise the alert, the control-room page in headless Chromium shows it, the operator acknowledges it there, and
/// the alert grain and the API both show the new state.
/// </summary>
public sealed class LiveBrowserTests : IAsyncLifetime
{
    private LiveNode _node = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly CaseFile Case = new(
        [new PersonSpec("O1", [new DeviceSpec("A1", "ankle-secret")])],
        [new PersonSpec("V1", [new DeviceSpec("P1", "phone-secret")])],
        [new ContactBan { Id = "ban1", OffenderId = "O1", VictimId = "V1", MinDistanceMeters = 500, WarningDistanceMeters = 1000, MonitoringLevel = 3 }],
        []);

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(BrowserTests.ChromiumPath), $"{BrowserTests.ChromiumPath} is missing: run tests/install-services.sh");
        _node = await LiveNode.StartAsync(Case);

        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserTests.ChromiumPath, Headless = true, Timeout = 60_000,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        if (_node is not null) await _node.DisposeAsync();
    }

    [Fact]
    public async Task An_alert_raised_through_mqtt_is_acknowledged_on_the_control_room_page()
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_node.Address, $"control-room.html#token={ApiHost.Token(Roles.PoliceControlRoom, "meldkamer-1")}").ToString());
        await page.Locator("#feed-status[data-status=live]").WaitForAsync();

        // The victim's phone at the reference point, the ankle monitor 100 m east of it: a certain contact-ban breach.
        await using var phone = await MqttTestClient.ConnectAsync(_node.MqttPort, "P1", "phone-secret");
        await using var ankle = await MqttTestClient.ConnectAsync(_node.MqttPort, "A1", "ankle-secret");
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-10);
        await phone.PublishAsync("proximity/v1/devices/P1/position", MqttTestClient.Fix(1, t0, 0));
        for (int i = 1; i <= 5; i++)
            await ankle.PublishAsync("proximity/v1/devices/A1/position", MqttTestClient.Fix(i, t0.AddSeconds(i), 100));

        var row = page.Locator("li[data-alert-id*='ContactBanBreach']");
        await row.WaitForAsync();
        string alertId = (await row.GetAttributeAsync("data-alert-id"))!;
        await row.ClickAsync();
        await page.Locator("#alert-state[data-state=Open]").WaitForAsync();
        await page.Locator("#ack").ClickAsync();
        await page.Locator("#alert-state[data-state=Acknowledged]").WaitForAsync();

        // The alert grain recorded it (the record of the alert), and the API shows it.
        var grain = await _node.App.Services.GetRequiredService<IGrainFactory>().AlertGrain(alertId).Get();
        Assert.Equal(AlertStatus.Acknowledged, grain!.Status);
        Assert.Contains(grain.History, h => h.What == "acknowledged" && h.By == "meldkamer-1");
        using var api = new HttpClient { BaseAddress = _node.Address };
        api.DefaultRequestHeaders.Authorization = new("Bearer", ApiHost.Token(Roles.MonitoringCentre, "checker"));
        var detail = await api.GetFromJsonAsync<JsonElement>($"/api/alerts/{Uri.EscapeDataString(alertId)}?reason=test", Ct);
        Assert.Equal("Acknowledged", detail.GetProperty("record").GetProperty("state").GetString());

        // Acknowledging again is refused by the grain's lifecycle as well.
        var again = await api.PostAsync($"/api/alerts/{Uri.EscapeDataString(alertId)}/acknowledge", null, Ct);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
    }

    [Fact]
    public async Task The_probation_page_shows_how_the_offenders_ankle_monitor_is_doing()
    {
        await using (var ankle = await MqttTestClient.ConnectAsync(_node.MqttPort, "A1", "ankle-secret"))
            await ankle.PublishAsync("proximity/v1/devices/A1/position", MqttTestClient.Fix(500, DateTimeOffset.UtcNow.AddSeconds(-1), 30_000));

        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB" });
        context.SetDefaultTimeout(60_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(_node.Address, $"probation.html#token={ApiHost.Token(Roles.Admin, "admin-1")}").ToString());
        // The device's grain hears of the fix one way: open the offender until it has.
        var row = page.Locator("#device-rows tr[data-device-id='A1'][data-state='reporting']");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await page.Locator("li[data-offender-id='O1']").ClickAsync();
            await page.Locator("#device-rows tr[data-device-id='A1']").WaitForAsync();
            if (await row.CountAsync() == 1 && (await row.InnerTextAsync()).Contains("80 %", StringComparison.Ordinal)) break;
            Assert.True(DateTime.UtcNow < deadline, "A1's health did not show its report: " + await page.Locator("#device-rows").InnerTextAsync());
            await Task.Delay(250, Ct);
        }
        Assert.Contains("Ankle monitor", await row.InnerTextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_ban_created_through_the_api_is_enforced_by_the_live_grains_at_once()
    {
        using var api = new HttpClient { BaseAddress = _node.Address };
        api.DefaultRequestHeaders.Authorization = new("Bearer", ApiHost.Token(Roles.Admin, "admin-1"));
        string circle = string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "{{\"type\":\"Circle\",\"center\":[{0},{1}],\"radiusMeters\":300}}", MqttTestClient.Lon, MqttTestClient.Lat);
        var created = await api.PostAsJsonAsync("/api/bans", new
        {
            id = "zone-live", type = "exclusion", offenderId = "O1", legalBasis = "Article38vSr", issuingAuthority = "Rechtbank Utrecht",
            caseReference = "16/123456-26", area = JsonDocument.Parse(circle).RootElement,
        }, Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // The ankle monitor stands in the middle of the new zone, 20 km from the victim's phone.
        await using var phone = await MqttTestClient.ConnectAsync(_node.MqttPort, "P1", "phone-secret");
        await using var ankle = await MqttTestClient.ConnectAsync(_node.MqttPort, "A1", "ankle-secret");
        var t0 = DateTimeOffset.UtcNow.AddSeconds(-5);
        await phone.PublishAsync("proximity/v1/devices/P1/position", MqttTestClient.Fix(100, t0, 20_000));
        await ankle.PublishAsync("proximity/v1/devices/A1/position", MqttTestClient.Fix(100, t0.AddSeconds(1), 0));

        api.DefaultRequestHeaders.Authorization = new("Bearer", ApiHost.Token(Roles.MonitoringCentre, "checker"));
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        wait.CancelAfter(TimeSpan.FromSeconds(60));
        while (true)
        {
            var alerts = await api.GetFromJsonAsync<JsonElement>("/api/alerts?reason=test", wait.Token);
            string text = alerts.GetRawText();
            if (text.Contains("zone-live:ExclusionZoneBreach", StringComparison.Ordinal)) break;
            await Task.Delay(200, wait.Token);
        }

        // The accepted fix is also in the position history the control room's map reads (memory mode).
        var position = await api.GetFromJsonAsync<JsonElement>("/api/offenders/O1/position?reason=alert%20triage", Ct);
        Assert.Contains("A1", position.GetRawText(), StringComparison.Ordinal);
    }
}
