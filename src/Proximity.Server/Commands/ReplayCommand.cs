using Proximity.Protocol;
using Proximity.Replay;

namespace Proximity.Server.Commands;

/// <summary><c>proximity replay --case case.json --fixes fixes.ndjson --out alerts.ndjson</c></summary>
public static class ReplayCommand
{
    public const string Help = """
        proximity replay --case case.json --fixes fixes.ndjson --out alerts.ndjson

          --case   offenders, victims, devices and bans (JSON)
          --fixes  one fix per line in arrival order, the device protocol's fix plus "device" ('-' = stdin)
          --out    one alert per line ('-' = stdout)

        Bad fix lines are reported on stderr with their line number and skipped.
        """;

    public static async Task<int> RunAsync(Options options)
    {
        if (options.Has("help")) { Console.Out.WriteLine(Help); return 0; }
        CaseFile caseFile;
        try { caseFile = CaseFile.Load(options.Required("case")); }
        catch (CaseFileException e) { return CommandLine.Fail(e.Message); }

        string fixesPath = options.Required("fixes");
        string outPath = options.Required("out");
        if (fixesPath != "-" && !File.Exists(fixesPath)) return CommandLine.Fail($"fixes file {fixesPath} does not exist");

        using var input = fixesPath == "-" ? Console.In : new StreamReader(fixesPath);
        await using var output = outPath == "-" ? Console.Out : new StreamWriter(outPath) { NewLine = "\n" };
        var summary = new ReplayRunner(caseFile).Run(input, output, Console.Error);
        await output.FlushAsync();
        Console.Error.WriteLine(
            $"replay: {summary.Lines} lines, {summary.FixesEvaluated} fixes evaluated, {summary.Duplicates} duplicates, " +
            $"{summary.Stale} out of order, {summary.WithoutFix} without a fix, {summary.Rejected} rejected, {summary.Alerts} alerts");
        return 0;
    }
}
