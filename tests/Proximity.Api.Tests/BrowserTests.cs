using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using Proximity.Api.Auth;
using Proximity.Api.Monitoring;

namespace Proximity.Api.Tests;

/// <summary>The pages in Debian's headless Chromium, driven by Playwright (which never downloads a browser here).</summary>
public sealed class BrowserTests : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";
    private const float Timeout = 60_000;

    private readonly FeedSwitch _feed = new();
    private ApiHost _host = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Set PROXIMITY_SCREENSHOTS to a folder to keep screenshots of the pages (for review, not asserted).</summary>
    private static async Task ScreenshotAsync(IPage page, string name)
    {
        if (Environment.GetEnvironmentVariable("PROXIMITY_SCREENSHOTS") is { Length: > 0 } dir)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, name + ".png"), FullPage = true });
    }

    public async ValueTask InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run tests/install-services.sh (apt-get install chromium)");
        _host = await ApiHost.StartAsync(services: _feed.Register);
        await Seed.CaseAsync(_host);
        _playwright = await Playwright.CreateAsync();
        // Playwright gives each launch a fresh temporary profile (--user-data-dir) and removes it on close.
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Timeout = Timeout,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
            ],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        if (_host is not null) await _host.DisposeAsync();
    }

    private async Task<IPage> OpenAsync(string page, string role, string user)
    {
        var context = await _browser.NewContextAsync(new BrowserNewContextOptions { Locale = "en-GB", ViewportSize = new() { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(Timeout);
        var p = await context.NewPageAsync();
        var errors = new List<string>();
        p.PageError += (_, e) => errors.Add(e);
        await p.GotoAsync(new Uri(_host.Address, $"{page}#token={ApiHost.Token(role, user)}").ToString());
        return p;
    }

    [Fact]
    public async Task The_control_room_page_says_when_no_device_is_heard_and_when_they_are_again()
    {
        var page = await OpenAsync("control-room.html", Roles.PoliceControlRoom, "operator-9");
        await page.Locator("#feed-status[data-status=live]").WaitForAsync();
        var banner = page.Locator("#monitoring");
        await page.Locator("#monitoring.hidden[data-feed=Heard]").WaitForAsync(new() { State = WaitForSelectorState.Attached });

        var lostAt = DateTimeOffset.UtcNow.AddMinutes(-3);
        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Lost, lostAt, null);
        await page.Locator("#monitoring[data-feed=Lost]").WaitForAsync();
        Assert.StartsWith("No device has been heard since", await banner.InnerTextAsync(), StringComparison.Ordinal);
        await ScreenshotAsync(page, "control-room-feed-lost");

        // The server loses touch with the cluster's feed during the outage: the outage stays shown, as unconfirmed.
        _feed.Current = MonitoringStatus.Unknown;
        await page.GetByText("Not confirmed since").WaitForAsync();
        Assert.True(await page.Locator("#monitoring[data-feed=Lost]").IsVisibleAsync());

        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Heard, lostAt, DateTimeOffset.UtcNow);
        await page.Locator("#monitoring[data-feed=Heard]").WaitForAsync();
        Assert.StartsWith("Devices heard again since", await banner.InnerTextAsync(), StringComparison.Ordinal);

        // An outage that ended long ago is history, not news.
        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Heard, lostAt.AddHours(-5), lostAt.AddHours(-4));
        await page.Locator("#monitoring.hidden").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }

    [Fact]
    public async Task An_alert_appears_on_the_control_room_page_is_acknowledged_there_and_the_api_shows_it()
    {
        var page = await OpenAsync("control-room.html", Roles.MonitoringCentre, "operator-7");
        await page.Locator("#feed-status[data-status=live]").WaitForAsync();
        await page.Locator("li[data-alert-id='seed-alert']").WaitForAsync();

        // Raised after the page is open: it must arrive through the live stream.
        await Seed.RaiseAsync(_host, "browser-1", police: false);
        var row = page.Locator("li[data-alert-id='browser-1']");
        await row.WaitForAsync();
        Assert.Contains("Critical", await row.InnerTextAsync(), StringComparison.Ordinal);
        await row.ClickAsync();
        await page.Locator("#alert-state[data-state=Open]").WaitForAsync();
        Assert.Contains("120 m from the victim", await page.Locator("#evidence-text").InnerTextAsync(), StringComparison.Ordinal);
        // Zones, accuracy circles and tracks are drawn even without map tiles.
        await page.Locator("#map path.leaflet-interactive").First.WaitForAsync();
        Assert.True(await page.Locator("#map path.leaflet-interactive").CountAsync() >= 5);

        await ScreenshotAsync(page, "control-room");
        await page.Locator("#ack").ClickAsync();
        await page.Locator("#alert-state[data-state=Acknowledged]").WaitForAsync();
        await page.Locator("li[data-alert-id='browser-1'][data-state=Acknowledged]").WaitForAsync();

        using var api = _host.Client(Roles.MonitoringCentre, "checker");
        var detail = await api.GetFromJsonAsync<JsonElement>("/api/alerts/browser-1?reason=browser+test", Ct);
        var record = detail.GetProperty("record");
        Assert.Equal("Acknowledged", record.GetProperty("state").GetString());
        var action = Assert.Single(record.GetProperty("actions").EnumerateArray());
        Assert.Equal("operator-7", action.GetProperty("user").GetString());

        // The page read location data with a reason, and that was audited.
        var audit = await _host.Audit.QueryAsync(new Audit.AuditQuery { User = "operator-7" });
        Assert.Contains(audit, r => r.Action == "read-track" && r.Subject == "victim/vic-1" && r.Reason == "Alert handling");

        // Dutch.
        await page.Locator("#lang").SelectOptionAsync("nl");
        Assert.Equal("Bevestigen", await page.Locator("#ack").InnerTextAsync());
        await page.Locator("#alert-state:text('Bevestigd')").WaitForAsync();
        await ScreenshotAsync(page, "control-room-nl");
    }

    [Fact]
    public async Task Probation_officer_drafts_a_ban_sees_feasibility_warnings_and_saves_it()
    {
        var page = await OpenAsync("probation.html", Roles.ProbationOfficer, "po1");
        await page.Locator("li[data-offender-id='off-1']").ClickAsync();
        await page.Locator("tr[data-ban-id='ban-z1']").WaitForAsync();
        Assert.Equal(0, await page.Locator("li[data-offender-id='off-2']").CountAsync()); // another officer's caseload
        // This host runs the API only: the offender's device is listed, its health not known here.
        await page.Locator("#device-rows tr[data-device-id='dev-o1'][data-state='unknown']").WaitForAsync();

        await page.Locator("#new-ban").ClickAsync();
        await page.Locator("#f-type").SelectOptionAsync("exclusion");
        await page.Locator("#f-authority").FillAsync("Rechtbank Amsterdam");
        await page.Locator("#f-case").FillAsync("13/999999-26");
        await page.Locator("#f-area").FillAsync("""{"type":"Polygon","coordinates":[[[4.8000,52.4000],[4.8300,52.4000],[4.8300,52.40054],[4.8000,52.40054],[4.8000,52.4000]]]}""");
        await page.Locator("#check").ClickAsync();
        await page.Locator("#feasibility li[data-code=ZoneNarrow]").WaitForAsync();

        await ScreenshotAsync(page, "probation-editor");
        await page.Locator("#save").ClickAsync();
        await page.Locator("#ban-status:text('Saved')").WaitForAsync();
        var bans = await _host.Registry.BansAsync("off-1");
        var saved = Assert.Single(bans, b => b.CaseReference == "13/999999-26");
        Assert.Equal("po1", saved.RecordedBy);
        await page.Locator($"tr[data-ban-id='{saved.Id}']").WaitForAsync();

        // Bad GeoJSON: the server's problem detail is shown, nothing is stored.
        await page.Locator("#new-ban").ClickAsync();
        await page.Locator("#f-authority").FillAsync("Rechtbank Amsterdam");
        await page.Locator("#f-case").FillAsync("13/000000-26");
        await page.Locator("#f-area").FillAsync("""{"type":"Polygon","coordinates":[[[4.8,52.4],[4.83,52.4],[4.83,52.41]]]}""");
        await page.Locator("#save").ClickAsync();
        await page.Locator("#editor-error:text('positions')").WaitForAsync();
        Assert.Equal(bans.Count, (await _host.Registry.BansAsync("off-1")).Count);
    }
}
