using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Registry;
using Proximity.Protocol;

namespace Proximity.Grains;

/// <summary>Silo settings for <c>proximity run</c> (configuration section <c>Proximity:Silo</c>).</summary>
public sealed class SiloOptions
{
    public const string Section = "Proximity:Silo";
    public int SiloPort { get; set; } = 11111;
    public int GatewayPort { get; set; } = 30000;
    public string ClusterId { get; set; } = "proximity-dev";
}

/// <summary>A control-room integration from configuration: <c>Proximity:Integrations:0:Id</c>, <c>...:Secret</c>.</summary>
public sealed class IntegrationOptions
{
    public const string Section = "Proximity:Integrations";
    public string Id { get; set; } = "";
    public string Secret { get; set; } = "";

    public IntegrationSpec ToSpec() =>
        string.IsNullOrWhiteSpace(Id) || string.IsNullOrEmpty(Secret)
            ? throw new CaseFileException($"{Section}: every integration needs an Id and a Secret")
            : new IntegrationSpec(Id, Secret);
}

public static class ProximitySilo
{
    public const string StorageName = "proximity";

    /// <summary>
    /// The key of the <see cref="TimeProvider"/> the grains and outputs judge time by. Keyed, so tests can fake
    /// monitoring time while Orleans' own loops stay on real time.
    /// </summary>
    public const string ClockKey = "proximity-clock";

    /// <summary>Orleans' <see cref="ClusterMembershipOptions"/> (ProbeTimeout, NumMissedProbesLimit, NumVotesForDeathDeclaration, ...).</summary>
    public const string MembershipSection = "Proximity:Cluster:Membership";

    /// <summary>Time for one liveness probe between nodes (Orleans' default is 5 s).</summary>
    public static readonly TimeSpan DefaultProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Configuration key: run the Orleans dashboard's data collection in this silo.</summary>
    public const string DashboardKey = "Proximity:Dashboard:Enabled";

    /// <summary>
    /// A silo with the proximity grains, the registry loaded from <paramref name="caseFile"/> and the output routes:
    /// single-node in memory by default, or clustered and persisted in PostgreSQL (<c>Proximity:Storage=postgres</c>).
    /// </summary>
    public static IHostApplicationBuilder AddProximitySilo(this IHostApplicationBuilder builder, CaseFile caseFile)
    {
        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        // Control-room integrations may also come from configuration (secrets from the environment, not the case file).
        var configured = builder.Configuration.GetSection(IntegrationOptions.Section).Get<List<IntegrationOptions>>() ?? [];
        if (configured.Count > 0)
            caseFile = caseFile with { Integrations = [.. caseFile.Integrations, .. configured.Select(i => i.ToSpec())] };
        var storage = StorageChoice.From(builder.Configuration);
        builder.Services.AddProximityGrainServices(caseFile, builder.Configuration);
        builder.UseOrleans(s =>
        {
            // One trace from the MQTT message through the grains to the alert; without an exporter the grain call
            // filters would only cost time on every call.
            if (ProximityTracing.IsExported(builder.Configuration)) s.AddActivityPropagation();
            // The Orleans dashboard has no authentication of its own: the host maps it behind the Admin role.
            if (builder.Configuration.GetValue<bool>(DashboardKey)) Orleans.Dashboard.ServiceCollectionExtensions.AddDashboard(s, _ => { });
            if (storage.Postgres)
            {
                // Membership and grain state in the shared database: several nodes form one cluster.
                s.Configure<ClusterOptions>(o => { o.ClusterId = silo.ClusterId; o.ServiceId = "proximity"; });
                // How fast a killed node is declared dead: its grains and its MQTT session move then. Orleans' 5 s probe
                // took 11-16 s with three nodes (up to 20 s when the survivors' probes are out of phase); 3 s keeps it
                // well inside 20 s and still needs 9 s of silence before a node is suspected. See docs/operations.md.
                s.Services.Configure<ClusterMembershipOptions>(o => o.ProbeTimeout = DefaultProbeTimeout);
                s.Services.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection(MembershipSection));
                s.ConfigureEndpoints(DurableHosting.AdvertisedAddress(builder.Configuration), silo.SiloPort, silo.GatewayPort, listenOnAnyHostAddress: true);
                s.UseProximityPostgres(storage.ConnectionString!, storage.MigrateOnStart, builder.Configuration);
            }
            else
            {
                s.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: "proximity", clusterId: silo.ClusterId);
                s.AddMemoryGrainStorage(StorageName);
            }
        });
        builder.Services.AddHostedService<DeviceWatchStarter>();
        return builder;
    }

    /// <summary>What the grains need, without the silo itself (for test clusters).</summary>
    public static IServiceCollection AddProximityGrainServices(this IServiceCollection services, CaseFile caseFile, IConfiguration? configuration = null)
    {
        var options = services.AddOptions<ProximityOptions>();
        var outputs = services.AddOptions<OutputOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(ProximityOptions.Section));
            outputs.Bind(configuration.GetSection(OutputOptions.Section));
        }
        services.TryAddKeyedSingleton(ClockKey, TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton(sp => new ProximityRegistry(caseFile,
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProximityOptions>>().Value.SecretHashIterations));
        services.AddSingleton<OutputMetrics>();
        services.AddSingleton<DecisionMetrics>();
        services.TryAddSingleton(_ => new DeviceFeed());
        services.TryAddSingleton(StorageChoice.Memory);
        services.TryAddSingleton<IAlertJournal, NoAlertJournal>();
        services.TryAddSingleton<IFixRecorder, NoFixRecorder>();
        services.AddSingleton(sp => new FixRoutes(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<IFixRecorder>(),
            sp.GetRequiredKeyedService<TimeProvider>(ClockKey)));
        services.AddSingleton<ProximityOutputs>();
        services.AddSingleton<IAlertOutbox>(sp => sp.GetRequiredService<ProximityOutputs>());
        services.AddSingleton<IDeviceMessenger>(sp => sp.GetRequiredService<ProximityOutputs>());
        services.AddHostedService(sp => sp.GetRequiredService<ProximityOutputs>());
        return services;
    }
}

/// <summary>
/// Activates every registered device's grain at startup, so a device that never reports is reported offline. A grain
/// that cannot activate (its stored state unreadable, the database away) does not stop the node: it is tried again
/// every <see cref="RetryEvery"/> until it watches, and the device's next message activates it anyway.
/// </summary>
public sealed class DeviceWatchStarter(Func<string, Task> watch, ProximityRegistry registry, ILogger<DeviceWatchStarter> logger, TimeSpan retryEvery)
    : IHostedService, IDisposable
{
    public static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(30);
    private readonly CancellationTokenSource _stop = new();
    private Task _retrying = Task.CompletedTask;

    public DeviceWatchStarter(IGrainFactory grains, ProximityRegistry registry, ILogger<DeviceWatchStarter> logger)
        : this(id => grains.DeviceGrain(id).Watch(), registry, logger, RetryEvery) { }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var failed = await WatchAsync([.. registry.AllDevices.Select(d => d.DeviceId)], cancellationToken);
        if (failed.Count == 0)
        {
            logger.LogInformation("watching {Count} registered devices", registry.DeviceCount);
            return;
        }
        logger.LogError("watching {Count} registered devices; {Failed} could not start and are tried again every {Period}",
            registry.DeviceCount - failed.Count, failed.Count, retryEvery);
        _retrying = Task.Run(() => RetryAsync(failed, _stop.Token), CancellationToken.None);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try { await _retrying.WaitAsync(cancellationToken); }
        catch (OperationCanceledException) { } // stopped while a retry was under way
    }

    public void Dispose() => _stop.Dispose();

    private async Task RetryAsync(IReadOnlyList<string> failed, CancellationToken ct)
    {
        while (failed.Count > 0 && !ct.IsCancellationRequested)
        {
            try { await Task.Delay(retryEvery, ct); }
            catch (OperationCanceledException) { return; }
            // Retired or given to nobody meanwhile: nothing to watch.
            failed = await WatchAsync([.. failed.Where(id => registry.Device(id) is not null)], ct);
            if (failed.Count > 0) logger.LogError("{Failed} registered devices still cannot start watching", failed.Count);
            else logger.LogInformation("every registered device is watched now");
        }
    }

    // The devices whose grain could not start watching; the first few failures are logged with their cause.
    private async Task<List<string>> WatchAsync(IReadOnlyList<string> deviceIds, CancellationToken ct)
    {
        var failed = new List<string>();
        foreach (var chunk in deviceIds.Chunk(256))
            await Task.WhenAll(chunk.Select(async id =>
            {
                try { await watch(id); }
                catch (Exception x) when (x is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    int count;
                    lock (failed)
                    {
                        failed.Add(id);
                        count = failed.Count;
                    }
                    if (count <= 5) logger.LogError(x, "device {Device}: its grain could not start watching", id);
                }
            }));
        return failed;
    }
}
