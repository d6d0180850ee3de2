namespace Proximity.Server.Commands;

/// <summary>The <c>proximity</c> executable: one command per task.</summary>
public static class CommandLine
{
    public const string Usage = """
        proximity — court-ordered contact and location bans enforced with GPS

        Commands:
          run    [--case case.json] [--demo] [--mqtt-port 1883] [--http-port 5080] [--silo-port P] [--gateway-port P]
                 [--storage memory|postgres --connection "..." [--migrate]]
                 [--mqtt embedded|external --mqtt-host HOST [--mqtt-port 1883]]
                 Runs the live service: silo, MQTT ingest (embedded broker or a client of an external one), HTTP host (/health).
          replay --case case.json --fixes fixes.ndjson --out alerts.ndjson
                 Replays recorded fixes through the decision core; writes one line per alert episode.
          db migrate --connection "..."
                 Creates or upgrades the PostgreSQL/PostGIS schema (idempotent).
          audit verify --connection "..."
                 Checks the audit log's hash chain; exit code 1 when it is broken.
          health [--ready] [--http-port 5080 | --url URL]
                 Asks a running node's /health/live (or /health/ready); exit 0 when healthy (container checks).
          export --offender ID --out DIR --reason TEXT [--by NAME] [--connection "..."]
                 Writes an offender's whole case as NDJSON/GeoJSON with a manifest of SHA-256 checksums.
          verify DIR
                 Checks an export against its manifest; exit code 1 on any mismatch.
          token --role ROLE --user NAME [--key KEY]
                 Mints a bearer token for the HTTP API, signed with Proximity:Auth:SigningKey.

        Run 'proximity <command> --help' for the options of one command.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Out.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            // Commands with a verb ("db migrate") take it before their options.
            bool hasVerb = args[0] is "db" or "audit" or "verify"; // verify takes the directory there
            string? verb = hasVerb && args.Length > 1 && !args[1].StartsWith("--", StringComparison.Ordinal) ? args[1] : null;
            var options = Options.Parse(args.Skip(verb is null ? 1 : 2));
            return args[0] switch
            {
                "replay" => await ReplayCommand.RunAsync(options),
                "run" => await RunCommand.RunAsync(options),
                "db" => await DatabaseCommands.DbAsync(verb, options),
                "audit" => await DatabaseCommands.AuditAsync(verb, options),
                "health" => await HealthCommand.RunAsync(options),
                "export" => await ExportCommands.ExportAsync(options),
                "verify" => await ExportCommands.VerifyAsync(verb, options),
                "token" => TokenCommand.Run(options),
                _ => Fail($"unknown command '{args[0]}'\n\n{Usage}"),
            };
        }
        catch (UsageException e)
        {
            return Fail(e.Message);
        }
    }

    internal static int Fail(string message)
    {
        Console.Error.WriteLine($"proximity: {message}");
        return 2;
    }
}

public sealed class UsageException(string message) : Exception(message);

/// <summary>GNU-style <c>--name value</c> and <c>--flag</c> options.</summary>
public sealed class Options
{
    private readonly Dictionary<string, string?> _values = new(StringComparer.Ordinal);

    public static Options Parse(IEnumerable<string> args)
    {
        var o = new Options();
        var list = args.ToList();
        for (int i = 0; i < list.Count; i++)
        {
            string a = list[i];
            if (!a.StartsWith("--", StringComparison.Ordinal)) throw new UsageException($"unexpected argument '{a}'");
            string name = a[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            else if (i + 1 < list.Count && !list[i + 1].StartsWith("--", StringComparison.Ordinal)) value = list[++i];
            o._values[name] = value;
        }
        return o;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public string Required(string name) =>
        Get(name) is { Length: > 0 } v ? v : throw new UsageException($"missing --{name}");

    public int Int(string name, int fallback) =>
        Get(name) is { } v ? (int.TryParse(v, out int i) ? i : throw new UsageException($"--{name} must be a whole number")) : fallback;
}
