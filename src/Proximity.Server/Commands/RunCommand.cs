using Microsoft.Extensions.Diagnostics.HealthChecks;
using Proximity.Api;
using Proximity.Api.Registry;
using Proximity.Grains;
using Proximity.Ingest;
using Proximity.Server.Api;
using Proximity.Protocol;
using Proximity.Server.Demo;
using Proximity.Server.Health;
using Proximity.Server.Telemetry;

namespace Proximity.Server.Commands;

/// <summary><c>proximity run [--case case.json] [--demo] [--mqtt-port 1883] [--http-port 5080]</c></summary>
public static class RunCommand
{
    public const string Help = """
        proximity run [--case case.json] [--demo] [--mqtt-port 1883] [--http-port 5080]
                      [--silo-port 11111] [--gateway-port 30000]

          --case       offenders, victims, devices (with secrets), bans and integrations (the replay case format)
          --demo       also start simulated devices: an offender approaching a victim, so alerts appear at once
          --mqtt-port  the embedded MQTT broker's port (devices and control-room integrations connect here)
          --http-port  the HTTP port: API (/api, /openapi/v1.json), web pages (/), health (/health)

        Starts a single-node Orleans silo (localhost clustering), the embedded MQTT broker and the HTTP host.
        Storage is in memory: nothing is persisted. Configuration keys (appsettings.json or environment, for
        example Proximity__Ingest__Mode=External): Proximity:*, Proximity:Ingest:*, Proximity:Outputs:*.
        """;

    public static async Task<int> RunAsync(Options options)
    {
        if (options.Has("help")) { Console.Out.WriteLine(Help); return 0; }
        CaseFile caseFile;
        try { caseFile = options.Get("case") is { Length: > 0 } path ? CaseFile.Load(path) : new CaseFile([], [], [], []); }
        catch (CaseFileException e) { return CommandLine.Fail(e.Message); }
        int mqttPort = options.Int("mqtt-port", 1883);
        int httpPort = options.Int("http-port", 5080);
        DemoSetup? demo = options.Has("demo") ? DemoSetup.Create() : null;
        if (demo is not null) caseFile = demo.MergeInto(caseFile);

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls($"http://0.0.0.0:{httpPort}");
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Proximity:Silo:SiloPort"] = options.Int("silo-port", 11111).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Proximity:Silo:GatewayPort"] = options.Int("gateway-port", 30000).ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        // Orleans logs its options and Polly every placement attempt at Information: keep the console readable.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.AddProximityTelemetry();
        builder.AddProximitySilo(caseFile);
        builder.AddProximityIngest(o => { if (options.Has("mqtt-port")) o.Port = mqttPort; });
        if (demo is not null) builder.Services.AddSingleton(demo).AddHostedService<DemoDevices>();
        builder.Services.AddHealthChecks().AddCheck<IngestHealthCheck>("ingest");
        string? generatedKey = LiveApiBridge.EnsureSigningKey(builder);
        builder.AddProximityApi().AddLiveApiBridge();

        var app = builder.Build();
        app.MapHealthChecks("/health");
        app.MapProximityHealth();
        app.MapProximityMetrics();
        app.MapProximityApi();
        // The API's registry shows what the pipeline enforces.
        await CaseImport.ImportAsync(app.Services.GetRequiredService<Proximity.Api.Registry.IRegistry>(), caseFile, DateTimeOffset.UtcNow);
        if (generatedKey is not null)
            app.Logger.LogWarning("no Proximity:Auth:SigningKey or Authority configured: generated a key for this run. Mint tokens with: " +
                "proximity token --key {Key} --role MonitoringCentre --user NAME, then open http://localhost:{Http}/control-room.html#token=TOKEN",
                generatedKey, httpPort);
        app.Logger.LogWarning("storage is in memory: nothing is persisted; alerts and device state are lost when the process stops");
        app.Logger.LogInformation("{Offenders} offenders, {Victims} victims, {Bans} bans, {Integrations} integrations loaded; HTTP on port {Http}, health at /health",
            caseFile.Offenders.Count, caseFile.Victims.Count, caseFile.Bans.Count, caseFile.Integrations.Count, httpPort);
        try
        {
            await app.RunAsync();
        }
        catch (System.Net.Sockets.SocketException e) when (e.SocketErrorCode == System.Net.Sockets.SocketError.AddressAlreadyInUse)
        {
            return CommandLine.Fail($"a port is already in use ({e.Message}); choose others with --mqtt-port, --http-port, --silo-port, --gateway-port");
        }
        catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
        {
            return CommandLine.Fail($"a port is already in use ({e.Message}); choose others with --mqtt-port, --http-port, --silo-port, --gateway-port");
        }
        return 0;
    }
}

/// <summary>Healthy when ingest can take messages (broker listening, or connected to the external broker).</summary>
public sealed class IngestHealthCheck(IIngestStatus ingest) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(ingest.IsReady ? HealthCheckResult.Healthy(ingest.Description) : HealthCheckResult.Unhealthy(ingest.Description + ": not ready"));
}
