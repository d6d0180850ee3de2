using Microsoft.Extensions.DependencyInjection;
using MQTTnet;
using MQTTnet.Formatter;
using Proximity.Grains;
using Proximity.Grains.Registry;

namespace Proximity.Ingest.Tests;

[Collection(EmbeddedCollection.Name)]
public sealed class AuthAndAclTests(EmbeddedFixture f)
{
    [Theory]
    [InlineData("A2", "wrong-secret", MqttClientConnectResultCode.BadUserNameOrPassword)]
    [InlineData("nobody", "ankle-secret", MqttClientConnectResultCode.BadUserNameOrPassword)]
    [InlineData("meldkamer-1", "ankle-secret", MqttClientConnectResultCode.BadUserNameOrPassword)]
    [InlineData("A2", "", MqttClientConnectResultCode.BadUserNameOrPassword)]
    public async Task Wrong_credentials_are_refused(string id, string secret, MqttClientConnectResultCode expected)
    {
        Assert.Equal(expected, await MqttTestClient.TryConnectAsync(f.Host.MqttPort, id, id, secret));
    }

    [Fact]
    public async Task A_client_id_other_than_the_username_is_refused()
    {
        Assert.Equal(MqttClientConnectResultCode.ClientIdentifierNotValid, await MqttTestClient.TryConnectAsync(f.Host.MqttPort, "P2", "A2", "ankle-secret"));
        Assert.Equal(MqttClientConnectResultCode.Success, await MqttTestClient.TryConnectAsync(f.Host.MqttPort, "A2", "A2", "ankle-secret"));
    }

    [Fact]
    public async Task A_device_publishing_as_another_device_is_refused_and_changes_nothing()
    {
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A2", "ankle-secret");
        long before = f.Rejects["TopicMismatch"];
        var result = await ankle.PublishAsync("proximity/v1/devices/P2/position", MqttTestClient.Fix(1, DateTimeOffset.UtcNow, 0));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        Assert.Equal(before + 1, f.Rejects["TopicMismatch"]);
        Assert.Equal(0, (await f.Host.Grains.DeviceGrain("P2").GetStatus()).Messages);
        Assert.True(ankle.IsConnected);
    }

    [Fact]
    public async Task A_connection_made_before_its_device_was_re_keyed_cannot_publish_with_it()
    {
        var registry = f.Host.Services.GetRequiredService<ProximityRegistry>();
        await using var phone = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "P3", "phone-secret");
        Assert.True((await phone.PublishAsync("proximity/v1/devices/P3/position", MqttTestClient.Fix(1, DateTimeOffset.UtcNow.AddSeconds(-1), 0))).IsSuccess);
        await f.DeviceMessagesReachAsync("P3", 1); // the device grain hears of a message one way, after its PUBACK

        // Re-keyed in the registry while the connection stays (the race in which ending its session comes too early).
        var entry = registry.Device("P3")!;
        registry.ApplyDevice(new DeviceUpdate("P3", entry.PersonId, entry.Role, false, SecretHash.Create("rotated", 1000)));
        long before = f.Rejects["UnknownDevice"];
        var refused = await phone.PublishAsync("proximity/v1/devices/P3/position", MqttTestClient.Fix(2, DateTimeOffset.UtcNow, 0));
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, refused.ReasonCode);
        Assert.Equal(before + 1, f.Rejects["UnknownDevice"]);
        Assert.Equal(1, (await f.Host.Grains.DeviceGrain("P3").GetStatus()).Messages);
        await phone.WaitDisconnected("the connection made with the old secret closed");
        Assert.Equal(MqttClientConnectResultCode.BadUserNameOrPassword, await MqttTestClient.TryConnectAsync(f.Host.MqttPort, "P3", "P3", "phone-secret"));
        Assert.Equal(MqttClientConnectResultCode.Success, await MqttTestClient.TryConnectAsync(f.Host.MqttPort, "P3", "P3", "rotated"));

        // Logged in anew, the device is heard again, and the refused message never was.
        await using var renewed = await MqttTestClient.ConnectWorkingAsync(f.Host.MqttPort, "P3", "rotated");
        Assert.True((await renewed.PublishAsync("proximity/v1/devices/P3/position", MqttTestClient.Fix(3, DateTimeOffset.UtcNow, 0))).IsSuccess);
        await f.DeviceMessagesReachAsync("P3", 2);
        Assert.Equal(3, (await f.Host.Grains.DeviceGrain("P3").GetStatus()).LastSeq);
    }

    [Fact]
    public async Task A_device_publishing_as_another_device_over_MQTT_3_1_1_changes_nothing()
    {
        await using var ankle = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "A2", "ankle-secret", MqttProtocolVersion.V311);
        await ankle.PublishAsync("proximity/v1/devices/P2/event", $"{{\"seq\":1,\"ts\":\"{DateTimeOffset.UtcNow:O}\",\"type\":\"sos\"}}");
        Assert.Equal(0, (await f.Host.Grains.DeviceGrain("P2").GetStatus()).Messages);
    }

    [Theory]
    [InlineData("A2", "proximity/v1/devices/A2/notify", true)]
    [InlineData("A2", "proximity/v1/devices/A2/command", true)]
    [InlineData("A2", "proximity/v1/devices/P2/notify", false)]
    [InlineData("A2", "proximity/v1/devices/+/notify", false)]
    [InlineData("A2", "proximity/v1/devices/#", false)]
    [InlineData("A2", "proximity/v1/alerts/#", false)]
    [InlineData("A2", "#", false)]
    [InlineData("meldkamer-1", "proximity/v1/alerts/#", true)]
    [InlineData("meldkamer-1", "proximity/v1/alerts/critical", true)]
    [InlineData("meldkamer-1", "proximity/v1/devices/+/position", false)]
    [InlineData("meldkamer-1", "#", false)]
    public async Task Subscriptions_follow_the_topic_acl(string id, string filter, bool granted)
    {
        await using var client = await MqttTestClient.ConnectWorkingAsync(f.Host.MqttPort, id, id == "meldkamer-1" ? "meldkamer-secret" : "ankle-secret");
        var code = await client.SubscribeAsync(filter);
        if (granted) Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, code);
        else Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, code);
    }

    [Fact]
    public async Task An_integration_from_configuration_logs_in_and_reads_alerts_only()
    {
        await using var dispatch = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "dispatch-cfg", "cfg-secret");
        Assert.Equal(MqttClientSubscribeResultCode.GrantedQoS1, await dispatch.SubscribeAsync("proximity/v1/alerts/#"));
        Assert.Equal(MqttClientSubscribeResultCode.NotAuthorized, await dispatch.SubscribeAsync("proximity/v1/devices/A2/notify"));
    }

    [Fact]
    public async Task An_integration_may_not_publish()
    {
        await using var meldkamer = await MqttTestClient.ConnectAsync(f.Host.MqttPort, "meldkamer-1", "meldkamer-secret");
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, (await meldkamer.PublishAsync("proximity/v1/alerts/critical", "{}")).ReasonCode);
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized,
            (await meldkamer.PublishAsync("proximity/v1/devices/A2/position", MqttTestClient.Fix(1, DateTimeOffset.UtcNow, 0))).ReasonCode);
        Assert.Equal(0, (await f.Host.Grains.DeviceGrain("A2").GetStatus()).Messages);
    }
}
