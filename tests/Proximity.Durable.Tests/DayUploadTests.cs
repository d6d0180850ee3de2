using Proximity.Ingest.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Monitoring;
using Proximity.Spatial.Zones;
using Proximity.Storage.Tests;
using static Proximity.Grains.Durable.Tests.LiveService;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// Fault test: an ankle monitor that was out of coverage for a day comes back, reports live, and uploads its
/// store-and-forward backlog (one fix per 30 s for 24 h) through the live service on PostgreSQL. The offender
/// was in the exclusion zone for 20 minutes around midday.
/// </summary>
public sealed class DayUploadTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Backlog = 24 * 60 * 2; // one fix per 30 s
    /// <summary>Fixes per message: the device's choice, within the protocol's limits (FixJson.MaxBatch fixes, 1 MiB).</summary>
    private const int PerMessage = 500;
    private const double HomeEast = 3000, StepMeters = 50, ZoneRadius = 200;
    private const int LiveBattery = 85;
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(30);
    private string _cs = "";

    public async ValueTask InitializeAsync() => _cs = await fixture.Server.CreateDatabaseAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>O9 must stay out of a 200 m circle (warning buffer 300 m) and away from V9, who lives 10 km west.</summary>
    private static readonly CaseFile Case = new(
        [new PersonSpec("O9", [new DeviceSpec("A9", "ankle-secret")])],
        [new PersonSpec("V9", [new DeviceSpec("P9", "phone-secret")])],
        [
            new ZoneBan { Id = "zone9", OffenderId = "O9", Kind = ZoneKind.Exclusion, Area = ZoneArea.Circle(new GeoPoint(Lat, Lon), ZoneRadius), WarningBufferMeters = 300 },
            new ContactBan { Id = "contact9", OffenderId = "O9", VictimId = "V9", MinDistanceMeters = 500, WarningDistanceMeters = 1000 },
        ],
        [new IntegrationSpec("meldkamer-1", "meldkamer-secret")]);

    /// <summary>Backlog fix i (0-based) of the day: at home 3 km east of the zone, except from 12:00 a 30-minute walk
    /// into it (50 m per fix), 20 minutes at its centre, and the walk back. The battery runs down over the day.</summary>
    private static (double East, int Battery) Backlogged(int i)
    {
        const int walkIn = 24 * 60, arrive = walkIn + (int)(HomeEast / StepMeters), leave = arrive + 40, home = leave + (int)(HomeEast / StepMeters);
        double east = i < walkIn ? HomeEast
            : i < arrive ? HomeEast - (i - walkIn) * StepMeters
            : i < leave ? 0
            : i < home ? (i - leave) * StepMeters
            : HomeEast;
        return (east, 100 - 88 * i / Backlog);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_day_of_buffered_fixes_is_recorded_whole_raises_one_late_breach_at_the_time_it_happened_and_rolls_back_nothing(bool liveFirst)
    {
        await using var service = await LiveService.StartAsync(Case, _cs);
        await using var controlRoom = await MqttTestClient.ConnectAsync(service.MqttPort, "meldkamer-1", "meldkamer-secret");
        await controlRoom.SubscribeAsync("proximity/v1/alerts/#");
        await using var phone = await MqttTestClient.ConnectAsync(service.MqttPort, "P9", "phone-secret");
        await using var ankle = await MqttTestClient.ConnectAsync(service.MqttPort, "A9", "ankle-secret");

        var now = DateTimeOffset.UtcNow;
        var dayStart = new DateTimeOffset(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerSecond, TimeSpan.Zero) - TimeSpan.FromHours(24) - TimeSpan.FromMinutes(1);
        long liveSeq = Backlog, phoneSeq = 0;
        async Task LiveFixAsync(bool ankleToo = true)
        {
            // The victim at home, and the offender at home, charged: what the devices say now.
            var at = DateTimeOffset.UtcNow;
            Assert.True((await phone.PublishAsync(PositionTopic("P9"), Fix(++phoneSeq, at, -10_000))).IsSuccess);
            if (ankleToo) Assert.True((await ankle.PublishAsync(PositionTopic("A9"), Fix(++liveSeq, at, HomeEast, LiveBattery))).IsSuccess);
            await WaitUntilHandledAsync(service, new Dictionary<string, long> { ["A9"] = ankleToo ? liveSeq : 0, ["P9"] = phoneSeq }, TimeSpan.FromSeconds(60));
        }

        // Back in coverage: the live fix first (or not), then the day's backlog (oldest first, sequence numbers from
        // before), with live fixes in between as the device keeps reporting while it uploads.
        await LiveFixAsync(ankleToo: liveFirst);
        for (int from = 0; from < Backlog; from += PerMessage)
        {
            var batch = Enumerable.Range(from, Math.Min(PerMessage, Backlog - from))
                .Select(i =>
                {
                    var (east, battery) = Backlogged(i);
                    return Fix(i + 1, dayStart + i * Every, east, battery);
                });
            var result = await ankle.PublishAsync(PositionTopic("A9"), "[" + string.Join(",", batch) + "]");
            Assert.True(result.IsSuccess, $"backlog from {from}: {result.ReasonCode}");
            if (liveFirst && from == 3 * PerMessage) await LiveFixAsync();
        }
        await LiveFixAsync();

        // All 2 880 backlog fixes are in the position history, with the live ones.
        await FlushHistoryAsync(service, Ct);
        var stored = await StoredSeqsAsync(_cs, "A9");
        Assert.Empty(Enumerable.Range(1, Backlog).Select(i => (long)i).Except(stored));
        Assert.Equal(liveSeq, stored.Count);

        // Exactly one alert: the breach, late, at the time it happened; closed by the backlog itself.
        var firstInside = Enumerable.Range(0, Backlog).First(i => Backlogged(i).East < ZoneRadius - 5);
        var alerts = await RowsAsync(_cs, "SELECT id, type, late, raised_at, cleared_at FROM alert");
        var breach = Assert.Single(alerts);
        Assert.Equal(nameof(AlertType.ExclusionZoneBreach), breach[1]);
        Assert.True((bool)breach[2], "the breach is not marked late");
        Assert.Equal(dayStart + firstInside * Every, new DateTimeOffset((DateTime)breach[3]));
        Assert.True(breach[4] is DateTime cleared && cleared < now.UtcDateTime.AddHours(-10), $"the breach was not closed by the backlog: {breach[4]}");

        // Published once, as late; nothing else reached the control room (no warnings, battery or offline alerts from old fixes).
        await WaitUntilAllPublishedAsync(_cs, TimeSpan.FromSeconds(60));
        var raised = await controlRoom.WaitFor(m => m.Payload.Contains((string)breach[0], StringComparison.Ordinal), "the late breach");
        Assert.True(AlertJson.Deserialize(raised.Payload)!.Late);
        var raises = RaisesReceived(controlRoom.Received);
        Assert.Equal([(string)breach[0]], raises.Keys);
        Assert.Equal(1, raises[(string)breach[0]]);

        // The live state is today's: no episode open, the battery as the device reports it now, the newest sequence number.
        Assert.Empty(await service.Grains.OffenderGrain("O9").GetOpenAlertIds());
        var status = await service.Grains.DeviceGrain("A9").GetStatus();
        Assert.Equal(LiveBattery, status.BatteryPercent);
        Assert.Equal(liveSeq, status.LastSeq);
        Assert.False(status.Offline);
    }
}
