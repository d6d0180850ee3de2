using System.Text.Json;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class OffenderAndVictimGrainTests(ClusterFixture f)
{
    [Fact]
    public async Task Offender_close_to_the_victim_raises_a_recorded_published_breach_and_warns_the_victim_without_the_offender_position()
    {
        var now = f.Time.GetUtcNow();
        await f.Report("p1", Fixes.At("p1", 1, now, 0));
        var outcome = await f.Report("a1", Fixes.At("a1", 1, now, 120));
        Assert.Equal(1, outcome.Evaluated);

        var published = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("\"offenderId\":\"O1\"", StringComparison.Ordinal), "breach O1");
        var alert = AlertJson.Deserialize(published.Payload)!;
        Assert.Equal(AlertType.ContactBanBreach, alert.Type);
        Assert.Equal("V1", alert.VictimId);
        Assert.Equal(AlertRecipients.MonitoringCentre, alert.Recipients); // level 2: probation's monitoring centre only

        var record = await f.Grains.AlertGrain(alert.Id).Get();
        Assert.NotNull(record);
        Assert.Equal(AlertStatus.Open, record.Status);

        var notify = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/devices/p1/notify" && m.Payload.Contains("\"danger\"", StringComparison.Ordinal), "danger to p1");
        using var doc = JsonDocument.Parse(notify.Payload);
        Assert.Equal(alert.Id, doc.RootElement.GetProperty("alertId").GetString());
        Assert.DoesNotContain(Fixes.LonText(120), notify.Payload, StringComparison.Ordinal);
        Assert.False(doc.RootElement.TryGetProperty("lat", out _));

        var notices = await f.Grains.VictimGrain("V1").GetNotices();
        Assert.Contains(notices, n => n.Level == NoticeLevel.Danger && n.AlertId == alert.Id);
        Assert.Contains(alert.Id, await f.Grains.OffenderGrain("O1").GetOpenAlertIds());
        // Near the victim the ankle monitor is told to report fast.
        await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/devices/a1/command" && m.Payload.Contains("set_interval", StringComparison.Ordinal), "command to a1");
    }

    [Fact]
    public async Task A_level_3_ban_routes_its_breach_to_the_police_control_room_too()
    {
        var now = f.Time.GetUtcNow();
        await f.Report("p2", Fixes.At("p2", 1, now, 0));
        await f.Report("a2", Fixes.At("a2", 1, now, 100));
        var published = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("\"offenderId\":\"O2\"", StringComparison.Ordinal), "breach O2");
        Assert.Equal(AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom, AlertJson.Deserialize(published.Payload)!.Recipients);
    }

    [Fact]
    public async Task Duplicates_and_out_of_order_fixes_are_not_evaluated()
    {
        var now = f.Time.GetUtcNow();
        Assert.Equal(new FixOutcome(1, 0, 0), await f.Report("a6", Fixes.At("a6", 10, now, 5000)));
        Assert.Equal(new FixOutcome(0, 1, 0), await f.Report("a6", Fixes.At("a6", 10, now, 5000)));
        Assert.Equal(new FixOutcome(0, 0, 1), await f.Report("a6", Fixes.At("a6", 11, now.AddSeconds(-5), 5000)));
        // A store-and-forward batch: every fix judged in time order.
        Assert.Equal(new FixOutcome(3, 0, 0), await f.Report("a6",
            Fixes.At("a6", 12, now.AddSeconds(1), 5000), Fixes.At("a6", 13, now.AddSeconds(2), 5000), Fixes.At("a6", 14, now.AddSeconds(3), 5000)));
        // The device's grain heard of them too (one way, in order): its health follows the newest.
        Assert.Equal(14, (await f.Grains.DeviceGrain("a6").GetStatus()).LastSeq);
    }

    [Fact]
    public async Task A_victims_fix_reaches_every_offender_the_victim_is_protected_from()
    {
        var now = f.Time.GetUtcNow();
        // O8 and O9 both must keep away from V8; both are already near where V8 will appear.
        await f.Report("a8", Fixes.At("a8", 1, now, 2100));
        await f.Report("a9", Fixes.At("a9", 1, now, 2050));
        await f.Report("p8", Fixes.At("p8", 1, now.AddSeconds(1), 2000));

        await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("\"banId\":\"ban8\"", StringComparison.Ordinal), "breach of ban8");
        await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("\"banId\":\"ban9b\"", StringComparison.Ordinal), "breach of ban9b");
        var notices = await f.Grains.VictimGrain("V8").GetNotices();
        Assert.Equal(2, notices.Count(n => n.Level == NoticeLevel.Danger));
    }
}
