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
    proximity-postgis-eval --case case.json [--seconds 20] [--warm-up 0] [--connections 2] [--margin 100]
                           [--connection "Host=...;Database=..."] [--work-dir DIR]
                           [--mqtt-port PORT [--subscribers 8]]

    Loads the exclusion zones of a case file (from 'proximity-sim gen-case') into PostGIS and checks offender
    fixes, the query alone:
      SELECT ban_id, ST_Covers(area, p), ST_Distance(area, p) FROM eval_zones
      WHERE offender_id = $1 AND ST_DWithin(area, p, margin)        (p: the fix as geography)
    Without --mqtt-port: the query alone, on the load world's offender positions (those 'proximity-sim load'
    publishes), for --seconds. With --mqtt-port: the whole design, fed by an MQTT broker on 127.0.0.1 (MQTT 3.1.1;
    --subscribers clients share one QoS 1 subscription to every device's positions): each person's last position
    is kept in the database and each fix that arrives within --seconds of the first is checked there with one
    statement, an offender's against its zones and its victims' last positions, a victim's against its
    offenders'; it prints "ready" on stderr once subscribed and ends when what arrived in time is checked (or 5 s
    after the last fix; it fails when none came within 120 s).
    --warm-up S: the first S seconds (from the first fix) are checked as fast as the connections go but not
    counted, as the live service is warmed up before it is measured; fixes that would wait for a connection then
    are skipped, so that the measured seconds start with no backlog.
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
    var warmUp = TimeSpan.FromSeconds(Num("warm-up", 0, 0));
    int connections = (int)Num("connections", 2, 1);
    double margin = Num("margin", 100, 0);
    string? connection = Opt("connection");
    string workDir = Opt("work-dir") ?? Path.Combine(Path.GetTempPath(), "proximity-postgis-eval-" + Guid.NewGuid().ToString("N")[..8]);
    int mqttPort = (int)Num("mqtt-port", 0, 1);
    int subscriberCount = (int)Num("subscribers", 8, 1);
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
    var deadline = warmUp + TimeSpan.FromSeconds(seconds);
    double worldStart = (DateTimeOffset.UtcNow - LoadLayout.Epoch).TotalSeconds;

    // With a broker: fixes as they arrive, received by several subscribers sharing one subscription (so that
    // receiving is not what limits the design), the offender's ones queued for the connections. The stage is timed
    // from the end of the warm-up; what arrives after --seconds is neither counted nor checked, what is queued by then is.
    var arrived = Channel.CreateUnbounded<(string Person, bool Offender, double Lon, double Lat, bool Counted)>();
    long firstArrival = 0, lastArrival = 0, peakBacklog = 0;
    bool noFixes = false;
    TimeSpan SinceFirst(long now) => Stopwatch.GetElapsedTime(Interlocked.Read(ref firstArrival), now);
    var subscribers = Enumerable.Range(0, mqttPort == 0 ? 0 : subscriberCount).Select(k => new AlertListener(
        new BrokerOptions { Host = "127.0.0.1", Port = mqttPort, MqttV5 = false, KeepAlive = TimeSpan.Zero },
        $"postgis-eval-{Environment.ProcessId}-{k}", null, (topic, payload) =>
        {
            long now = Stopwatch.GetTimestamp();
            Interlocked.CompareExchange(ref firstArrival, now, 0);
            Interlocked.Exchange(ref lastArrival, now);
            if (ParseFix(topic, payload) is not var (device, lon, lat)) { Interlocked.Increment(ref unreadable); return; }
            var since = SinceFirst(now);
            bool counted = since >= warmUp;
            if (since >= deadline || !counted && arrived.Reader.Count >= connections) return;
            bool offender = device.StartsWith("sim-o-", StringComparison.Ordinal);
            arrived.Writer.TryWrite(((offender ? "off-" : "vic-") + device[6..], offender, lon, lat, counted));
        }, "$share/postgis-eval/proximity/v1/devices/+/position")).ToList();
    if (subscribers.Count > 0)
    {
        foreach (var subscriber in subscribers) await subscriber.StartAsync(stop.Token);
        Console.Error.WriteLine("ready");
        _ = Task.Run(async () =>
        {
            // Ends the stage: --seconds after the first fix, 5 s without one once fixes came, or none in 120 s.
            var waiting = Stopwatch.StartNew();
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(100, CancellationToken.None);
                peakBacklog = Math.Max(peakBacklog, arrived.Reader.Count);
                long first = Interlocked.Read(ref firstArrival), last = Interlocked.Read(ref lastArrival);
                if (first == 0 && waiting.Elapsed > TimeSpan.FromSeconds(120)) { noFixes = true; break; }
                if (first != 0 && (Stopwatch.GetElapsedTime(first) >= deadline || Stopwatch.GetElapsedTime(last) > TimeSpan.FromSeconds(5))) break;
            }
            arrived.Writer.TryComplete();
        });
    }

    await Task.WhenAll(Enumerable.Range(0, connections).Select(async _ =>
    {
        await using var conn = await db.OpenConnectionAsync(stop.Token);
        // The query alone: the offender's zones. The design: each person's last position kept in the database
        // and every fix checked there, an offender's against its zones and its victims' last positions, a
        // victim's against its offenders' last positions.
        await using var zones = await PrepareAsync(conn, """
            SELECT ban_id, ST_Covers(area, p.g), ST_Distance(area, p.g)
            FROM eval_zones, (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography AS g) p
            WHERE offender_id = $1 AND ST_DWithin(area, p.g, $4)
            """, margin, stop.Token);
        await using var offenderFix = await PrepareAsync(conn, """
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography AS g),
                 kept AS (INSERT INTO eval_last SELECT $1, g FROM p ON CONFLICT (person_id) DO UPDATE SET g = EXCLUDED.g)
            SELECT z.ban_id, ST_Covers(z.area, p.g), ST_Distance(z.area, p.g) FROM eval_zones z, p
            WHERE z.offender_id = $1 AND ST_DWithin(z.area, p.g, $4)
            UNION ALL
            SELECT c.ban_id, ST_DWithin(l.g, p.g, c.min_distance), ST_Distance(l.g, p.g)
            FROM eval_contact c JOIN eval_last l ON l.person_id = c.victim_id, p WHERE c.offender_id = $1
            """, margin, stop.Token);
        await using var victimFix = await PrepareAsync(conn, """
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326)::geography AS g),
                 kept AS (INSERT INTO eval_last SELECT $1, g FROM p ON CONFLICT (person_id) DO UPDATE SET g = EXCLUDED.g)
            SELECT c.ban_id, ST_DWithin(l.g, p.g, c.min_distance), ST_Distance(l.g, p.g)
            FROM eval_contact c JOIN eval_last l ON l.person_id = c.offender_id, p WHERE c.victim_id = $1
            """, null, stop.Token);
        var local = new LongHistogram(60_000_000, 3);
        long localInside = 0, localNear = 0, localVictims = 0;
        while (!stop.IsCancellationRequested)
        {
            NpgsqlCommand cmd;
            bool counted;
            if (subscribers.Count > 0)
            {
                try { if (!await arrived.Reader.WaitToReadAsync(stop.Token)) break; }
                catch (OperationCanceledException) { break; }
                if (!arrived.Reader.TryRead(out var fix)) continue;
                cmd = fix.Offender ? offenderFix : victimFix;
                counted = fix.Counted;
                if (!fix.Offender && counted) localVictims++;
                (cmd.Parameters[0].Value, cmd.Parameters[1].Value, cmd.Parameters[2].Value) = (fix.Person, fix.Lon, fix.Lat);
            }
            else
            {
                if (clock.Elapsed >= deadline) break;
                counted = clock.Elapsed >= warmUp;
                // The same round-robin over offenders as load mode; positions on the load world's paths.
                long i = Interlocked.Increment(ref next);
                int pair = (int)(i % pairs);
                var (truth, _, _) = layout.TruePosition(2 * pair, pairs, worldStart + clock.Elapsed.TotalSeconds);
                var geo = layout.Plane.Unproject(truth);
                cmd = zones;
                (cmd.Parameters[0].Value, cmd.Parameters[1].Value, cmd.Parameters[2].Value) = (LoadLayout.OffenderId(pair), geo.Longitude, geo.Latitude);
            }
            long t0 = Stopwatch.GetTimestamp();
            long fixNear = 0, fixInside = 0;
            await using (var reader = await cmd.ExecuteReaderAsync(stop.Token))
                while (await reader.ReadAsync(stop.Token))
                {
                    fixNear++;
                    if (reader.GetBoolean(1)) fixInside++;
                }
            if (!counted) continue;
            (localNear, localInside) = (localNear + fixNear, localInside + fixInside);
            local.RecordValue(Math.Max(1, (Stopwatch.GetTimestamp() - t0) * 1_000_000 / Stopwatch.Frequency));
        }
        lock (latency) latency.Add(local);
        Interlocked.Add(ref inside, localInside);
        Interlocked.Add(ref near, localNear);
        Interlocked.Add(ref victimFixes, localVictims);
    }));
    double elapsed = ((subscribers.Count > 0 ? Stopwatch.GetElapsedTime(firstArrival) : clock.Elapsed) - warmUp).TotalSeconds;
    foreach (var subscriber in subscribers) await subscriber.DisposeAsync();
    if (noFixes) throw new InvalidOperationException("no fix arrived within 120 s of subscribing");
    if (latency.TotalCount == 0 || elapsed <= 0) throw new InvalidOperationException("no fix was checked in the measured seconds (did the fixes stop during the warm-up?)");
    long fixes = latency.TotalCount, victimsChecked = Interlocked.Read(ref victimFixes);
    static double Ms(long us) => Math.Round(us / 1000.0, 3);
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        zones,
        connections,
        seconds = Math.Round(elapsed, 3),
        source = subscribers.Count == 0 ? "query alone" : $"MQTT broker on port {mqttPort}, {subscribers.Count} subscribers",
        peakBacklog,
        fixes,
        offenderFixes = fixes - victimsChecked,
        victimFixes = victimsChecked,
        unreadable = Interlocked.Read(ref unreadable),
        fixesPerSecond = Math.Round(fixes / elapsed, 1),
        zonesNear = near,
        zonesInside = inside,
        p50Ms = fixes > 0 ? Ms(latency.GetValueAtPercentile(50)) : (double?)null,
        p99Ms = fixes > 0 ? Ms(latency.GetValueAtPercentile(99)) : (double?)null,
    }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    return 0;
}
catch (Exception e) when (e is ArgumentException or IOException or JsonException or KeyNotFoundException or InvalidOperationException or NpgsqlException or OperationCanceledException or MqttLinkException)
{
    return Fail(e.Message);
}

// One statement prepared on the connection: $1 the person, $2 longitude, $3 latitude, $4 the zone margin (when it has zones).
static async Task<NpgsqlCommand> PrepareAsync(NpgsqlConnection conn, string sql, double? margin, CancellationToken ct)
{
    var cmd = new NpgsqlCommand(sql, conn);
    cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Text });
    cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double });
    cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double });
    if (margin is { } m) cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = m });
    await cmd.PrepareAsync(ct);
    return cmd;
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
