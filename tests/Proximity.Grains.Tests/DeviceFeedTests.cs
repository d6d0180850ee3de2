using Proximity.Grains.Registry;
using Proximity.Protocol;

namespace Proximity.Grains.Tests;

/// <summary>A broker outage is one event, not a DeviceOffline for every device.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DeviceFeedTests(ClusterFixture f)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_feed_is_lost_only_while_every_node_that_still_reports_hears_no_device()
    {
        var grain = f.Grains.GetGrain<IDeviceFeedGrain>(101);
        Assert.True((await grain.Report("n1", false)).Lost); // the only node hears nothing
        Assert.False((await grain.Report("n2", true)).Lost); // one node hearing its devices is enough
        Assert.True((await grain.Report("n2", false)).Lost);
        Assert.Equal(new DeviceFeedStatus(false, f.Time.GetUtcNow()), await grain.Report("n1", true));

        // A node that stops reporting no longer counts: n1, the one still hearing its devices, dies.
        Assert.False((await grain.Report("n2", false)).Lost);
        await Task.Delay(ClusterFixture.DeviceFeedLease + TimeSpan.FromMilliseconds(300), Ct);
        Assert.True((await grain.Report("n2", false)).Lost);
    }

    [Fact]
    public async Task While_no_node_hears_its_devices_silence_is_not_reported_and_afterwards_each_device_gets_its_full_limit()
    {
        static bool OfflineOf(Published m, string device) => m.Payload.Contains("DeviceOffline", StringComparison.Ordinal)
            && m.Payload.Contains($"\"deviceId\":\"{device}\"", StringComparison.Ordinal);
        var limit = new ProximityOptions().SilenceLimit(ClusterFixture.OffenderInterval);
        try
        {
            f.Registry.ApplyDevice(new DeviceUpdate("f1", "O40", PersonRole.Offender, false, SecretHash.Create("s", 1000)));
            await f.Grains.DeviceGrain("f1").RefreshAssignment();
            f.Feed.Update(new DeviceFeedStatus(true, null));
            f.Time.Advance(2 * limit);
            await Task.Delay(3 * ClusterFixture.SilenceCheckPeriod, Ct);
            Assert.False((await f.Grains.DeviceGrain("f1").GetStatus()).Offline);

            // Heard again: f1's silence counts from now.
            var heardAgain = f.Time.GetUtcNow();
            f.Feed.Update(new DeviceFeedStatus(false, heardAgain));
            f.Time.Advance(limit - TimeSpan.FromSeconds(5));
            await Task.Delay(3 * ClusterFixture.SilenceCheckPeriod, Ct);
            Assert.False((await f.Grains.DeviceGrain("f1").GetStatus()).Offline);
            Assert.DoesNotContain(f.Mqtt.Messages, m => OfflineOf(m, "f1"));

            f.Time.Advance(TimeSpan.FromSeconds(6));
            var alert = AlertJson.Deserialize((await f.Mqtt.WaitFor(m => OfflineOf(m, "f1"), "f1 offline")).Payload)!;
            Assert.True(alert.RaisedAt >= heardAgain + limit, $"raised at {alert.RaisedAt:O}, heard again at {heardAgain:O}");
        }
        finally
        {
            f.Feed.Update(new DeviceFeedStatus(false, null));
        }
    }
}
