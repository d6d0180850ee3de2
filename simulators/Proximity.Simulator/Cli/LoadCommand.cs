using System.Text.Json;
using Proximity.Protocol;
using Proximity.Simulator.Load;

namespace Proximity.Simulator.Cli;

/// <summary><c>proximity-sim load --devices 10000 --rate 10000 --duration 30 --json</c></summary>
internal static class LoadCommand
{
    public const string Help = """
        proximity-sim load --devices N --rate FIXES_PER_S --duration SECONDS [options]

        Connects N devices (one MQTT connection each), publishes fixes at the total rate, and measures
        publish → alert latency by reading proximity/v1/alerts/# as an integration.
          --devices N              devices to connect (default 1000)
          --rate R                 fixes per second over all devices (default 1000)
          --duration S             seconds of publishing (default 30)
          --credentials-file PATH  a case file (from gen-case) with the devices' ids and secrets
          --first-device K         drive devices K .. K+N-1 (0-based, in load order: offender and victim devices
                                   alternate) of the credentials file, so several processes split one case, each
                                   against its own broker (default 0)
          --alerts-user ID         integration id (default: the credentials file's first integration, else
                                   sim-alerts with its generated secret)
          --alerts-password S      its secret
          --connect-concurrency N  connections set up at once (default 200)
          --max-inflight N         publishes awaiting PUBACK at most (default 20000)
          --no-subscribe           do not subscribe devices to their command/notify topics
          --linger S               wait this long for late alerts (default 2)
          --histogram-out PATH     write the publish → alert latency distribution (HdrHistogram text, ms;
                                   with --raw-subscribe: publish → delivery)
          --fix-histogram-out PATH write the publish → PUBACK distribution of every fix (with the embedded
                                   broker: publish → decision, alert recorded)
          --raw-subscribe          raw-broker comparison: subscribe to proximity/v1/devices/+/position instead
                                   of the alerts and time publish → delivery of each fix (for example Mosquitto
                                   with anonymous access; no server needed)
          --json                   print one JSON object on stdout
          --quiet                  no progress line
        """ + "\n" + BrokerArgs.Help + "\n" + LayoutArgs.Help;

    public static async Task<int> RunAsync(Args args, CancellationToken ct)
    {
        var broker = BrokerArgs.Parse(args);
        int devices = args.Int("devices", 1000, 1, 10_000_000);
        IReadOnlyList<(string, string?)>? credentials = null;
        LoadLayout? fileLayout = null;
        IntegrationSpec? integration = null;
        if (args.Get("credentials-file") is { } path)
            (credentials, fileLayout, integration) = ReadCredentials(path);
        string? alertsUser = args.Get("alerts-user");
        string? alertsPassword = args.Get("alerts-password");
        if (alertsUser is null && integration is not null)
            (alertsUser, alertsPassword) = (integration.Id, alertsPassword ?? integration.Secret);
        var options = new LoadOptions
        {
            Broker = broker,
            Devices = devices,
            FirstDevice = args.Int("first-device", 0, 0, 10_000_000),
            Rate = args.Double("rate", 1000, 0.001, 10_000_000),
            DurationSeconds = args.Double("duration", 30, 0.001, 86_400),
            ConnectConcurrency = args.Int("connect-concurrency", 200, 1, 100_000),
            MaxInFlight = args.Int("max-inflight", 20_000, 1, 10_000_000),
            Subscribe = !args.Flag("no-subscribe"),
            AlertsUser = alertsUser,
            AlertsPassword = alertsPassword,
            LingerSeconds = args.Double("linger", 2, 0, 3600),
            HistogramPath = args.Get("histogram-out"),
            FixHistogramPath = args.Get("fix-histogram-out"),
            RawSubscribe = args.Flag("raw-subscribe"),
            Layout = LayoutArgs.Parse(args, fileLayout),
            Credentials = credentials,
            Progress = !args.Flag("quiet"),
        };
        bool json = args.Flag("json");
        args.CheckAllUsed();
        if (options.Problem() is { } p) throw new UsageException(p);

        var report = await new LoadRunner(options).RunAsync(ct);
        if (json) Console.Out.WriteLine(JsonOutput.Serialize(report));
        else
            Console.Out.WriteLine(
                $"summary: {report.Connected}/{report.Devices} connected in {report.ConnectSeconds:0.0} s; {report.FixesSent} fixes sent, {report.FixesAcked} acked, " +
                $"{report.FixesPerSecond:0} fixes/s; ack p50 {report.AckP50Ms} ms p99 {report.AckP99Ms} ms; {report.Alerts} alerts, publish→alert p50 {report.P50Ms} ms " +
                $"p99 {report.P99Ms} ms; {report.Errors} errors" +
                (report.RawReceived is { } raw ? $"; raw subscriber: {raw} delivered, {report.RawPerSecond:0}/s, p50 {report.RawP50Ms} ms p99 {report.RawP99Ms} ms" : ""));
        return report.Errors == 0 ? 0 : 1;
    }

    /// <summary>Devices in load order (offender k, victim k, offender k+1, ...), the layout gen-case stored, and the first integration.</summary>
    private static (IReadOnlyList<(string, string?)>, LoadLayout?, IntegrationSpec?) ReadCredentials(string path)
    {
        CaseFile file;
        string text;
        try
        {
            text = File.ReadAllText(path);
            file = CaseFile.Parse(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CaseFileException)
        {
            throw new UsageException($"--credentials-file {path}: {e.Message}");
        }
        var list = new List<(string, string?)>();
        for (int k = 0; k < Math.Max(file.Offenders.Count, file.Victims.Count); k++)
        {
            if (k < file.Offenders.Count) list.AddRange(file.Offenders[k].Devices.Select(d => (d.Id, d.Secret)));
            if (k < file.Victims.Count) list.AddRange(file.Victims[k].Devices.Select(d => (d.Id, d.Secret)));
        }
        using var doc = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        LoadLayout? layout = null;
        if (doc.RootElement.TryGetProperty("simulation", out var sim) && sim.TryGetProperty("load", out var load))
        {
            try { layout = load.Deserialize<LoadLayout>(JsonOutput.Options); }
            catch (JsonException e) { throw new UsageException($"--credentials-file {path}: simulation.load: {e.Message}"); }
        }
        return (list, layout, file.Integrations.FirstOrDefault());
    }
}
