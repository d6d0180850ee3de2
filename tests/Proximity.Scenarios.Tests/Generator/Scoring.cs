namespace Proximity.Scenarios.Generator;

/// <summary>How a decider's breach alerts compare with the true episodes of one scenario.</summary>
public sealed record ScenarioScore(
    Scenario Scenario,
    IReadOnlyList<DecidedAlert> Alerts,
    IReadOnlyList<TrueEpisode> MustDetect,
    IReadOnlyList<TrueEpisode> Missed,
    IReadOnlyList<DecidedAlert> FalseAlerts,
    int DetectedEpisodes,
    int AlertsOnDetectedEpisodes,
    IReadOnlyList<TrueEpisode> RepeatedEpisodes)
{
    /// <summary>An alert may come this much before the true start (noise seen entering early)...</summary>
    public static readonly TimeSpan EarlySlack = TimeSpan.FromSeconds(60);

    /// <summary>...or this much after the true end (evidence gathered from the last fixes).</summary>
    public static readonly TimeSpan LateSlack = TimeSpan.FromSeconds(120);

    /// <summary>The alert's open interval overlaps the episode (an alert already open when it begins covers it).</summary>
    public static bool Matches(TrueEpisode e, DecidedAlert a) =>
        a.IsBreach && a.BanId == e.BanId && a.Type == e.Type &&
        a.RaisedAt <= e.End + LateSlack && (a.ClearedAt ?? DateTimeOffset.MaxValue) >= e.Start - EarlySlack;

    public static ScenarioScore Of(Scenario scenario, IReadOnlyList<DecidedAlert> alerts)
    {
        var breaches = alerts.Where(a => a.IsBreach).ToList();
        var must = scenario.Episodes.Where(e => e.MustDetect).ToList();
        var missed = must.Where(e => !breaches.Any(a => Matches(e, a))).ToList();
        var falseAlerts = breaches.Where(a => !scenario.Episodes.Any(e => Matches(e, a))).ToList();
        int detected = 0, onDetected = 0;
        var repeated = new List<TrueEpisode>();
        foreach (var e in must)
        {
            int n = breaches.Count(a => Matches(e, a));
            if (n == 0) continue;
            detected++;
            onDetected += n;
            if (n > 1) repeated.Add(e);
        }
        return new ScenarioScore(scenario, alerts, must, missed, falseAlerts, detected, onDetected, repeated);
    }

    public bool Perfect => Missed.Count == 0 && FalseAlerts.Count == 0 && RepeatedEpisodes.Count == 0;

    public string Explain()
    {
        var lines = new List<string> { Scenario.ToString() };
        foreach (var e in Scenario.Episodes)
            lines.Add($"  truth {e.BanId} {e.Type} {e.Start:HH:mm:ss}-{e.End:HH:mm:ss} depth {e.MaxDepth:F0} m seen {e.SeenFixes} must {e.MustDetect}");
        foreach (var a in Alerts.Where(a => a.IsBreach))
            lines.Add($"  alert {a.Type} {a.BanId} raisedAt {a.RaisedAt:HH:mm:ss} clearedAt {a.ClearedAt:HH:mm:ss} late {a.Late}{(FalseAlerts.Contains(a) ? " FALSE" : "")}");
        foreach (var e in Missed) lines.Add($"  MISSED {e.BanId} {e.Start:HH:mm:ss}");
        return string.Join('\n', lines);
    }
}
