using Proximity.Scenarios.Generator;

namespace Proximity.Scenarios;

/// <summary>Assertions on episodes, not single fixes.</summary>
public static class ScenarioAssert
{
    /// <summary>
    /// Every must-detect episode has exactly one breach alert of its type and ban, raised no earlier than
    /// <see cref="ScenarioScore.EarlySlack"/> before it began and no later than <see cref="ScenarioScore.LateSlack"/>
    /// after it ended; no breach alert lies outside every true episode.
    /// </summary>
    public static ScenarioScore Episodes(Scenario scenario, IReadOnlyList<DecidedAlert> alerts)
    {
        var score = ScenarioScore.Of(scenario, alerts);
        string why = score.Explain();
        foreach (var e in score.MustDetect)
        {
            var matching = alerts.Where(a => ScenarioScore.Matches(e, a)).ToList();
            Assert.True(matching.Count == 1, $"{matching.Count} breach alerts for the true episode {e.BanId} from {e.Start:HH:mm:ss}:\n{why}");
            var raised = matching[0].RaisedAt;
            Assert.True(raised >= e.Start - ScenarioScore.EarlySlack && raised <= e.End + ScenarioScore.LateSlack,
                $"raisedAt {raised:HH:mm:ss} is not inside or shortly after the true episode:\n{why}");
        }
        Assert.True(score.FalseAlerts.Count == 0, $"false breach alerts:\n{why}");
        return score;
    }

    public static void NoBreach(Scenario scenario, IReadOnlyList<DecidedAlert> alerts)
    {
        Assert.Empty(scenario.Episodes);
        var breaches = alerts.Where(a => a.IsBreach).ToList();
        Assert.True(breaches.Count == 0, $"breach alerts on a near miss:\n{ScenarioScore.Of(scenario, alerts).Explain()}\n{string.Join('\n', breaches.Select(b => b.Line))}");
    }
}
