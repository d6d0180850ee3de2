using Proximity.Protocol;
using Proximity.Replay;
using Proximity.Spatial.Monitoring;

namespace Proximity.Scenarios.Generator;

/// <summary>A breach or warning alert as a decider raised it.</summary>
public sealed record DecidedAlert(AlertType Type, string? BanId, DateTimeOffset RaisedAt, DateTimeOffset? ClearedAt, bool Late, string Line)
{
    public bool IsBreach => Type is AlertType.ExclusionZoneBreach or AlertType.InclusionZoneBreach or AlertType.ContactBanBreach;
}

public interface IDecider
{
    string Name { get; }
    IReadOnlyList<DecidedAlert> Decide(Scenario scenario);
}

/// <summary>Our core, exactly as <c>proximity replay</c> runs it (in process, same files).</summary>
public sealed class CoreDecider : IDecider
{
    public string Name => "core (proximity replay)";

    public IReadOnlyList<DecidedAlert> Decide(Scenario scenario) => Run(scenario.CaseJson(), scenario.FixesNdjson());

    public static IReadOnlyList<DecidedAlert> Run(string caseJson, string fixesNdjson)
    {
        var runner = new ReplayRunner(CaseFile.Parse(caseJson));
        using var output = new StringWriter();
        using var errors = new StringWriter();
        runner.Run(new StringReader(fixesNdjson), output, errors);
        if (errors.ToString().Length > 0) throw new InvalidOperationException($"replay rejected generated fixes: {errors}");
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => (line, alert: AlertJson.Deserialize(line)!))
            .Select(x => new DecidedAlert(x.alert.Type, x.alert.BanId, x.alert.RaisedAt, x.alert.ClearedAt, x.alert.Late, x.line))
            .ToList();
    }
}

/// <summary>
/// The strawman: every fix is an exact point. Raises when a fix lands in violation, clears on the first
/// fix that does not. Duplicates (same device and sequence) are ignored so it is not penalised for them.
/// </summary>
public sealed class NaiveDecider : IDecider
{
    public string Name => "naive (fix = exact point)";

    public IReadOnlyList<DecidedAlert> Decide(Scenario scenario)
    {
        var alerts = new List<DecidedAlert>();
        var open = new Dictionary<string, int>(StringComparer.Ordinal);
        var seen = new HashSet<(string, long)>();
        Vec? offender = null, victim = null;
        foreach (var fix in scenario.Fixes)
        {
            if (!seen.Add((fix.Device, fix.Seq))) continue;
            var p = scenario.Plane.ToPlane(fix.Lat, fix.Lon);
            if (fix.Device == Scenario.OffenderDevice) offender = p; else victim = p;
            if (offender is not { } o) continue;
            foreach (var ban in scenario.Bans)
            {
                if (ban.Type == "contact" && victim is null) continue;
                if (fix.Device != Scenario.OffenderDevice && ban.Type != "contact") continue;
                bool violating = ban.Depth(fix.Ts, o, victim ?? default) > 0;
                if (violating && !open.ContainsKey(ban.Id))
                {
                    open[ban.Id] = alerts.Count;
                    alerts.Add(new DecidedAlert(ban.BreachType, ban.Id, fix.Ts, null, false, fix.ToJsonLine()));
                }
                else if (!violating && open.Remove(ban.Id, out int i)) alerts[i] = alerts[i] with { ClearedAt = fix.Ts };
            }
        }
        return alerts;
    }
}
