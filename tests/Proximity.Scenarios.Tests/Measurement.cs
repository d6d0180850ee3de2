using System.Globalization;
using System.Text;
using Proximity.Scenarios.Generator;

namespace Proximity.Scenarios;

/// <summary>Totals of one decider over many scenarios.</summary>
public sealed record DeciderFigures(string Name, int Scenarios, int MustDetect, int Missed, int FalseAlerts, int Detected, int AlertsOnDetected, int Repeated)
{
    public double AlertsPerEpisode => Detected == 0 ? 0 : (double)AlertsOnDetected / Detected;
}

/// <summary>Runs many seeded scenarios through deciders and tabulates misses and false alerts.</summary>
public static class Measurement
{
    public static (DeciderFigures Figures, List<ScenarioScore> Scores) Run(IDecider decider, IReadOnlyList<Scenario> scenarios)
    {
        var scores = scenarios.Select(s => ScenarioScore.Of(s, decider.Decide(s))).ToList();
        var f = new DeciderFigures(decider.Name, scenarios.Count,
            scores.Sum(s => s.MustDetect.Count), scores.Sum(s => s.Missed.Count), scores.Sum(s => s.FalseAlerts.Count),
            scores.Sum(s => s.DetectedEpisodes), scores.Sum(s => s.AlertsOnDetectedEpisodes), scores.Sum(s => s.RepeatedEpisodes.Count));
        return (f, scores);
    }

    public static string Report(int firstSeed, int count, IReadOnlyList<(DeciderFigures Figures, List<ScenarioScore> Scores)> results)
    {
        var ic = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(ic, $"Scenarios: seeds {firstSeed}..{firstSeed + count - 1} ({count}), fixes in total: {results[0].Scores.Sum(s => s.Scenario.Fixes.Count)}");
        sb.AppendLine();
        sb.AppendLine("| decider | must-detect episodes | missed | false breach alerts | alerts per detected episode | episodes alerted more than once |");
        sb.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var (f, _) in results)
            sb.AppendLine(ic, $"| {f.Name} | {f.MustDetect} | {f.Missed} | {f.FalseAlerts} | {f.AlertsPerEpisode:F2} | {f.Repeated} |");
        sb.AppendLine();
        sb.AppendLine("By scenario kind (missed / false / repeated):");
        sb.AppendLine();
        sb.Append("| kind | scenarios | must-detect |");
        foreach (var (f, _) in results) sb.Append(ic, $" {f.Name} |");
        sb.AppendLine();
        sb.Append("| --- | ---: | ---: |");
        foreach (var _ in results) sb.Append(" ---: |");
        sb.AppendLine();
        foreach (var kind in Enum.GetValues<ScenarioKind>())
        {
            var first = results[0].Scores.Where(s => s.Scenario.Kind == kind).ToList();
            if (first.Count == 0) continue;
            sb.Append(ic, $"| {kind} | {first.Count} | {first.Sum(s => s.MustDetect.Count)} |");
            foreach (var (_, scores) in results)
            {
                var k = scores.Where(s => s.Scenario.Kind == kind).ToList();
                sb.Append(ic, $" {k.Sum(s => s.Missed.Count)} / {k.Sum(s => s.FalseAlerts.Count)} / {k.Sum(s => s.RepeatedEpisodes.Count)} |");
            }
            sb.AppendLine();
        }
        foreach (var (f, scores) in results)
        {
            var bad = scores.Where(s => !s.Perfect).ToList();
            if (bad.Count == 0) continue;
            sb.AppendLine();
            sb.AppendLine(ic, $"Imperfect scenarios for {f.Name} ({bad.Count}):");
            sb.AppendLine("```");
            foreach (var s in bad.Take(40)) sb.AppendLine(s.Explain());
            sb.AppendLine("```");
        }
        return sb.ToString();
    }
}

public sealed class MeasurementTests
{
    /// <summary>
    /// Over many random seeded scenarios: missed must-detect episodes, false breach alerts and alerts per episode
    /// of the core versus the naive decider; writes scenario-report-{noise}.md. Environment: SCENARIO_COUNT (60),
    /// SCENARIO_FIRST_SEED (1), SCENARIO_NOISE, SCENARIO_REPORT_DIR, SCENARIO_DUMP_DIR
    /// (writes case.json, fixes.ndjson, truth.json, fixes-truth.ndjson and core-alerts.ndjson per seed).
    /// </summary>
    [Theory]
    [InlineData(Noise.NoMultipath)]
    [InlineData(Noise.Full)]
    public void Core_versus_naive_over_random_scenarios(Noise noise)
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("SCENARIO_COUNT"), out int c) ? c : 60;
        int first = int.TryParse(Environment.GetEnvironmentVariable("SCENARIO_FIRST_SEED"), out int f) ? f : 1;
        // SCENARIO_NOISE=Full runs the unskipped row with every imperfection, to reproduce the figures of the skipped one.
        if (Enum.TryParse<Noise>(Environment.GetEnvironmentVariable("SCENARIO_NOISE"), out var n)) noise = n;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var scenarios = Enumerable.Range(first, count).AsParallel().AsOrdered().Select(seed => ScenarioGenerator.Generate(seed, noise)).ToList();
        var generated = watch.Elapsed;
        if (Environment.GetEnvironmentVariable("SCENARIO_DUMP_DIR") is { Length: > 0 } dump)
            foreach (var s in scenarios)
            {
                string dir = Path.Combine(dump, $"seed-{s.Seed}");
                s.WriteTo(dir);
                File.WriteAllLines(Path.Combine(dir, "core-alerts.ndjson"), new CoreDecider().Decide(s).Select(a => a.Line));
            }

        var core = Measurement.Run(new CoreDecider(), scenarios);
        var naive = Measurement.Run(new NaiveDecider(), scenarios);
        string report = $"Noise: {noise}; generated in {generated.TotalSeconds:F1} s, decided in {(watch.Elapsed - generated).TotalSeconds:F1} s\n" +
                        Measurement.Report(first, count, [core, naive]);
        string directory = Environment.GetEnvironmentVariable("SCENARIO_REPORT_DIR") is { Length: > 0 } d ? d : AppContext.BaseDirectory;
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, $"scenario-report-{noise}.md");
        File.WriteAllText(path, report);
        TestContext.Current.SendDiagnosticMessage($"scenario report written to {path}");

        Assert.True(core.Figures.MustDetect > 0, "the scenarios contain breaches to detect");
        Assert.True(naive.Figures.FalseAlerts > 0, "the scenarios are noisy enough to fool the naive decider");
        Assert.True(core.Figures.Missed == 0, report);
        Assert.True(core.Figures.FalseAlerts * 2 <= naive.Figures.FalseAlerts, report);
        Assert.True(core.Figures.Repeated * 2 <= naive.Figures.Repeated, report);
    }
}
