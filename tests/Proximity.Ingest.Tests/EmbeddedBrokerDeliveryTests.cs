using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;

namespace Proximity.Ingest.Tests;

/// <summary>The service's own messages reach exactly the sessions subscribed to them, as MQTT says they should.</summary>
[Collection(EmbeddedCollection.Name)]
public sealed class EmbeddedBrokerDeliveryTests(EmbeddedFixture f)
{
    private IMqttPublisher Broker => f.Host.Services.GetRequiredService<IMqttPublisher>();

    private ValueTask Publish(string topic, string body) => Broker.PublishAsync(topic, Encoding.UTF8.GetBytes(body), CancellationToken.None);

    [Fact]
    public async Task A_device_message_reaches_that_device_only_and_only_on_topics_it_subscribed_to()
    {
        await using var a7 = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A7", "ankle-secret");
        await using var p7 = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P7", "phone-secret");
        await a7.SubscribeAsync("proximity/v1/devices/A7/command");
        await p7.SubscribeAsync("proximity/v1/devices/P7/+");

        await Publish("proximity/v1/devices/A7/notify", "not-subscribed");
        await Publish("proximity/v1/devices/P7/command", "for-p7");
        await Publish("proximity/v1/devices/A7/command", "for-a7");

        Assert.Equal("for-a7", (await a7.WaitFor(m => m.Topic.EndsWith("/command", StringComparison.Ordinal), "command for A7")).Payload);
        Assert.Equal("for-p7", (await p7.WaitFor(m => m.Topic == "proximity/v1/devices/P7/command", "command for P7")).Payload);
        // Messages to one session arrive in order: once each marker is in, anything leaked to it before would be too.
        await Publish("proximity/v1/devices/A7/command", "marker-a7");
        await Publish("proximity/v1/devices/P7/command", "marker-p7");
        await a7.WaitFor(m => m.Payload == "marker-a7", "the marker for A7");
        await p7.WaitFor(m => m.Payload == "marker-p7", "the marker for P7");
        Assert.Equal(["for-a7", "marker-a7"], a7.Received.Select(m => m.Payload));
        Assert.Equal(["for-p7", "marker-p7"], p7.Received.Select(m => m.Payload));
    }

    [Fact]
    public async Task After_unsubscribing_a_device_gets_nothing_more_on_that_topic()
    {
        await using var a8 = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A8", "ankle-secret");
        await a8.SubscribeAsync("proximity/v1/devices/A8/notify");
        await a8.SubscribeAsync("proximity/v1/devices/A8/command");
        await Publish("proximity/v1/devices/A8/notify", "first");
        await a8.WaitFor(m => m.Payload == "first", "first notice");

        await a8.UnsubscribeAsync("proximity/v1/devices/A8/notify");
        await AssertNotDelivered(a8, "A8", "proximity/v1/devices/A8/notify", "second");
    }

    [Fact]
    public async Task A_persistent_session_gets_what_was_sent_while_it_was_away_and_a_clean_start_forgets_its_subscriptions()
    {
        await using (var away = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P8", "phone-secret", cleanStart: false))
            await away.SubscribeAsync("proximity/v1/devices/P8/notify");
        await Publish("proximity/v1/devices/P8/notify", "while-away");
        await using (var back = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P8", "phone-secret", cleanStart: false))
            await back.WaitFor(m => m.Payload == "while-away", "the notice queued while away");

        await using var clean = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P8", "phone-secret", cleanStart: true);
        await clean.SubscribeAsync("proximity/v1/devices/P8/command");
        await AssertNotDelivered(clean, "P8", "proximity/v1/devices/P8/notify", "after-clean-start");
    }

    [Fact]
    public async Task Ending_a_devices_session_disconnects_it_and_drops_what_was_queued_for_its_previous_wearer()
    {
        var sessions = f.Host.Services.GetRequiredService<IDeviceSessions>();
        await sessions.EndSessionAsync("never-connected"); // nothing to end: no error

        await using (var away = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P5", "phone-secret", cleanStart: false))
            await away.SubscribeAsync("proximity/v1/devices/P5/#");
        await Publish("proximity/v1/devices/P5/notify", "for-the-previous-wearer");
        Renew("P5");
        await sessions.EndSessionAsync("P5");

        await using var back = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P5", "phone-secret", cleanStart: false);
        await back.SubscribeAsync("proximity/v1/devices/P5/command");
        string marker = Guid.NewGuid().ToString("N");
        await Publish("proximity/v1/devices/P5/command", marker);
        await back.WaitFor(m => m.Payload == marker, "the marker sent after the session was ended");
        Assert.DoesNotContain(back.Received, m => m.Payload == "for-the-previous-wearer");

        Renew("P5");
        await sessions.EndSessionAsync("P5");
        await back.WaitDisconnected("the connected device disconnected");
    }

    // What the registry does before a session is ended: the device changes (here: a new hash of the same secret), so a
    // login made before is no longer the device's current one.
    private void Renew(string deviceId)
    {
        var registry = f.Host.Services.GetRequiredService<ProximityRegistry>();
        var entry = registry.Device(deviceId)!;
        registry.ApplyDevice(new DeviceUpdate(deviceId, entry.PersonId, entry.Role, false, SecretHash.Create("phone-secret", 1000)));
    }

    // Sends the message, then a marker on the device's command topic (which it reads): messages to one session
    // arrive in order, so once the marker is in, the message would have been too.
    private async Task AssertNotDelivered(MqttTestClient device, string deviceId, string topic, string body)
    {
        await Publish(topic, body);
        string marker = Guid.NewGuid().ToString("N");
        await Publish($"proximity/v1/devices/{deviceId}/command", marker);
        await device.WaitFor(m => m.Payload == marker, "the marker sent after the message");
        Assert.DoesNotContain(device.Received, m => m.Payload == body);
    }

    [Fact]
    public async Task An_alert_reaches_each_integration_whose_filter_matches_its_severity()
    {
        await using var meldkamer = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "meldkamer-1", "meldkamer-secret");
        await using var dispatch = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "dispatch-cfg", "cfg-secret");
        await meldkamer.SubscribeAsync("proximity/v1/alerts/#");
        await dispatch.SubscribeAsync("proximity/v1/alerts/critical");
        string id = Guid.NewGuid().ToString("N");

        await Publish("proximity/v1/alerts/warning", "warning-" + id);
        await Publish("proximity/v1/alerts/critical", "critical-" + id);

        await meldkamer.WaitFor(m => m.Payload == "warning-" + id, "the warning");
        await meldkamer.WaitFor(m => m.Payload == "critical-" + id, "the critical alert");
        await dispatch.WaitFor(m => m.Payload == "critical-" + id, "the critical alert");
        Assert.DoesNotContain(dispatch.Received, m => m.Payload == "warning-" + id);
    }
}
