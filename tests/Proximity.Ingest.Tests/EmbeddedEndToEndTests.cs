using Proximity.Grains;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Ingest.Tests;

[Collection(EmbeddedCollection.Name)]
public sealed class EmbeddedEndToEndTests(EmbeddedFixture f)
{
    [Fact]
    public async Task Fixes_published_by_devices_raise_an_alert_on_the_alerts_topic_and_a_notification_on_the_victims_device()
    {
        await using var meldkamer = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "meldkamer-1", "meldkamer-secret");
        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.GrantedQoS1, await meldkamer.SubscribeAsync("proximity/v1/alerts/#"));
        await using var phone = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P1", "phone-secret");
        Assert.Equal(MQTTnet.MqttClientSubscribeResultCode.GrantedQoS1, await phone.SubscribeAsync("proximity/v1/devices/P1/notify"));
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A1", "ankle-secret");

        var now = DateTimeOffset.UtcNow;
        Assert.True((await phone.PublishAsync("proximity/v1/devices/P1/position", MqttTestClient.Fix(1, now, 0))).IsSuccess);
        // A store-and-forward array, oldest first: far away, then close.
        var batch = $"[{MqttTestClient.Fix(1, now.AddSeconds(-60), 1500)},{MqttTestClient.Fix(2, now.AddSeconds(1), 80)}]";
        Assert.True((await ankle.PublishAsync("proximity/v1/devices/A1/position", batch)).IsSuccess);

        var received = await meldkamer.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("\"banId\":\"ban1\"", StringComparison.Ordinal), "breach of ban1");
        var alert = AlertJson.Deserialize(received.Payload)!;
        Assert.Equal(AlertType.ContactBanBreach, alert.Type);
        Assert.Equal("O1", alert.OffenderId);
        Assert.Equal(AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom, alert.Recipients);
        Assert.Equal(AlertStatus.Open, (await f.Host.Grains.AlertGrain(alert.Id).Get())!.Status); // recorded before published

        var notice = await phone.WaitFor(m => m.Payload.Contains("\"level\":\"danger\"", StringComparison.Ordinal), "danger notice");
        Assert.Contains(alert.Id, notice.Payload, StringComparison.Ordinal);
        Assert.DoesNotContain("\"lat\"", notice.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task One_trace_runs_from_the_mqtt_message_to_the_alert()
    {
        var finished = new System.Collections.Concurrent.ConcurrentBag<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = _ => true,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = finished.Add,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using var meldkamer = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "meldkamer-1", "meldkamer-secret");
        await meldkamer.SubscribeAsync("proximity/v1/alerts/#");
        await using var phone = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P6", "phone-secret");
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A6", "ankle-secret");
        var now = DateTimeOffset.UtcNow;
        Assert.True((await phone.PublishAsync("proximity/v1/devices/P6/position", MqttTestClient.Fix(1, now, 0))).IsSuccess);
        Assert.True((await ankle.PublishAsync("proximity/v1/devices/A6/position", MqttTestClient.Fix(1, now.AddSeconds(1), 60))).IsSuccess);
        var received = await meldkamer.WaitFor(m => m.Payload.Contains("\"banId\":\"ban6\"", StringComparison.Ordinal), "breach of ban6");
        string alertId = AlertJson.Deserialize(received.Payload)!.Id;

        var raised = Assert.Single(finished, a => a.OperationName == "alert raised" && (string?)a.GetTagItem("proximity.alert.id") == alertId);
        var message = Assert.Single(finished, a => a.OperationName == "mqtt message" && a.TraceId == raised.TraceId);
        Assert.Equal("proximity/v1/devices/A6/position", message.GetTagItem("messaging.destination.name"));
    }

    [Fact]
    public async Task An_OwnTracks_phone_serves_as_the_victims_device()
    {
        await using var phone = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P4", "phone-secret");
        long tst = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var result = await phone.PublishAsync("owntracks/P4/iphone",
            $"{{\"_type\":\"location\",\"lat\":52.3731,\"lon\":4.8926,\"acc\":12,\"tst\":{tst},\"batt\":64,\"vel\":4,\"cog\":90}}");
        Assert.True(result.IsSuccess, result.ReasonCode.ToString());
        var status = await f.Host.Grains.DeviceGrain("P4").GetStatus();
        Assert.Equal(tst, status.LastSeq);
        Assert.Equal(64, status.BatteryPercent);

        // OwnTracks is for victims' phones only.
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A4", "ankle-secret");
        long before = f.Rejects["UnknownDevice"];
        Assert.False((await ankle.PublishAsync("owntracks/A4/phone", $"{{\"_type\":\"location\",\"lat\":52.3,\"lon\":4.8,\"acc\":5,\"tst\":{tst}}}")).IsSuccess);
        Assert.Equal(before + 1, f.Rejects["UnknownDevice"]);
        Assert.Null((await f.Host.Grains.DeviceGrain("A4").GetStatus()).LastSeq);
    }

    [Fact]
    public async Task Events_reach_the_device_grain()
    {
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A5", "ankle-secret");
        var ts = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        Assert.True((await ankle.PublishAsync("proximity/v1/devices/A5/event", $"{{\"seq\":7,\"ts\":\"{ts}\",\"type\":\"body_contact_lost\",\"bat\":55}}")).IsSuccess);
        var status = await f.Host.Grains.DeviceGrain("A5").GetStatus();
        Assert.True(status.BodyContactLost);
        Assert.Equal(7, status.LastSeq);
    }

    [Fact]
    public async Task A_report_without_a_fix_is_acknowledged_and_heard_but_neither_judged_nor_recorded()
    {
        using var judged = new CounterReader(f.Host.Meters, "proximity.ingest.fixes", "");
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A10", "ankle-secret");
        var now = DateTimeOffset.UtcNow;
        Assert.True((await ankle.PublishAsync("proximity/v1/devices/A10/position", MqttTestClient.Fix(1, now, 0))).IsSuccess);
        var before = await f.Host.Grains.DeviceGrain("A10").GetStatus();
        Assert.Equal(1, judged.Total);

        // What a tracker without satellites sends: no usable coordinates, "src":"none" (device-protocol.md).
        var ts = now.AddSeconds(5).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var result = await ankle.PublishAsync("proximity/v1/devices/A10/position", $"{{\"seq\":2,\"ts\":\"{ts}\",\"lat\":0,\"lon\":0,\"acc\":0,\"bat\":57,\"src\":\"none\"}}");
        Assert.True(result.IsSuccess, result.ReasonCode.ToString());
        var after = await f.Host.Grains.DeviceGrain("A10").GetStatus();
        Assert.Equal(2, after.LastSeq);
        Assert.Equal(before.Messages + 1, after.Messages);
        Assert.Equal(57, after.BatteryPercent);
        Assert.Equal(before.LastFixAt, after.LastFixAt); // heard, but no fix: towards NoPositionFix, not DeviceOffline
        Assert.Equal(1, judged.Total);
    }
}
