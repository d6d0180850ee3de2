using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class AlertGrainTests(ClusterFixture f)
{
    private Alert NewAlert(string id, AlertSeverity severity) => new()
    {
        Id = id,
        Type = AlertType.ExclusionZoneBreach,
        Severity = severity,
        OffenderId = "O-test",
        BanId = "ban-test",
        RaisedAt = f.Time.GetUtcNow(),
        DecidedAt = f.Time.GetUtcNow(),
        Evidence = new AlertEvidence { Rule = "Certain", Summary = "test alert", Fixes = [] },
    };

    [Fact]
    public async Task An_alert_goes_open_acknowledged_dispatched_resolved_and_records_who_did_what()
    {
        var grain = f.Grains.AlertGrain("lifecycle-1");
        await grain.Raise(NewAlert("lifecycle-1", AlertSeverity.High));
        await grain.Raise(NewAlert("lifecycle-1", AlertSeverity.High)); // a retry changes nothing
        Assert.Equal(AlertStatus.Open, (await grain.Get())!.Status);

        Assert.Equal(AlertStatus.Acknowledged, (await grain.Acknowledge("operator-7")).Status);
        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Acknowledge("operator-7"));
        Assert.Equal(AlertStatus.Dispatched, (await grain.Dispatch("unit 12-34", "operator-7")).Status);
        await Assert.ThrowsAsync<ArgumentException>(() => grain.Resolve(" ", "operator-7"));
        var resolved = await grain.Resolve("offender found at home, ban explained", "operator-7");

        Assert.Equal(AlertStatus.Resolved, resolved.Status);
        Assert.Equal(["raised", "acknowledged", "dispatched", "resolved"], resolved.History.Select(h => h.What));
        Assert.Equal("unit 12-34", resolved.History[2].Note);
        await Assert.ThrowsAsync<InvalidOperationException>(() => grain.Dispatch("unit 1", "operator-7"));
        // Published in the background, in order per route: once a later alert of the same route is out, a second
        // copy of this one would have been too.
        await f.Grains.AlertGrain("lifecycle-1-after").Raise(NewAlert("lifecycle-1-after", AlertSeverity.High));
        await f.Mqtt.WaitFor(m => m.Payload.Contains("\"id\":\"lifecycle-1-after\"", StringComparison.Ordinal), "the later alert");
        Assert.Single(f.Mqtt.Messages, m => m.Payload.Contains("\"id\":\"lifecycle-1\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Handling_an_alert_that_was_never_raised_is_refused()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => f.Grains.AlertGrain("never-raised").Acknowledge("operator-7"));
        Assert.Null(await f.Grains.AlertGrain("never-raised").Get());
    }

    [Fact]
    public async Task An_unacknowledged_critical_alert_is_escalated_to_the_police_and_an_acknowledged_one_is_not()
    {
        var waiting = f.Grains.AlertGrain("escalate-1");
        var handled = f.Grains.AlertGrain("escalate-2");
        await waiting.Raise(NewAlert("escalate-1", AlertSeverity.Critical));
        await handled.Raise(NewAlert("escalate-2", AlertSeverity.Critical));
        await handled.Acknowledge("operator-7");

        f.Time.Advance(ClusterFixture.EscalateAfter + TimeSpan.FromSeconds(1));
        var escalated = await f.Mqtt.WaitFor(m => m.Payload.Contains("\"id\":\"escalate-1\"", StringComparison.Ordinal)
            && m.Payload.Contains("PoliceControlRoom", StringComparison.Ordinal), "escalation of escalate-1");
        Assert.Equal("proximity/v1/alerts/critical", escalated.Topic);
        Assert.Equal(AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom, AlertJson.Deserialize(escalated.Payload)!.Recipients);
        var record = (await waiting.Get())!;
        Assert.True(record.Escalated);
        Assert.Contains(record.History, h => h.What == "escalated");
        Assert.False((await handled.Get())!.Escalated);
    }
}
