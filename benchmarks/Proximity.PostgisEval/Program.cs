using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HdrHistogram;
using Npgsql;
using NpgsqlTypes;
using Proximity.PostgisEval;
using Proximity.Simulator.Load;

// The evaluate-in-PostGIS design, for comparison with the live service: every offender fix is checked against
// that offender's exclusion zones with one PostGIS query, on a few connections, as fast as they go.
const string Usage = """
    proximity-postgis-eval --case case.json [--seconds 20] [--connections 2] [--margin 100]
                           [--connection "Host=...;Database=..."] [--work-dir DIR]

    Loads the exclusion zones of a case file (from 'proximity-sim gen-case') into PostGIS and checks the load
    world's offender fixes (the positions 'proximity-sim load' publishes) one query each:
      SELECT ban_id, ST_Covers(area, p), ST_Distance(area, p) FROM eval_zones
      WHERE offender_id = $1 AND ST_DWithin(area, p, margin)        (p: the fix as geography)
    Without --connection it starts a private PostgreSQL 15 + PostGIS cluster in --work-dir (default: a new
    temporary directory) on a free loopback port and stops it at the end. Prints one JSON object.
    """;

var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (int i = 0; i < args.Length; i++)
{
    if (args[i] is "-h" or "--help") { Console.WriteLine(Usage); return 0; }
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) return Fail($"unexpected argument '{args[i]}'\n\n{Usage}");
    opts[args[i][2..]] = args[++i];
}
string? Opt(string name) => opts.Remove(name, out var v) ? v : null;
double Num(string name, double fallback, double min) =>
    Opt(name) is not { } v ? fallback
    : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= min ? d
    : throw new ArgumentException($"--{name} must be a number ≥ {min}");

try
{
    string casePath = Opt("case") ?? throw new ArgumentException("missing --case");
    double seconds = Num("seconds", 20, 0.1);
    int connections = (int)Num("connections", 2, 1);
    double margin = Num("margin", 100, 0);
    string? connection = Opt("connection");
    string workDir = Opt("work-dir") ?? Path.Combine(Path.GetTempPath(), "proximity-postgis-eval-" + Guid.NewGuid().ToString("N")[..8]);
    if (opts.Count > 0) throw new ArgumentException($"unknown option --{opts.Keys.First()}");

    using var doc = JsonDocument.Parse(File.ReadAllText(casePath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
    var layout = doc.RootElement.TryGetProperty("simulation", out var sim) && sim.TryGetProperty("load", out var load)
        ? load.Deserialize<LoadLayout>(new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? new LoadLayout()
        : new LoadLayout();
    int pairs = doc.RootElement.GetProperty("offenders").GetArrayLength();

    using var stop = new CancellationTokenSource();
    Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
    await using var server = connection is null ? await PrivatePostgres.StartAsync(workDir) : null;
    await using var db = NpgsqlDataSource.Create(connection ?? server!.ConnectionString);
    int zones = await ZoneTable.LoadAsync(db, doc.RootElement, stop.Token);
    Console.Error.WriteLine($"postgis-eval: {zones} zones of {pairs} offenders loaded; checking fixes on {connections} connections for {seconds:0.#} s");

    var latency = new LongHistogram(60_000_000, 3);
    long next = -1, inside = 0, near = 0;
    var clock = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(seconds);
    double worldStart = (DateTimeOffset.UtcNow - LoadLayout.Epoch).TotalSeconds;
    await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
    {
        await using var conn = await db.OpenConnectionAsync(stop.Token);
        await using var cmd = new NpgsqlCommand("""
            SELECT ban_id, ST_Covers(area, p.g), ST_Distance(area, p.g)
            FROM eval_zones, (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography AS g) p
            WHERE offender_id = $1 AND ST_DWithin(area, p.g, $4)
            """, conn);
        var offender = cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
        var lon = cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double });
        var lat = cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double });
        cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = margin });
        await cmd.PrepareAsync(stop.Token);
        var local = new LongHistogram(60_000_000, 3);
        long localInside = 0, localNear = 0;
        while (clock.Elapsed < deadline && !stop.IsCancellationRequested)
        {
            // The same round-robin over offenders as load mode; positions on the load world's paths.
            long i = Interlocked.Increment(ref next);
            int pair = (int)(i % pairs);
            var (truth, _, _) = layout.TruePosition(2 * pair, pairs, worldStart + clock.Elapsed.TotalSeconds);
            var geo = layout.Plane.Unproject(truth);
            offender.Value = LoadLayout.OffenderId(pair);
            lon.Value = geo.Longitude;
            lat.Value = geo.Latitude;
            long t0 = Stopwatch.GetTimestamp();
            await using (var reader = await cmd.ExecuteReaderAsync(stop.Token))
                while (await reader.ReadAsync(stop.Token))
                {
                    localNear++;
                    if (reader.GetBoolean(1)) localInside++;
                }
            local.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - t0) * 1_000_000 / Stopwatch.Frequency));
        }
        lock (latency) latency.Add(local);
        Interlocked.Add(ref inside, localInside);
        Interlocked.Add(ref near, localNear);
    }));
    double elapsed = clock.Elapsed.TotalSeconds;
    long fixes = latency.TotalCount;
    static double Ms(long us) => Math.Round(us / 1000.0, 3);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        zones,
        connections,
        seconds = Math.Round(elapsed, 3),
        fixes,
        fixesPerSecond = Math.Round(fixes / elapsed, 1),
        zonesNear = near,
        zonesInside = inside,
        p50Ms = fixes > 0 ? Ms(latency.GetValueAtPercentile(50)) : (double?)null,
        p99Ms = fixes > 0 ? Ms(latency.GetValueAtPercentile(99)) : (double?)null,
    }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or JsonException or KeyNotFoundException or InvalidOperationException or NpgsqlException)
{
    return Fail(e.Message);
}

static int Fail(string message)
{
    Console.Error.WriteLine($"proximity-postgis-eval: {message}");
    return 2;
}
