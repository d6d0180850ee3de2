using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Protocol;
using Proximity.Grains;
using Proximity.Ingest;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

// End-to-end latency of the live pipeline: device MQTT client → embedded broker → grains → alert recorded →
// alert published → control-room MQTT client. Background load: half the offenders report far from their victims
// at the given rate; meanwhile each offender of the other half sends its first fix 100 m from its victim (a
// certain breach: one alert), and the time until the control room has that alert is measured. (Offenders of
// the load half are not used: a jump from far to near would be judged an impossible, suspect fix.) Usage: dotnet run -c Release -- [--pairs 1000] [--rate 2000] [--seconds 20] [--warmup 50]
// [--storage postgres --connection "..."]
int Arg(string name, int fallback) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
int pairs = Arg("--pairs", 1000), rate = Arg("--rate", 2000), seconds = Arg("--seconds", 20), warmup = Arg("--warmup", 50);

const double Lat = 52.37310, Lon = 4.89260;
double perLon = 111_320 * Math.Cos(Lat * Math.PI / 180);
var caseFile = new CaseFile(
    [.. Enumerable.Range(0, pairs).Select(i => new PersonSpec($"O{i}", [new DeviceSpec($"a{i}", "s")]))],
    [.. Enumerable.Range(0, pairs).Select(i => new PersonSpec($"V{i}", [new DeviceSpec($"p{i}", "s")]))],
    [.. Enumerable.Range(0, pairs).Select(i => new ContactBan { Id = $"b{i}", OffenderId = $"O{i}", VictimId = $"V{i}", MinDistanceMeters = 500, WarningDistanceMeters = 1000 })],
    [new IntegrationSpec("bench-meldkamer", "s")]);

int mqttPort = FreePort();
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddConsole().SetMinimumLevel(LogLevel.Warning);
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Proximity:Silo:SiloPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
    ["Proximity:Silo:GatewayPort"] = FreePort().ToString(CultureInfo.InvariantCulture),
    ["Proximity:SecretHashIterations"] = "1000",
    ["Proximity:OffenderReportingInterval"] = "00:10:00", // no offline alerts during the run
    ["Proximity:VictimReportingInterval"] = "00:10:00",
});
// --storage postgres --connection "..." measures the PostgreSQL mode (the database migrated at start).
string? Opt(string name) => Array.IndexOf(args, name) is int j and >= 0 && j + 1 < args.Length ? args[j + 1] : null;
if (Opt("--storage") is { } storage)
    builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Proximity:Storage"] = storage, ["Proximity:ConnectionString"] = Opt("--connection"), ["Proximity:Storage:MigrateOnStart"] = "true",
    });
builder.AddProximitySilo(caseFile);
builder.AddProximityIngest(o => { o.Port = mqttPort; o.BindAddress = "127.0.0.1"; });
using var host = builder.Build();
await host.StartAsync();
await host.Services.GetRequiredService<IIngestStatus>().WhenReady;

var factory = new MqttClientFactory();
async Task<IMqttClient> Connect(string id)
{
    var c = factory.CreateMqttClient();
    await c.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", mqttPort).WithClientId(id).WithCredentials(id, "s")
        .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).WithTimeout(TimeSpan.FromSeconds(60)).Build());
    return c;
}

var sent = new ConcurrentDictionary<string, (long At, bool Counted)>();
var latencies = new ConcurrentBag<double>();
int measured = pairs / 2, loaders = pairs - measured;
var alertsSeen = new CountdownEvent(measured);
var meldkamer = await Connect("bench-meldkamer");
meldkamer.ApplicationMessageReceivedAsync += e =>
{
    long now = Stopwatch.GetTimestamp();
    var alert = AlertJson.Deserialize(e.ApplicationMessage.ConvertPayloadToString());
    if (alert is { Type: Proximity.Spatial.Monitoring.AlertType.ContactBanBreach, ClearedAt: null } && sent.TryRemove(alert.OffenderId, out var t0))
    {
        if (t0.Counted) latencies.Add(Stopwatch.GetElapsedTime(t0.At, now).TotalMilliseconds);
        alertsSeen.Signal();
    }
    return Task.CompletedTask;
};
await meldkamer.SubscribeAsync("proximity/v1/alerts/#", MqttQualityOfServiceLevel.AtLeastOnce);

Console.WriteLine($"connecting {2 * pairs} devices…");
var ankles = new IMqttClient[pairs];
var phones = new IMqttClient[pairs];
foreach (var chunk in Enumerable.Range(0, pairs).Chunk(100))
    await Task.WhenAll(chunk.Select(async i => { ankles[i] = await Connect($"a{i}"); phones[i] = await Connect($"p{i}"); }));

string Fix(long seq, double east) => string.Format(CultureInfo.InvariantCulture,
    "{{\"seq\":{0},\"ts\":\"{1:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"lat\":{2:F6},\"lon\":{3:F6},\"acc\":5,\"src\":\"gps\"}}",
    seq, DateTime.UtcNow, Lat, Lon + east / perLon);
Task Publish(IMqttClient c, string device, string json) => c.PublishAsync(new MqttApplicationMessageBuilder()
    .WithTopic($"proximity/v1/devices/{device}/position").WithPayload(Encoding.UTF8.GetBytes(json))
    .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build());

var seqs = new long[pairs];
await Task.WhenAll(Enumerable.Range(0, pairs).Select(i => Publish(phones[i], $"p{i}", Fix(1, 0))));

// Background load: far-away fixes at the given rate, round robin over the ankle monitors, for the whole run.
using var stop = new CancellationTokenSource();
long background = 0;
var load = Task.Run(async () =>
{
    var sw = Stopwatch.StartNew();
    int next = 0;
    var inflight = new List<Task>();
    while (!stop.IsCancellationRequested)
    {
        long due = (long)(sw.Elapsed.TotalSeconds * rate);
        while (background < due)
        {
            int i = next++ % loaders;
            inflight.Add(Publish(ankles[i], $"a{i}", Fix(Interlocked.Increment(ref seqs[i]), 5000)));
            background++;
        }
        if (inflight.Count > 1000) { await Task.WhenAll(inflight); inflight.Clear(); }
        await Task.Delay(5);
    }
    await Task.WhenAll(inflight);
});

// Measured fixes: each offender once, spread over the run, 100 m from its victim.
var measureSw = Stopwatch.StartNew();
double spacing = seconds * 1000.0 / measured;
for (int i = loaders; i < pairs; i++)
{
    var wait = TimeSpan.FromMilliseconds((i - loaders) * spacing) - measureSw.Elapsed;
    if (wait > TimeSpan.Zero) await Task.Delay(wait);
    // A fresh victim fix first: an old one is aged by the worst-case speed and could not make the breach certain.
    await Publish(phones[i], $"p{i}", Fix(2, 0));
    long seq = Interlocked.Increment(ref seqs[i]);
    string json = Fix(seq, 100);
    sent[$"O{i}"] = (Stopwatch.GetTimestamp(), i - loaders >= warmup); // the first ones warm up JIT and activations
    _ = Publish(ankles[i], $"a{i}", json);
}
double elapsed = measureSw.Elapsed.TotalSeconds;
long backgroundSent = background;
bool all = alertsSeen.Wait(TimeSpan.FromSeconds(30));
await stop.CancelAsync();
await load;

var sorted = latencies.OrderBy(x => x).ToArray();
double P(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
Console.WriteLine($"pairs {pairs}, devices {2 * pairs}, background {backgroundSent / elapsed:F0} fixes/s over {elapsed:F1} s, alerts measured {sorted.Length}{(all ? "" : " (some missing)")}");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"fix published → alert received by the control room: p50 {P(0.50):F2} ms, p90 {P(0.90):F2} ms, p99 {P(0.99):F2} ms, max {P(1):F2} ms"));

foreach (var c in ankles.Concat(phones).Append(meldkamer)) c.Dispose();
await host.StopAsync();
return 0;

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}
