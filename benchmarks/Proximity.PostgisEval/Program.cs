using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using HdrHistogram;
using Npgsql;
using NpgsqlTypes;
using Proximity.PostgisEval;
using Proximity.Simulator.Load;
using Proximity.Simulator.Mqtt;

// The evaluate-in-PostGIS design, for comparison with the live service: every offender fix is checked against
// that offender's exclusion zones with one PostGIS query, on a few connections, as fast as they go.
const string Usage = """
    proximity-postgis-eval --case case.json [--seconds 20] [--connections 2] [--margin 100]
                           [--connection "Host=...;Database=..."] [--work-dir DIR] [--mqtt-port PORT]

    Loads the exclusion zones of a case file (from 'proximity-sim gen-case') into PostGIS and checks offender
    fixes one query each:
      SELECT ban_id, ST_Covers(area, p), ST_Distance(area, p) FROM eval_zones
      WHERE offender_id = $1 AND ST_DWithin(area, p, margin)        (p: the fix as geography)
    Without --mqtt-port: the query alone, on the load world's offender positions (those 'proximity-sim load'
    publishes), for --seconds. With --mqtt-port: the whole design, fed by an MQTT broker on 127.0.0.1 (MQTT 3.1.1,
    QoS 1 subscription to every device's positions): each offender fix that arrives is parsed and checked, each
    victim fix parsed (its contact check is left out: an upper bound for the design); it prints "ready" on
    stderr once subscribed and ends --seconds after the first fix arrived or 5 s after the last.
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
    int mqttPort = (int)Num("mqtt-port", 0, 1);
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
    long next = -1, inside = 0, near = 0, victimFixes = 0, unreadable = 0;
    var clock = Stopwatch.StartNew();
    var deadline = TimeSpan.FromSeconds(seconds);
    double worldStart = (DateTimeOffset.UtcNow - LoadLayout.Epoch).TotalSeconds;

    // With a broker: fixes as they arrive, the offender's ones queued for the connections; the clock starts at the first.
    var arrived = Channel.CreateUnbounded<(string Offender, double Lon, double Lat)>(new UnboundedChannelOptions { SingleWriter = true });
    long lastArrival = 0;
    await using var subscriber = mqttPort == 0 ? null : new AlertListener(
        new BrokerOptions { Host = "127.0.0.1", Port = mqttPort, MqttV5 = false, KeepAlive = TimeSpan.Zero },
        $"postgis-eval-{Environment.ProcessId}", null, (topic, payload) =>
        {
            if (Interlocked.Exchange(ref lastArrival, Stopwatch.GetTimestamp()) == 0) clock.Restart();
            if (ParseFix(topic, payload) is not var (device, lon, lat)) { Interlocked.Increment(ref unreadable); return; }
            if (device.StartsWith("sim-o-", StringComparison.Ordinal)) arrived.Writer.TryWrite(("off-" + device[6..], lon, lat));
            else if (clock.Elapsed < deadline) Interlocked.Increment(ref victimFixes);
        }, "proximity/v1/devices/+/position");
    if (subscriber is not null)
    {
        await subscriber.StartAsync(stop.Token);
        Console.Error.WriteLine("ready");
        _ = Task.Run(async () =>
        {
            // Ends the stage: --seconds after the first fix, or 5 s without one once fixes came.
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(100, CancellationToken.None);
                long last = Interlocked.Read(ref lastArrival);
                if (last != 0 && (clock.Elapsed >= deadline || Stopwatch.GetElapsedTime(last) > TimeSpan.FromSeconds(5))) break;
            }
            arrived.Writer.TryComplete();
        });
    }

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
        while (!stop.IsCancellationRequested)
        {
            if (subscriber is not null)
            {
                if (!await arrived.Reader.WaitToReadAsync(stop.Token)) break;
                if (!arrived.Reader.TryRead(out var fix)) continue;
                (offender.Value, lon.Value, lat.Value) = fix;
            }
            else
            {
                if (clock.Elapsed >= deadline) break;
                // The same round-robin over offenders as load mode; positions on the load world's paths.
                long i = Interlocked.Increment(ref next);
                int pair = (int)(i % pairs);
                var (truth, _, _) = layout.TruePosition(2 * pair, pairs, worldStart + clock.Elapsed.TotalSeconds);
                var geo = layout.Plane.Unproject(truth);
                offender.Value = LoadLayout.OffenderId(pair);
                lon.Value = geo.Longitude;
                lat.Value = geo.Latitude;
            }
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
    long offenderFixes = latency.TotalCount, fixes = offenderFixes + Interlocked.Read(ref victimFixes);
    static double Ms(long us) => Math.Round(us / 1000.0, 3);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        zones,
        connections,
        seconds = Math.Round(elapsed, 3),
        source = subscriber is null ? "query alone" : $"MQTT broker on port {mqttPort}",
        fixes,
        offenderFixesChecked = offenderFixes,
        unreadable = Interlocked.Read(ref unreadable),
        fixesPerSecond = Math.Round(fixes / elapsed, 1),
        zonesNear = near,
        zonesInside = inside,
        p50Ms = offenderFixes > 0 ? Ms(latency.GetValueAtPercentile(50)) : (double?)null,
        p99Ms = offenderFixes > 0 ? Ms(latency.GetValueAtPercentile(99)) : (double?)null,
    }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or JsonException or KeyNotFoundException or InvalidOperationException or NpgsqlException)
{
    return Fail(e.Message);
}

// The device id from proximity/v1/devices/{id}/position and the fix's lon/lat; null when it cannot be read.
static (string Device, double Lon, double Lat)? ParseFix(string topic, byte[] payload)
{
    string[] parts = topic.Split('/');
    if (parts.Length != 5) return null;
    try
    {
        using var fix = JsonDocument.Parse(payload);
        return fix.RootElement.TryGetProperty("lon", out var lon) && fix.RootElement.TryGetProperty("lat", out var lat)
            ? (parts[3], lon.GetDouble(), lat.GetDouble())
            : null;
    }
    catch (Exception e) when (e is JsonException or InvalidOperationException) { return null; }
}

static int Fail(string message)
{
    Console.Error.WriteLine($"proximity-postgis-eval: {message}");
    return 2;
}
