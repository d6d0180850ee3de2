using Proximity.Simulator.Scenarios;

namespace Proximity.Simulator.Cli;

/// <summary><c>proximity-sim scenario --file x.json --broker localhost --port 1883 [--speed 10]</c></summary>
internal static class ScenarioCommand
{
    public const string Help = """
        proximity-sim scenario --file scenario.json [options]

        Runs the scripted devices of a scenario (a case file with a "simulation" key) against a broker.
          --file PATH              the scenario
          --speed X                time acceleration: simulated seconds per real second (default 1)
          --alerts-user ID         integration id to read proximity/v1/alerts/# (default: the case's first integration)
          --alerts-password S      its secret
          --linger SECONDS         keep listening for alerts after the end (default 2)
          --json                   print one JSON summary on stdout (event lines go to stderr)
          --quiet                  no progress line
        """ + "\n" + BrokerArgs.Help;

    public static async Task<int> RunAsync(Args args, CancellationToken ct)
    {
        var file = args.Required("file");
        var broker = BrokerArgs.Parse(args);
        double speed = args.Double("speed", 1, 0.001, 100_000);
        bool json = args.Flag("json");
        var options = new ScenarioRunOptions
        {
            Broker = broker,
            Speed = speed,
            AlertsUser = args.Get("alerts-user"),
            AlertsPassword = args.Get("alerts-password"),
            Linger = TimeSpan.FromSeconds(args.Double("linger", 2, 0, 3600)),
            Progress = !args.Flag("quiet"),
            Log = json ? Console.Error : Console.Out,
        };
        args.CheckAllUsed();
        var scenario = Scenario.Load(file);
        var summary = await new ScenarioRunner(scenario, options).RunAsync(ct);
        if (json) Console.Out.WriteLine(JsonOutput.Serialize(summary));
        else
        {
            Console.Out.WriteLine(
                $"summary: {summary.Devices} devices, {summary.SimulatedSeconds:0} s simulated in {summary.RealSeconds:0.0} s, {summary.Messages} messages ({summary.Fixes} fixes, {summary.Events} events), " +
                $"{summary.StoreAndForwardUploads} store-and-forward uploads, {summary.Duplicates} duplicates, {summary.Reordered} reordered, {summary.Commands} commands, " +
                $"{summary.Notifies} notifications, {summary.Alerts} alerts, {summary.Errors} errors, ack p50 {summary.AckP50Ms} ms p99 {summary.AckP99Ms} ms");
            foreach (var d in summary.PerDevice)
                Console.Out.WriteLine($"  {d.Id} ({d.Role}): {d.Fixes} fixes, {d.Events} events, {d.NoFix} without fix, {d.Uploads} uploads, " +
                    $"{d.Duplicates} duplicates, {d.Reordered} reordered, {d.Commands} commands, interval {d.IntervalSeconds} s, battery {d.BatteryPercent} %");
            foreach (var (type, count) in summary.AlertsByType.OrderBy(kv => kv.Key)) Console.Out.WriteLine($"  alerts {type}: {count}");
        }
        return summary.Errors == 0 ? 0 : 1;
    }
}
