using Proximity.Simulator.Scenarios;

namespace Proximity.Simulator.Cli;

/// <summary>The <c>proximity-sim</c> executable: one command per mode.</summary>
public static class CommandLine
{
    public const string Usage = """
        proximity-sim — virtual ankle monitors and victim devices speaking the Proximity device protocol over MQTT

        Commands:
          scenario --file scenario.json [--broker H --port N] [--speed X] [--json]
                   scripted people and devices with realistic movement and device behaviour
          load --devices N --rate R --duration S [--json] [--credentials-file case.json]
                   many devices at a total fix rate; measures publish → alert latency
          gen-case --devices N --out case.json
                   the case file (people, devices with secrets, bans) matching a load run

        Run 'proximity-sim <command> --help' for the options of one command.
        """;

    public static async Task<int> RunAsync(string[] argv, CancellationToken ct)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return argv.Length == 0 ? 2 : 0;
        }
        try
        {
            var args = Args.Parse(argv.Skip(1));
            if (args.Flag("help"))
            {
                Console.Out.WriteLine(argv[0] switch
                {
                    "scenario" => ScenarioCommand.Help,
                    "load" => LoadCommand.Help,
                    "gen-case" => GenCaseCommand.Help,
                    _ => Usage,
                });
                return 0;
            }
            return argv[0] switch
            {
                "scenario" => await ScenarioCommand.RunAsync(args, ct),
                "load" => await LoadCommand.RunAsync(args, ct),
                "gen-case" => await GenCaseCommand.RunAsync(args, ct),
                _ => Fail($"unknown command '{argv[0]}'\n\n{Usage}"),
            };
        }
        catch (Exception e) when (e is UsageException or ScenarioException or Mqtt.MqttLinkException or ArgumentException)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return Fail("interrupted");
        }
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"proximity-sim: {message}");
        return 2;
    }
}
