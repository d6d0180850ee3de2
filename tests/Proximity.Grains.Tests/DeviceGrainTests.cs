using Proximity.Grains.Registry;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class DeviceGrainTests(ClusterFixture f)
{
    // Fixes reach a device's grain one way; a status query queues behind them, so the test goes on once they are taken.
    // The device grain hears of fixes one way, and Orleans does not promise one-way messages keep their order: each
    // message is sent once the one before is counted (a CI run saw a backlog overtake the live fix sent before it).
    private static async Task Tell(IDeviceGrain device, params PositionFix[] fixes)
    {
        int before = (await device.GetStatus()).Messages;
        await device.OnPositions(fixes);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while ((await device.GetStatus()).Messages == before && DateTime.UtcNow < deadline) await Task.Delay(5);
    }

    [Fact]
    public async Task A_silent_ankle_monitor_is_reported_offline_the_victim_is_told_and_both_clear_when_it_reports_again()
    {
        using var metrics = new DecisionMetricsRecorder();
        var now = f.Time.GetUtcNow();
        var device = f.Grains.DeviceGrain("a3");
        await Tell(device, Fixes.At("a3", 1, now, 3000));

        f.Time.Advance(2 * ClusterFixture.OffenderInterval + TimeSpan.FromSeconds(5));
        var published = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/high" && m.Payload.Contains("\"deviceId\":\"a3\"", StringComparison.Ordinal)
            && m.Payload.Contains("DeviceOffline", StringComparison.Ordinal), "a3 offline");
        var alert = AlertJson.Deserialize(published.Payload)!;
        Assert.Equal("O3", alert.OffenderId);
        Assert.Null(alert.ClearedAt);
        Assert.True((await device.GetStatus()).Offline);
        Assert.True(metrics.Offline >= 1);
        Assert.Contains("DeviceOffline/High", metrics.Raised);
        await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/devices/p3/notify" && m.Payload.Contains("protection_degraded", StringComparison.Ordinal), "degraded to p3");
        long offlineBefore = metrics.Offline;

        await Tell(device, Fixes.At("a3", 2, f.Time.GetUtcNow(), 3000));
        Assert.False((await device.GetStatus()).Offline);
        Assert.True(metrics.Offline <= offlineBefore - 1);
        var cleared = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/high" && m.Payload.Contains(alert.Id, StringComparison.Ordinal)
            && m.Payload.Contains("clearedAt", StringComparison.Ordinal), "a3 offline cleared");
        Assert.NotNull(AlertJson.Deserialize(cleared.Payload)!.ClearedAt);
        await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/devices/p3/notify" && m.Payload.Contains("protection_restored", StringComparison.Ordinal), "restored to p3");
    }

    [Fact]
    public async Task A_device_that_talks_but_has_no_fix_raises_no_position_fix()
    {
        var device = f.Grains.DeviceGrain("p9");
        await device.OnEvent(new DeviceEvent(1, f.Time.GetUtcNow(), DeviceEventType.Heartbeat, 70));
        f.Time.Advance(2 * TimeSpan.FromSeconds(60) + TimeSpan.FromSeconds(5)); // the victim devices' default profile
        await device.OnEvent(new DeviceEvent(2, f.Time.GetUtcNow(), DeviceEventType.Heartbeat, 70));
        var raised = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/high" && m.Payload.Contains("NoPositionFix", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"p9\"", StringComparison.Ordinal), "p9 no fix");
        Assert.Equal("V9", AlertJson.Deserialize(raised.Payload)!.VictimId);
        await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/devices/p9/notify" && m.Payload.Contains("protection_degraded", StringComparison.Ordinal), "degraded to p9");
    }

    [Fact]
    public async Task An_opened_strap_raises_a_critical_tamper_alert_that_clears_when_it_closes()
    {
        var now = f.Time.GetUtcNow();
        var device = f.Grains.DeviceGrain("a4");
        await device.OnEvent(new DeviceEvent(1, now, DeviceEventType.StrapOpen, 80));
        var status = await device.GetStatus();
        Assert.True(status.StrapOpen);
        Assert.Equal(80, status.BatteryPercent);
        var raised = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("StrapTamper", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"a4\"", StringComparison.Ordinal), "a4 tamper");
        var alert = AlertJson.Deserialize(raised.Payload)!;
        Assert.Equal(AlertSeverity.Critical, alert.Severity);

        await device.OnEvent(new DeviceEvent(2, now.AddSeconds(10), DeviceEventType.StrapClosed, 80));
        Assert.False((await device.GetStatus()).StrapOpen);
        Assert.NotNull((await f.Grains.AlertGrain(alert.Id).Get())!.Alert.ClearedAt);
    }

    [Fact]
    public async Task A_victims_sos_goes_to_the_police_control_room_whatever_the_ban_level()
    {
        var now = f.Time.GetUtcNow();
        await f.Grains.DeviceGrain("p5").OnEvent(new DeviceEvent(1, now, DeviceEventType.Sos, null));
        var raised = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("VictimSos", StringComparison.Ordinal)
            && m.Payload.Contains("\"victimId\":\"V5\"", StringComparison.Ordinal), "V5 sos");
        Assert.Equal(AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom, AlertJson.Deserialize(raised.Payload)!.Recipients);
    }

    [Fact]
    public async Task A_low_battery_reading_raises_low_battery_and_charging_clears_it()
    {
        var now = f.Time.GetUtcNow();
        var device = f.Grains.DeviceGrain("a7");
        await Tell(device, Fixes.At("a7", 1, now, 9000) with { BatteryPercent = 12 });
        var raised = await f.Mqtt.WaitFor(m => m.Topic == "proximity/v1/alerts/warning" && m.Payload.Contains("LowBattery", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"a7\"", StringComparison.Ordinal), "a7 low battery");
        var alert = AlertJson.Deserialize(raised.Payload)!;
        await device.OnEvent(new DeviceEvent(2, now.AddSeconds(1), DeviceEventType.ChargingStarted, 12));
        Assert.NotNull((await f.Grains.AlertGrain(alert.Id).Get())!.Alert.ClearedAt);
    }

    [Fact]
    public async Task A_low_battery_event_from_before_a_good_reading_raises_nothing_and_a_current_one_does()
    {
        var now = f.Time.GetUtcNow();
        var device = f.Grains.DeviceGrain("p7");
        await Tell(device, Fixes.At("p7", 100, now, 9000) with { BatteryPercent = 85 });
        await device.OnEvent(new DeviceEvent(40, now.AddHours(-5), DeviceEventType.LowBattery, null));
        await device.OnEvent(new DeviceEvent(101, now.AddSeconds(1), DeviceEventType.LowBattery, null));
        // Alerts are published in order per route: once the current one is out, the old one would have been too.
        var raised = await f.Mqtt.WaitFor(m => m.Payload.Contains("LowBattery", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"p7\"", StringComparison.Ordinal), "p7 low battery");
        Assert.InRange(AlertJson.Deserialize(raised.Payload)!.RaisedAt, now, now.AddSeconds(2)); // not five hours ago
        Assert.Single(f.Mqtt.Messages, m => m.Payload.Contains("LowBattery", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"p7\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_given_to_someone_else_while_its_grain_was_not_active_clears_the_previous_wearers_alerts_when_it_activates()
    {
        f.Registry.ApplyDevice(new DeviceUpdate("x2", "O30", PersonRole.Offender, false, SecretHash.Create("s", 1000)));
        var device = f.Grains.DeviceGrain("x2");
        await device.RefreshAssignment();
        await device.OnEvent(new DeviceEvent(1, f.Time.GetUtcNow(), DeviceEventType.StrapOpen, 80));
        var tamper = AlertJson.Deserialize((await f.Mqtt.WaitFor(m => m.Payload.Contains("StrapTamper", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"x2\"", StringComparison.Ordinal), "x2 tamper")).Payload)!;
        Assert.Equal("O30", tamper.OffenderId);
        await ClusterFixture.Deactivate(device);

        // Fitted to O31 while no grain ran for it (no refresh reaches it): its next activation follows the registry.
        f.Registry.ApplyDevice(new DeviceUpdate("x2", "O31", PersonRole.Offender, false, null));
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await device.GetStatus()).StrapOpen)
        {
            Assert.True(DateTime.UtcNow < deadline, "the previous wearer's strap alert stayed open");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
        Assert.NotNull((await f.Grains.AlertGrain(tamper.Id).Get())!.Alert.ClearedAt);
    }

    [Fact]
    public async Task Victims_told_a_device_fell_silent_hear_protection_is_restored_when_its_replacement_reports()
    {
        static bool Notice(Published m, string device, string level) =>
            m.Topic == $"proximity/v1/devices/{device}/notify" && m.Payload.Contains(level, StringComparison.Ordinal);
        static SecretHash Secret() => SecretHash.Create("s", 1000);
        f.Registry.ReplaceBans("O40", [new ContactBan { Id = "ban40", OffenderId = "O40", VictimId = "V40", MinDistanceMeters = 500, WarningDistanceMeters = 1000 }]);
        f.Registry.ApplyDevice(new DeviceUpdate("x40", "O40", PersonRole.Offender, false, Secret()));
        f.Registry.ApplyDevice(new DeviceUpdate("y40", "V40", PersonRole.Victim, false, Secret()));
        f.Registry.ApplyDevice(new DeviceUpdate("y41", "V41", PersonRole.Victim, false, Secret()));
        foreach (string id in new[] { "x40", "y40", "y41" }) await f.Grains.DeviceGrain(id).RefreshAssignment();

        // Both silent long enough (the victim devices' profile is the longer): V40 hears O40 is unmonitored, V41 that
        // its own device is silent.
        f.Time.Advance(2 * new ProximityOptions().VictimReportingInterval + TimeSpan.FromSeconds(5));
        await f.Mqtt.WaitFor(m => Notice(m, "y40", "protection_degraded"), "y40 told O40 is unmonitored");
        await f.Mqtt.WaitFor(m => Notice(m, "y41", "protection_degraded"), "y41 told it is silent");
        // The replacements come long after: the people's grains are not active any more (what they were told is kept).
        await ClusterFixture.Deactivate(f.Grains.OffenderGrain("O40"));
        await ClusterFixture.Deactivate(f.Grains.VictimGrain("V41"));

        // Both silent devices are replaced: taken away, their grains clear their alerts without a word to anyone.
        foreach (var (old, replacement, person, role) in new[] { ("x40", "x42", "O40", PersonRole.Offender), ("y41", "y42", "V41", PersonRole.Victim) })
        {
            f.Registry.ApplyDevice(new DeviceUpdate(old, null, role, true, null));
            await f.Grains.DeviceGrain(old).RefreshAssignment();
            f.Registry.ApplyDevice(new DeviceUpdate(replacement, person, role, false, Secret()));
            await f.Grains.DeviceGrain(replacement).RefreshAssignment();
        }
        await AllSentTo("V40", "y40");
        await AllSentTo("V41", "y42");
        Assert.DoesNotContain(f.Mqtt.Messages, m => Notice(m, "y40", "protection_restored") || Notice(m, "y42", "protection_restored"));
        await f.Report("y40", Fixes.At("y40", 1, f.Time.GetUtcNow(), 9000)); // y40 reports: its own silence is over
        await f.Report("x42", Fixes.At("x42", 1, f.Time.GetUtcNow(), 0));
        await f.Report("y42", Fixes.At("y42", 1, f.Time.GetUtcNow(), 50_000));
        await f.Mqtt.WaitFor(m => Notice(m, "y40", "protection_restored") && m.Payload.Contains("x40", StringComparison.Ordinal), "y40 told O40 is monitored again");
        await f.Mqtt.WaitFor(m => Notice(m, "y42", "protection_restored"), "V41 told on its new device that it is protected again");
        // Said once each, though the person's next fixes find nothing more to say.
        await f.Report("x42", Fixes.At("x42", 2, f.Time.GetUtcNow().AddSeconds(1), 0));
        await f.Report("y42", Fixes.At("y42", 2, f.Time.GetUtcNow().AddSeconds(1), 50_000));
        await AllSentTo("V40", "y40");
        await AllSentTo("V41", "y42");
        Assert.Single(f.Mqtt.Messages, m => Notice(m, "y42", "protection_restored"));
        Assert.Single(f.Mqtt.Messages, m => Notice(m, "y40", "protection_restored") && m.Payload.Contains("x40", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_device_whose_clock_runs_behind_still_has_its_low_battery_judged()
    {
        // Every message stamped 90 s behind the server's clock, as it arrives: live, from a device with a skewed clock.
        var device = f.Grains.DeviceGrain("p4");
        var skewed = f.Time.GetUtcNow().AddSeconds(-90);
        await Tell(device, Fixes.At("p4", 1, skewed, 9000) with { BatteryPercent = 60 });
        f.Time.Advance(TimeSpan.FromSeconds(10));
        await Tell(device, Fixes.At("p4", 2, skewed.AddSeconds(10), 9000) with { BatteryPercent = 12 });
        var raised = await f.Mqtt.WaitFor(m => m.Payload.Contains("LowBattery", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"p4\"", StringComparison.Ordinal), "p4 low battery");
        Assert.Equal("V4", AlertJson.Deserialize(raised.Payload)!.VictimId);
    }

    [Fact]
    public async Task A_backlog_uploaded_after_a_live_fix_neither_rolls_back_the_battery_nor_raises_battery_alerts()
    {
        var now = f.Time.GetUtcNow();
        var device = f.Grains.DeviceGrain("a5");
        await Tell(device, Fixes.At("a5", 100, now, 9000) with { BatteryPercent = 90 });
        // Yesterday's fixes, the battery running low then: history, not the device's state now.
        await Tell(device, [.. Enumerable.Range(1, 10).Select(i => Fixes.At("a5", i, now.AddHours(-20).AddMinutes(i), 9000) with { BatteryPercent = 15 - i })]);
        Assert.Equal(90, (await device.GetStatus()).BatteryPercent);
        // Also when the backlog comes first: a reading from hours ago is not judged (a live one next is).
        var device2 = f.Grains.DeviceGrain("p6");
        await Tell(device2, [.. Enumerable.Range(1, 10).Select(i => Fixes.At("p6", i, now.AddHours(-20).AddMinutes(i), 9000) with { BatteryPercent = 15 - i })]);
        await Tell(device2, Fixes.At("p6", 11, now, 9000) with { BatteryPercent = 90 });
        await Tell(device, Fixes.At("a5", 101, now.AddSeconds(1), 9000) with { BatteryPercent = 4 });
        // Alerts are published in order per route: once a5's live critical battery is out, an earlier one would be too.
        await f.Mqtt.WaitFor(m => m.Payload.Contains("BatteryCritical", StringComparison.Ordinal) && m.Payload.Contains("\"deviceId\":\"a5\"", StringComparison.Ordinal), "a5 critical");
        Assert.DoesNotContain(f.Mqtt.Messages, m => m.Payload.Contains("LowBattery", StringComparison.Ordinal) &&
            (m.Payload.Contains("\"deviceId\":\"a5\"", StringComparison.Ordinal) || m.Payload.Contains("\"deviceId\":\"p6\"", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_device_given_to_another_offender_clears_the_alerts_about_the_one_before_and_a_retired_one_raises_nothing()
    {
        static bool OfflineOf(Published m, string offender) => m.Payload.Contains("DeviceOffline", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"x1\"", StringComparison.Ordinal) && m.Payload.Contains($"\"offenderId\":\"{offender}\"", StringComparison.Ordinal);
        var silence = 2 * ClusterFixture.OffenderInterval + TimeSpan.FromSeconds(5);
        f.Registry.ApplyDevice(new DeviceUpdate("x1", "O20", PersonRole.Offender, false, SecretHash.Create("s", 1000)));
        var device = f.Grains.DeviceGrain("x1");
        await device.RefreshAssignment();
        f.Time.Advance(silence);
        var first = AlertJson.Deserialize((await f.Mqtt.WaitFor(m => OfflineOf(m, "O20"), "x1 offline for O20")).Payload)!;

        f.Registry.ApplyDevice(new DeviceUpdate("x1", "O21", PersonRole.Offender, false, null));
        await device.RefreshAssignment();
        Assert.NotNull((await f.Grains.AlertGrain(first.Id).Get())!.Alert.ClearedAt);
        Assert.False((await device.GetStatus()).Offline); // the new wearer's reporting interval starts now
        f.Time.Advance(silence);
        await f.Mqtt.WaitFor(m => OfflineOf(m, "O21"), "x1 offline for O21");

        f.Registry.ApplyDevice(new DeviceUpdate("x1", null, PersonRole.Offender, true, null));
        await device.RefreshAssignment();
        Assert.False((await device.GetStatus()).Offline);
        int raised = f.Mqtt.Messages.Count(m => m.Payload.Contains("\"deviceId\":\"x1\"", StringComparison.Ordinal) && m.Payload.Contains("DeviceOffline", StringComparison.Ordinal)
            && !m.Payload.Contains("clearedAt", StringComparison.Ordinal));
        // A device watched from the same moment goes offline: the silence looks ran. x1's, had it still looked, saw the
        // same silence on the same tick of the (real-time) check period; three more periods leave room for its alert.
        f.Registry.ApplyDevice(new DeviceUpdate("x3", "O22", PersonRole.Offender, false, SecretHash.Create("s", 1000)));
        await f.Grains.DeviceGrain("x3").RefreshAssignment();
        f.Time.Advance(silence);
        await f.Mqtt.WaitFor(m => m.Payload.Contains("DeviceOffline", StringComparison.Ordinal) && m.Payload.Contains("\"deviceId\":\"x3\"", StringComparison.Ordinal), "x3 offline");
        await Task.Delay(3 * ClusterFixture.SilenceCheckPeriod, TestContext.Current.CancellationToken);
        Assert.False((await device.GetStatus()).Offline);
        Assert.Equal(raised, f.Mqtt.Messages.Count(m => m.Payload.Contains("\"deviceId\":\"x1\"", StringComparison.Ordinal)
            && m.Payload.Contains("DeviceOffline", StringComparison.Ordinal) && !m.Payload.Contains("clearedAt", StringComparison.Ordinal)));
    }

    // A marker notice to the victim's device: notices to one device go out in order, so once it is out, every notice
    // sent before it is too.
    private async Task AllSentTo(string victimId, string deviceId)
    {
        string marker = Guid.NewGuid().ToString("N");
        await f.Grains.VictimGrain(victimId).Notify(new VictimNotice(NoticeLevel.Warning, "marker", marker, f.Time.GetUtcNow()));
        await f.Mqtt.WaitFor(m => m.Topic == $"proximity/v1/devices/{deviceId}/notify" && m.Payload.Contains(marker, StringComparison.Ordinal), "the marker");
    }
}

/// <summary>Listens to the <see cref="DecisionMetrics"/> meter: the offline gauge's running sum and alerts raised.</summary>
internal sealed class DecisionMetricsRecorder : IDisposable
{
    private readonly System.Diagnostics.Metrics.MeterListener _listener = new();
    private long _offline;

    public DecisionMetricsRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == DecisionMetrics.MeterName) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "proximity.devices.offline") Interlocked.Add(ref _offline, value);
            if (instrument.Name == "proximity.alerts.raised")
            {
                string type = "", severity = "";
                foreach (var t in tags)
                {
                    if (t.Key == "type") type = t.Value as string ?? "";
                    if (t.Key == "severity") severity = t.Value as string ?? "";
                }
                Raised.Add($"{type}/{severity}");
            }
        });
        _listener.Start();
    }

    public long Offline => Interlocked.Read(ref _offline);

    public System.Collections.Concurrent.ConcurrentBag<string> Raised { get; } = [];

    public void Dispose() => _listener.Dispose();
}
