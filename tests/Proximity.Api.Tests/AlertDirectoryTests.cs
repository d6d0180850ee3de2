using Proximity.Api.Alerts;
using Proximity.Api.Problems;
using Proximity.Spatial.Monitoring;

namespace Proximity.Api.Tests;

public sealed class AlertDirectoryTests
{
    private static Alert Alert(string id) => new()
    {
        Id = id, Type = AlertType.StrapTamper, Severity = AlertSeverity.Critical, OffenderId = "o1",
        RaisedAt = DateTimeOffset.UtcNow, DecidedAt = DateTimeOffset.UtcNow,
        Evidence = new AlertEvidence { Rule = "Event", Summary = "strap opened", Fixes = [] },
    };

    /// <summary>An owner of alerts (like the alert grains) that records actions or refuses them.</summary>
    private sealed class Owner : IAlertHandling
    {
        public List<string> Calls { get; } = [];
        public bool Refuse { get; set; }

        private Task Record(string call)
        {
            if (Refuse) throw ApiProblemException.Conflict("the owner refused");
            lock (Calls) Calls.Add(call);
            return Task.CompletedTask;
        }

        public Task AcknowledgeAsync(string alertId, string user, string? note) => Record($"ack {alertId} {user}");
        public Task DispatchAsync(string alertId, string user, string unit) => Record($"dispatch {alertId} {unit}");
        public Task ResolveAsync(string alertId, string user, string reason) => Record($"resolve {alertId} {reason}");
    }

    [Fact]
    public async Task Actions_are_recorded_by_the_owner_first_and_a_refusal_changes_nothing()
    {
        var owner = new Owner();
        var directory = new InMemoryAlertDirectory(TimeProvider.System, owner);
        await directory.PublishAsync(new MonitorEvent(MonitorEventKind.Raised, Alert("a1")));

        owner.Refuse = true;
        var refused = await Assert.ThrowsAsync<ApiProblemException>(() => directory.AcknowledgeAsync("a1", "op", null));
        Assert.Equal(409, refused.Status);
        Assert.Equal(AlertState.Open, (await directory.GetAsync("a1"))!.State);

        owner.Refuse = false;
        await directory.AcknowledgeAsync("a1", "op", null);
        await directory.DispatchAsync("a1", "op", "AM-1");
        // Out of order: refused by the directory before the owner is asked.
        await Assert.ThrowsAsync<ApiProblemException>(() => directory.AcknowledgeAsync("a1", "op", null));
        await directory.ResolveAsync("a1", "op", "done");
        Assert.Equal(["ack a1 op", "dispatch a1 AM-1", "resolve a1 done"], owner.Calls);
        Assert.Equal(AlertState.Resolved, (await directory.GetAsync("a1"))!.State);
    }

    [Fact]
    public async Task A_watcher_sees_every_change_in_order_and_an_update_keeps_the_handling()
    {
        var directory = new InMemoryAlertDirectory();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var feed = directory.WatchAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        await directory.PublishAsync(new MonitorEvent(MonitorEventKind.Raised, Alert("a2")));
        await directory.AcknowledgeAsync("a2", "op", "seen");
        await directory.PublishAsync(new MonitorEvent(MonitorEventKind.Cleared, Alert("a2") with { ClearedAt = DateTimeOffset.UtcNow, ClearReason = "strap closed" }));
        var kinds = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await feed.MoveNextAsync());
            kinds.Add(feed.Current.Kind);
        }
        Assert.Equal(["raised", "acknowledged", "cleared"], kinds);
        Assert.Equal(AlertState.Acknowledged, feed.Current.Record.State);
        Assert.Equal("strap closed", feed.Current.Record.Alert.ClearReason);
        await cts.CancelAsync();
        await feed.DisposeAsync();
    }
}
