using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Proximity.Grains.Registry;
using Proximity.Protocol;

namespace Proximity.Grains.Tests;

/// <summary>A broker outage is one event, not a DeviceOffline for every device.</summary>
[Collection(ClusterCollection.Name)]
public sealed class DeviceFeedTests(ClusterFixture f) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Limit = new ProximityOptions().SilenceLimit(ClusterFixture.OffenderInterval);

    // The other tests of the cluster hear their devices.
    public void Dispose() => f.Feed.Update(DeviceFeedStatus.Heard);

    [Fact]
    public async Task The_feed_is_lost_only_while_every_node_that_still_reports_hears_no_device()
    {
        var grain = f.Grains.GetGrain<IDeviceFeedGrain>(101);
        Assert.False((await grain.Report("n1", false)).Lost); // a new activation first hears every node out
        await PastActivationHoldAsync();
        var lostAt = f.Time.GetUtcNow();
        Assert.Equal(new DeviceFeedStatus(true, lostAt, null), await grain.Report("n1", false)); // the only node hears nothing
        f.Time.Advance(TimeSpan.FromMinutes(10)); // a wall-clock step during the outage does not lengthen it
        var back = await grain.Report("n2", true); // one node hearing its devices is enough
        Assert.False(back.Lost);
        Assert.Equal(lostAt, back.LostAt);
        Assert.InRange(back.HeardAgainAt!.Value - lostAt, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.True((await grain.Report("n2", false)).Lost);
        Assert.False((await grain.Report("n1", true)).Lost);

        // A node that stops reporting no longer counts: n1, the one still hearing its devices, dies.
        Assert.False((await grain.Report("n2", false)).Lost);
        await Task.Delay(ClusterFixture.DeviceFeedLease + TimeSpan.FromMilliseconds(300), Ct);
        Assert.True((await grain.Report("n2", false)).Lost);
    }

    [Fact]
    public async Task A_feed_grain_moving_during_an_outage_goes_on_with_it_and_ends_it_only_after_hearing_every_node_out()
    {
        var grain = f.Grains.GetGrain<IDeviceFeedGrain>(102);
        await grain.Report("n1", false);
        await PastActivationHoldAsync();
        var lostAt = f.Time.GetUtcNow();
        Assert.Equal(new DeviceFeedStatus(true, lostAt, null), await grain.Report("n1", false));
        f.Time.Advance(TimeSpan.FromSeconds(20));

        // Its node dies: the next activation holds the outage, and a node hearing again changes nothing until every
        // node has had time to speak.
        await ClusterFixture.Deactivate(grain);
        Assert.Equal(new DeviceFeedStatus(true, lostAt, null), await grain.Report("n2", true));
        await PastActivationHoldAsync();
        var back = await grain.Report("n2", true);
        Assert.False(back.Lost);
        Assert.Equal(lostAt, back.LostAt);
        Assert.InRange(back.HeardAgainAt!.Value - lostAt, TimeSpan.FromSeconds(20) + DeviceFeedGrain.ActivationHold, TimeSpan.FromSeconds(30));

        await ClusterFixture.Deactivate(grain);
        Assert.Equal(DeviceFeedStatus.Heard, await grain.Report("n2", true)); // ended: nothing left to go on with
    }

    [Fact]
    public async Task A_stored_outage_older_than_the_longest_suppression_is_not_gone_on_with()
    {
        var storage = f.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(ProximitySilo.StorageName);
        var stale = f.Grains.GetGrain<IDeviceFeedGrain>(103);
        var recent = f.Grains.GetGrain<IDeviceFeedGrain>(104);
        var now = f.Time.GetUtcNow();
        await storage.WriteStateAsync(DeviceFeedGrain.StateName, stale.GetGrainId(), new GrainState<DeviceFeedState>(
            new DeviceFeedState { LostSince = now - DeviceFeed.DefaultLongestSuppression - TimeSpan.FromSeconds(1) }));
        await storage.WriteStateAsync(DeviceFeedGrain.StateName, recent.GetGrainId(), new GrainState<DeviceFeedState>(
            new DeviceFeedState { LostSince = now - DeviceFeed.DefaultLongestSuppression + TimeSpan.FromSeconds(10) }));

        // An outage stored long ago (a write of its end that failed, a cluster stopped during it) would make every
        // device's silence before it count for nothing.
        Assert.Equal(DeviceFeedStatus.Heard, await stale.Report("n1", true));
        Assert.True((await recent.Report("n1", true)).Lost);
    }

    [Fact]
    public async Task While_no_node_hears_its_devices_silence_is_not_reported_and_afterwards_the_outage_does_not_count()
    {
        var watched = await WatchedThroughALostFeedAsync("f1", "O40");

        // Heard again: f1's silence counts from now.
        var heardAgain = f.Time.GetUtcNow();
        f.Feed.Update(new DeviceFeedStatus(false, watched, heardAgain));
        f.Time.Advance(Limit - TimeSpan.FromSeconds(5));
        await AssertNotOfflineAsync("f1");
        Assert.DoesNotContain(f.Mqtt.Messages, m => OfflineOf(m, "f1"));

        f.Time.Advance(TimeSpan.FromSeconds(6));
        var alert = AlertJson.Deserialize((await f.Mqtt.WaitFor(m => OfflineOf(m, "f1"), "f1 offline")).Payload)!;
        Assert.InRange(alert.RaisedAt, heardAgain + Limit, heardAgain + Limit + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task A_short_outage_delays_a_silent_devices_report_by_its_own_length_only()
    {
        var watched = await WatchAsync("f2", "O41");
        f.Time.Advance(Limit - TimeSpan.FromSeconds(10));
        var lostAt = f.Time.GetUtcNow();
        f.Time.Advance(TimeSpan.FromSeconds(3));
        f.Feed.Update(new DeviceFeedStatus(false, lostAt, f.Time.GetUtcNow()));
        f.Time.Advance(TimeSpan.FromSeconds(8)); // the limit has passed, but 3 s of it nobody heard any device
        await AssertNotOfflineAsync("f2");

        f.Time.Advance(TimeSpan.FromSeconds(3));
        var alert = AlertJson.Deserialize((await f.Mqtt.WaitFor(m => OfflineOf(m, "f2"), "f2 offline")).Payload)!;
        Assert.InRange(alert.RaisedAt, watched + Limit + TimeSpan.FromSeconds(3), watched + Limit + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task Blind_for_longer_than_the_longest_suppression_silence_is_reported_again()
    {
        await WatchedThroughALostFeedAsync("f3", "O42");
        await f.Mqtt.WaitFor(m => OfflineOf(m, "f3"), "f3 offline once the feed has been lost for the longest suppression");
    }

    private static Task PastActivationHoldAsync() => Task.Delay(DeviceFeedGrain.ActivationHold + TimeSpan.FromMilliseconds(300), Ct);

    // A new device watched from now, the feed lost from then on: twice its silence limit later it is not reported.
    private async Task<DateTimeOffset> WatchedThroughALostFeedAsync(string device, string offender)
    {
        var watched = await WatchAsync(device, offender);
        f.Feed.Update(new DeviceFeedStatus(true, watched, null));
        f.Time.Advance(2 * Limit);
        await AssertNotOfflineAsync(device);
        return watched;
    }

    // Three (real-time) check periods: the device's silence was looked at since, and it was not reported.
    private async Task AssertNotOfflineAsync(string device)
    {
        await Task.Delay(3 * ClusterFixture.SilenceCheckPeriod, Ct);
        Assert.False((await f.Grains.DeviceGrain(device).GetStatus()).Offline);
    }

    private static bool OfflineOf(Published m, string device) => m.Payload.Contains("DeviceOffline", StringComparison.Ordinal)
        && m.Payload.Contains($"\"deviceId\":\"{device}\"", StringComparison.Ordinal);

    // A new ankle monitor for a new offender, watched from now.
    private async Task<DateTimeOffset> WatchAsync(string device, string offender)
    {
        var at = f.Time.GetUtcNow();
        f.Registry.ApplyDevice(new DeviceUpdate(device, offender, PersonRole.Offender, false, SecretHash.Create("s", 1000)));
        await f.Grains.DeviceGrain(device).RefreshAssignment();
        return at;
    }
}

/// <summary>A node's copy of the feed's status, as the control rooms are shown it.</summary>
public sealed class DeviceFeedCopyTests
{
    [Fact]
    public async Task The_people_are_told_of_an_outage_for_as_long_as_it_lasts_while_the_node_hears_the_feed_grain()
    {
        var ct = TestContext.Current.CancellationToken;
        var feed = new DeviceFeed(staleAfter: TimeSpan.FromSeconds(5), longestSuppression: TimeSpan.FromMilliseconds(100));
        Assert.Null(feed.Known); // no word from the feed grain yet
        var lost = new DeviceFeedStatus(true, DateTimeOffset.UtcNow, null);
        feed.Update(lost);
        Assert.Equal(lost, feed.Known);
        await Task.Delay(300, ct);
        Assert.False(feed.Lost); // the devices' silence is reported again after the longest suppression...
        Assert.Equal(lost, feed.Known); // ...but the control rooms are still told no device is heard
        await Task.Delay(5000, ct);
        Assert.Null(feed.Known); // a copy this node has not had renewed is not trusted
    }
}
