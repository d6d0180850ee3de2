using Microsoft.Extensions.Diagnostics.HealthChecks;
using Proximity.Api;
using Proximity.Api.Registry;
using Proximity.Grains;
using Proximity.Grains.Durability;
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
                      [--storage memory|postgres] [--connection "Host=...;Database=..."] [--migrate]
                      [--mqtt embedded|external] [--mqtt-host HOST]

          --case       offenders, victims, devices (with secrets), bans and integrations (the replay case format)
          --demo       also start simulated devices: an offender approaching a victim, so alerts appear at once
          --mqtt-port  the embedded MQTT broker's port (devices and control-room integrations connect here),
                       or with --mqtt external the external broker's port
          --mqtt       embedded (default: the service is the broker) or external (Mosquitto/EMQX at --mqtt-host,
                       shared subscription $share/proximity/..., persistent session)
          --http-port  the HTTP port: API (/api, /openapi/v1.json), web pages (/), health (/health)
          --storage    memory (default: one node, nothing persisted) or postgres (production: people, devices and
                       bans with their versions, Orleans membership and grain state, alerts with outbox, position
                       history in PostgreSQL/PostGIS; nodes on the same database form one cluster; --case is imported
                       into the database where missing). Config key Proximity:Storage.
          --connection PostgreSQL connection string (Proximity:ConnectionString)
          --migrate    apply the schema migrations at start (Proximity:Storage:MigrateOnStart)

        Starts an Orleans silo, the embedded MQTT broker and the HTTP host. With --storage memory the silo is a
        single node and nothing is persisted. Configuration keys (appsettings.json or environment, for
        example Proximity__Ingest__Mode=External): Proximity:*, Proximity:Ingest:*, Proximity:Outputs:*.
        """;

    public static async Task<int> RunAsync(Options options)
    {
        if (options.Has("help")) { Console.Out.WriteLine(Help); return 0; }
        CaseFile caseFile;
        try { caseFile = options.Get("case") is { Length: > 0 } path ? CaseFile.Load(path) : new CaseFile([], [], [], []); }
        catch (CaseFileException e) { return CommandLine.Fail(e.Message); }
        DemoSetup? demo = options.Has("demo") ? DemoSetup.Create() : null;
        if (demo is not null) caseFile = demo.MergeInto(caseFile);

        var builder = WebApplication.CreateBuilder();
        var flags = new Dictionary<string, string?>();
        if (options.Has("silo-port")) flags["Proximity:Silo:SiloPort"] = options.Int("silo-port", 11111).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (options.Has("gateway-port")) flags["Proximity:Silo:GatewayPort"] = options.Int("gateway-port", 30000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (options.Get("mqtt") is { } mode)
        {
            if (!mode.Equals("embedded", StringComparison.OrdinalIgnoreCase) && !mode.Equals("external", StringComparison.OrdinalIgnoreCase))
                return CommandLine.Fail($"--mqtt must be embedded or external, not '{mode}'");
            flags["Proximity:Ingest:Mode"] = mode;
        }
        if (options.Get("mqtt-host") is { } host) flags["Proximity:Ingest:BrokerHost"] = host;
        if (builder.Configuration[ProximitySilo.DashboardKey] is null) flags[ProximitySilo.DashboardKey] = "true";
        int httpPort = DeploymentKeys.Apply(builder.Configuration, flags, options.Has("http-port") ? options.Int("http-port", 5080) : null,
            options.Has("mqtt-port") ? options.Int("mqtt-port", 1883) : null);
        builder.WebHost.UseUrls($"http://0.0.0.0:{httpPort}");
        // Flags override configuration (appsettings.json, Proximity__Storage=postgres, ...) only when given.
        if (options.Get("storage") is { } storageFlag) flags[StorageChoice.StorageKey] = storageFlag;
        if (options.Get("connection") is { } connectionFlag) flags[StorageChoice.ConnectionKey] = connectionFlag;
        if (options.Has("migrate")) flags[StorageChoice.MigrateKey] = "true";
        builder.Configuration.AddInMemoryCollection(flags);
        StorageChoice storage;
        try { storage = StorageChoice.From(builder.Configuration); }
        catch (InvalidOperationException e) { return CommandLine.Fail(e.Message); }
        // Orleans logs its options and Polly every placement attempt at Information: keep the console readable.
        builder.Logging.AddFilter("Orleans", LogLevel.Warning).AddFilter("Polly", LogLevel.Warning)
            .AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.AddProximityTelemetry();
        // With PostgreSQL the database holds the registry: the case file goes into it, the grains get what it holds.
        var live = caseFile;
        if (storage.Postgres)
        {
            int iterations = builder.Configuration.GetValue($"{ProximityOptions.Section}:SecretHashIterations", Proximity.Grains.Registry.SecretHash.DefaultIterations);
            try
            {
                (live, var versions) = await DurableRegistry.LoadAsync(storage, caseFile, iterations);
                builder.Services.AddSingleton(versions);
            }
            catch (Npgsql.NpgsqlException e) { return CommandLine.Fail($"PostgreSQL: {e.Message} (check --connection / {StorageChoice.ConnectionKey})"); }
            catch (Proximity.Storage.Migrations.MigrationException e) { return CommandLine.Fail(e.Message); }
            catch (Proximity.Api.Problems.ApiProblemException e) { return CommandLine.Fail($"the case file cannot be stored: {e.Message}"); }
        }
        builder.AddProximitySilo(live);
        builder.AddProximityIngest();
        if (demo is not null) builder.Services.AddSingleton(demo).AddHostedService<DemoDevices>();
        builder.Services.AddHealthChecks().AddCheck<IngestHealthCheck>("ingest");
        string? generatedKey = LiveApiBridge.EnsureSigningKey(builder);
        builder.AddProximityApi().AddLiveApiBridge();

        var app = builder.Build();
        app.MapHealthChecks("/health");
        app.MapProximityHealth();
        app.MapProximityMetrics();
        app.MapProximityApi();
        // Cluster internals for administrators only: the dashboard has no authentication of its own.
        if (builder.Configuration.GetValue<bool>(ProximitySilo.DashboardKey))
            Orleans.Dashboard.ServiceCollectionExtensions.MapOrleansDashboard(app, "/dashboard").RequireAuthorization(Proximity.Api.Auth.Roles.Administer);
        // The API's registry shows what the pipeline enforces (with PostgreSQL the case is already in the database).
        if (!storage.Postgres)
            await CaseImport.ImportAsync(app.Services.GetRequiredService<Proximity.Api.Registry.IRegistry>(), caseFile, DateTimeOffset.UtcNow);
        if (generatedKey is not null)
            app.Logger.LogWarning("no Proximity:Auth:SigningKey or Authority configured: generated a key for this run. Mint tokens with: " +
                "proximity token --key {Key} --role MonitoringCentre --user NAME, then open http://localhost:{Http}/control-room.html#token=TOKEN",
                generatedKey, httpPort);
        if (storage.Postgres)
            app.Logger.LogInformation("storage: PostgreSQL (registry and bans, cluster membership, grain state, alerts with outbox, position history){Migrate}",
                storage.MigrateOnStart ? "; migrating at start" : "");
        else
            app.Logger.LogWarning("storage is in memory: nothing is persisted; alerts and device state are lost when the process stops");
        app.Logger.LogInformation("{Offenders} offenders, {Victims} victims, {Bans} bans, {Integrations} integrations loaded; HTTP on port {Http}, health at /health",
            live.Offenders.Count, live.Victims.Count, live.Bans.Count, app.Services.GetRequiredService<Proximity.Grains.Registry.ProximityRegistry>().IntegrationCount, httpPort);
        try
        {
            await app.RunAsync();
        }
        catch (Npgsql.NpgsqlException e)
        {
            return CommandLine.Fail($"PostgreSQL: {e.Message} (check --connection / {StorageChoice.ConnectionKey})");
        }
        catch (Proximity.Storage.Migrations.MigrationException e)
        {
            return CommandLine.Fail(e.Message);
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
