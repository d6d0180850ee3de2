using Proximity.Storage.Alerts;

namespace Proximity.Storage.Tests;

public sealed class AlertStoreTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    private static readonly Spatial.Monitoring.Alert Sample = Samples.Alert("alert-1",
        Samples.Fix("dev-a", 1, Samples.Day0.AddHours(1)), Samples.Fix("dev-a", 2, Samples.Day0.AddHours(1).AddSeconds(5)));

    [Fact]
    public async Task The_same_episode_recorded_twice_or_concurrently_is_one_alert()
    {
        var alerts = new AlertStore(Database);

        var writes = await Task.WhenAll(Enumerable.Range(0, 5).Select(i =>
            alerts.RecordAsync(Sample with { Id = $"alert-{i}" }, "off-1/ban-1/episode-1", Ct)));

        Assert.Single(writes, w => w.Created);
        Assert.Single(writes.Select(w => w.AlertId).Distinct());
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM alert"));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM alert_event"));
    }

    [Fact]
    public async Task Stored_alerts_are_the_outbox_until_published_once()
    {
        var alerts = new AlertStore(Database);
        await alerts.RecordAsync(Sample, "k1", Ct);
        await alerts.RecordAsync(Sample with { Id = "alert-2" }, "k2", Ct);

        var outbox = await alerts.UnpublishedAsync(10, Ct);
        Assert.Equal(["alert-1", "alert-2"], outbox.Select(a => a.Id).Order());
        Assert.Equal(Sample.Evidence.Fixes, outbox.Single(a => a.Id == "alert-1").Alert.Evidence.Fixes);

        Assert.True(await alerts.MarkPublishedAsync("alert-1", Ct));
        Assert.False(await alerts.MarkPublishedAsync("alert-1", Ct));
        Assert.Equal(["alert-2"], (await alerts.UnpublishedAsync(10, Ct)).Select(a => a.Id));
    }

    [Fact]
    public async Task The_lifecycle_moves_forward_only_and_every_step_is_an_event()
    {
        var alerts = new AlertStore(Database);
        await alerts.RecordAsync(Sample, "k1", Ct);

        await alerts.TransitionAsync("alert-1", AlertState.Acknowledged, "operator-3", null, Ct);
        await Assert.ThrowsAsync<AlertTransitionException>(() => alerts.TransitionAsync("alert-1", AlertState.Open, "operator-3", null, Ct));
        await alerts.TransitionAsync("alert-1", AlertState.Dispatched, "operator-3", """{"unit":"A-12"}""", Ct);
        await alerts.TransitionAsync("alert-1", AlertState.Resolved, "operator-4", """{"reason":"offender left, unit on scene"}""", Ct);
        await Assert.ThrowsAsync<AlertTransitionException>(() => alerts.TransitionAsync("alert-1", AlertState.Resolved, "operator-4", null, Ct));
        await alerts.UpdateAsync(Sample with { ClearedAt = Samples.Day0.AddHours(2), ClearReason = "left the zone" }, Ct);

        var stored = await alerts.GetAsync("alert-1", Ct);
        var events = await alerts.EventsAsync("alert-1", Ct);
        Assert.Equal(AlertState.Resolved, stored!.State);
        Assert.Equal("left the zone", stored.Alert.ClearReason);
        Assert.Equal(["raised", "acknowledged", "dispatched", "resolved", "cleared"], events.Select(e => e.Kind));
        Assert.Equal("operator-4", events[3].Actor);
        Assert.Contains("A-12", events[2].DetailJson, StringComparison.Ordinal);
        Assert.Equal(2L, await ScalarAsync<long>("SELECT count(*) FROM alert_fix WHERE alert_id = 'alert-1'"));
    }
}
