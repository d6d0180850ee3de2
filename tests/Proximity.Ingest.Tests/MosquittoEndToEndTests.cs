using MQTTnet;
using Proximity.Grains;
using Proximity.Protocol;
using Proximity.Spatial.Monitoring;

namespace Proximity.Ingest.Tests;

/// <summary>The service as a client of a real Mosquitto (external-broker mode), with the shipped ACL.</summary>
public sealed class MosquittoEndToEndTests
{
    private static readonly (string, string)[] Users =
        [("A6", "ankle-secret"), ("P6", "phone-secret"), ("A7", "ankle-secret"), ("P7", "phone-secret"), ("meldkamer-1", "meldkamer-secret")];

    private static Task<ServiceHost> StartServiceAsync(MosquittoBroker broker, string clientId) =>
        ServiceHost.StartAsync(ServiceHost.Case("6", "7"), broker.ServiceIngest(clientId));

    [Fact]
    public async Task Fixes_published_to_Mosquitto_raise_an_alert_on_Mosquittos_alerts_topic()
    {
        await using var broker = await MosquittoBroker.StartAsync(Users);
        await using var service = await StartServiceAsync(broker, "proximity-test-" + Guid.NewGuid().ToString("N")[..6]);
        using var rejects = CounterReader.Rejects(service.Meters);
        await using var meldkamer = await MqttTestClient.ConnectAsync(broker.Port, "meldkamer-1", "meldkamer-secret");
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await meldkamer.SubscribeAsync("proximity/v1/alerts/#"));
        await using var phone = await MqttTestClient.ConnectAsync(broker.Port, "P6", "phone-secret");
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await phone.SubscribeAsync("proximity/v1/devices/P6/notify"));
        await using var ankle = await MqttTestClient.ConnectAsync(broker.Port, "A6", "ankle-secret");

        var now = DateTimeOffset.UtcNow;
        Assert.True((await phone.PublishAsync("proximity/v1/devices/P6/position", MqttTestClient.Fix(1, now, 0))).IsSuccess);
        // The victim's fix must be judged before the offender's: wait until the service has it.
        await WaitUntilAsync(async () => (await service.Grains.DeviceGrain("P6").GetStatus()).LastSeq == 1);
        Assert.True((await ankle.PublishAsync("proximity/v1/devices/A6/position", MqttTestClient.Fix(1, now.AddSeconds(1), 90))).IsSuccess);

        var received = await meldkamer.WaitFor(m => m.Topic == "proximity/v1/alerts/critical" && m.Payload.Contains("\"banId\":\"ban6\"", StringComparison.Ordinal), "breach of ban6");
        Assert.Equal(AlertType.ContactBanBreach, AlertJson.Deserialize(received.Payload)!.Type);
        await phone.WaitFor(m => m.Payload.Contains("\"level\":\"danger\"", StringComparison.Ordinal), "danger notice via Mosquitto");
        // The service reads device uplinks only, not the notifications and commands it sends itself: a fix sent after
        // the notice arrived is handled after it would have been, and nothing was rejected.
        Assert.True((await phone.PublishAsync("proximity/v1/devices/P6/position", MqttTestClient.Fix(2, now.AddSeconds(2), 0))).IsSuccess);
        await WaitUntilAsync(async () => (await service.Grains.DeviceGrain("P6").GetStatus()).LastSeq == 2);
        Assert.Equal(0, rejects.Total);
    }

    [Fact]
    public async Task Mosquittos_acl_refuses_a_device_publishing_as_another_and_reading_what_is_not_its_own()
    {
        await using var broker = await MosquittoBroker.StartAsync(Users);
        await using var ankle = await MqttTestClient.ConnectAsync(broker.Port, "A6", "ankle-secret");
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized,
            (await ankle.PublishAsync("proximity/v1/devices/P6/position", MqttTestClient.Fix(1, DateTimeOffset.UtcNow, 0))).ReasonCode);

        // Mosquitto grants any subscription and filters on delivery; messages to one client arrive in order,
        // so once the last (allowed) message is in, an earlier forbidden one would have been too.
        await ankle.SubscribeAsync("proximity/v1/devices/+/notify");
        await using var meldkamer = await MqttTestClient.ConnectAsync(broker.Port, "meldkamer-1", "meldkamer-secret");
        await meldkamer.SubscribeAsync("proximity/v1/devices/#");
        await meldkamer.SubscribeAsync("proximity/v1/alerts/#");
        await using var service = await MqttTestClient.ConnectAsync(broker.Port, MosquittoBroker.ServiceUser, MosquittoBroker.ServicePassword);
        await using var phone = await MqttTestClient.ConnectAsync(broker.Port, "P6", "phone-secret");
        Assert.True((await phone.PublishAsync("proximity/v1/devices/P6/position", MqttTestClient.Fix(1, DateTimeOffset.UtcNow, 0))).IsSuccess);
        await service.PublishAsync("proximity/v1/devices/P6/notify", "{\"level\":\"warning\"}");
        await service.PublishAsync("proximity/v1/devices/A6/notify", "{\"level\":\"test\"}");
        await service.PublishAsync("proximity/v1/alerts/warning", "{}");

        await ankle.WaitFor(m => m.Topic == "proximity/v1/devices/A6/notify", "own notify");
        Assert.DoesNotContain(ankle.Received, m => m.Topic.Contains("P6", StringComparison.Ordinal));
        await meldkamer.WaitFor(m => m.Topic == "proximity/v1/alerts/warning", "alert");
        Assert.DoesNotContain(meldkamer.Received, m => m.Topic.StartsWith("proximity/v1/devices/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Messages_published_while_the_service_is_down_are_handled_when_it_comes_back()
    {
        await using var broker = await MosquittoBroker.StartAsync(Users);
        string clientId = "proximity-test-" + Guid.NewGuid().ToString("N")[..6];
        // First run: the service creates its persistent session and subscriptions, then stops.
        await (await StartServiceAsync(broker, clientId)).DisposeAsync();

        await using (var ankle = await MqttTestClient.ConnectAsync(broker.Port, "A7", "ankle-secret"))
        {
            var result = await ankle.PublishAsync("proximity/v1/devices/A7/event", $"{{\"seq\":5,\"ts\":\"{DateTimeOffset.UtcNow:O}\",\"type\":\"strap_open\"}}");
            Assert.True(result.IsSuccess, result.ReasonCode.ToString());
        }

        await using var service = await StartServiceAsync(broker, clientId);
        await WaitUntilAsync(async () => (await service.Grains.DeviceGrain("A7").GetStatus()).StrapOpen);
    }

    // Polls grain state, which has no change signal of its own; bounded and generous for a loaded machine.
    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 60 s");
            await Task.Delay(50);
        }
    }
}
