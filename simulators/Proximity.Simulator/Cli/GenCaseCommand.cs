using Proximity.Simulator.Load;

namespace Proximity.Simulator.Cli;

/// <summary><c>proximity-sim gen-case --devices N --out case.json</c></summary>
internal static class GenCaseCommand
{
    public const string Help = """
        proximity-sim gen-case --devices N --out case.json [options]

        Writes a case file matching 'proximity-sim load --devices N': offender/victim pairs with device
        secrets, an exclusion zone and a contact ban per pair, and the integration 'sim-alerts' for the
        alerts topic. Start the server with it ('proximity run --case case.json').
          --devices N              number of devices (offender and victim devices alternate)
          --out PATH               where to write ('-' = stdout)
        """ + "\n" + LayoutArgs.Help;

    public static async Task<int> RunAsync(Args args, CancellationToken ct)
    {
        int devices = args.Int("devices", 0, 1, 10_000_000);
        if (devices == 0) throw new UsageException("missing --devices");
        string outPath = args.Required("out");
        var layout = LayoutArgs.Parse(args);
        args.CheckAllUsed();
        if (layout.Problem() is { } p) throw new UsageException(p);
        if (outPath == "-")
        {
            await using var stdout = Console.OpenStandardOutput();
            CaseGenerator.Write(stdout, layout, devices);
        }
        else
        {
            string tmp = outPath + ".tmp";
            await using (var file = File.Create(tmp)) CaseGenerator.Write(file, layout, devices);
            File.Move(tmp, outPath, overwrite: true);
            Console.Error.WriteLine($"gen-case: {devices} devices ({(devices + 1) / 2} offenders, {devices / 2} victims) written to {outPath}");
        }
        _ = ct;
        return 0;
    }
}

internal static class LayoutArgs
{
    public const string Help = """
          --seed N                 seed of positions and secrets (default 1)
          --center LAT,LON         centre of the synthetic region (default Amsterdam)
          --breach-fraction F      share of offenders that cross their exclusion zone (default 0.2)
          --zone-radius M          exclusion zone radius in metres (default 150)
        """;

    public static LoadLayout Parse(Args args, LoadLayout? from = null)
    {
        var l = from ?? new LoadLayout();
        l = l with
        {
            Seed = args.Int("seed", l.Seed),
            BreachFraction = args.Double("breach-fraction", l.BreachFraction, 0, 1),
            ZoneRadiusMeters = args.Double("zone-radius", l.ZoneRadiusMeters, 1, 10_000),
        };
        if (args.Get("center") is { } c)
        {
            var parts = c.Split(',');
            if (parts.Length != 2 || !double.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out double lat)
                || !double.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out double lon))
                throw new UsageException("--center must be LAT,LON");
            l = l with { CenterLatitude = lat, CenterLongitude = lon };
        }
        return l;
    }
}
