using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Api.Auth;
using Proximity.Api.Monitoring;
using Proximity.Protocol;

namespace Proximity.Api.Tests;

/// <summary>What the live pipeline would report about the device feed, set by a test.</summary>
public sealed class FeedSwitch : IMonitoringStatus
{
    public MonitoringStatus Current { get; set; } = new(DeviceFeedCondition.Heard, null, null);

    public void Register(IServiceCollection services) => services.AddSingleton<IMonitoringStatus>(this);
}

/// <summary>The control rooms are told when no device is heard at all (GET /api/monitoring and the alert stream).</summary>
public sealed class MonitoringTests : IAsyncLifetime
{
    private readonly FeedSwitch _feed = new();
    private ApiHost _host = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _host = await ApiHost.StartAsync(services: _feed.Register);

    public ValueTask DisposeAsync() => _host.DisposeAsync();

    public static readonly DateTimeOffset LostAt = new(2026, 11, 24, 11, 2, 3, TimeSpan.Zero);
    public static readonly DateTimeOffset HeardAgainAt = LostAt.AddMinutes(7);

    [Fact]
    public async Task A_lost_feed_and_its_end_are_pushed_on_the_alert_stream()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        using var stream = await EventStream.OpenAsync(_host.Client(Roles.PoliceControlRoom), cts.Token);
        Assert.Equal("Heard", (await stream.NextAsync("monitoring")).GetProperty("deviceFeed").GetString());

        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Lost, LostAt, null);
        var lost = await stream.NextAsync("monitoring");
        Assert.Equal("Lost", lost.GetProperty("deviceFeed").GetString());
        Assert.Equal(LostAt, lost.GetProperty("lostSince").GetDateTimeOffset());

        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Heard, LostAt, HeardAgainAt);
        var back = await stream.NextAsync("monitoring");
        Assert.Equal(("Heard", HeardAgainAt), (back.GetProperty("deviceFeed").GetString(), back.GetProperty("heardAgainAt").GetDateTimeOffset()));
    }

    [Fact]
    public async Task A_stream_busy_with_alert_changes_still_tells_of_a_lost_feed()
    {
        await Seed.CaseAsync(_host);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        using var stream = await EventStream.OpenAsync(_host.Client(Roles.PoliceControlRoom), cts.Token);
        Assert.Equal("Heard", (await stream.NextAsync("monitoring")).GetProperty("deviceFeed").GetString());
        // Changes more often than the status is looked at, none of them for the police (the stream writes nothing).
        using var busy = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var changes = Task.Run(async () =>
        {
            for (int i = 0; !busy.IsCancellationRequested; i++)
            {
                await Seed.RaiseAsync(_host, $"busy-{i}", police: false);
                await Task.Delay(50, CancellationToken.None);
            }
        }, CancellationToken.None);
        await Task.Delay(500, Ct);
        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Lost, LostAt, null);
        Assert.Equal("Lost", (await stream.NextAsync("monitoring")).GetProperty("deviceFeed").GetString());
        await busy.CancelAsync();
        await changes;
    }

    [Fact]
    public async Task The_status_says_since_when_no_device_is_heard()
    {
        _feed.Current = new MonitoringStatus(DeviceFeedCondition.Lost, LostAt, null);
        var status = await _host.Client(Roles.ProbationOfficer).GetFromJsonAsync<JsonElement>("/api/monitoring", Ct);
        Assert.Equal(("Lost", LostAt), (status.GetProperty("deviceFeed").GetString(), status.GetProperty("lostSince").GetDateTimeOffset()));
        Assert.False(status.TryGetProperty("heardAgainAt", out _)); // the API leaves nulls out
    }
}

/// <summary>On a live node with the embedded broker the devices connect to the node itself: heard once its listener is up.</summary>
public sealed class LiveMonitoringTests
{
    [Fact]
    public async Task A_live_node_with_its_broker_up_says_its_devices_are_heard()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await LiveNode.StartAsync(new CaseFile([new PersonSpec("O1", [new DeviceSpec("A1", "ankle-secret")])], [], [], []));
        using var client = node.Client(Roles.MonitoringCentre, "op1"); // started: its listener is up
        var status = await client.GetFromJsonAsync<JsonElement>("/api/monitoring", ct);
        Assert.Equal("Heard", status.GetProperty("deviceFeed").GetString());
    }
}
