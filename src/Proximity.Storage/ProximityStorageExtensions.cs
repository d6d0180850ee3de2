using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Proximity.Storage.Alerts;
using Proximity.Storage.Audit;
using Proximity.Storage.Bans;
using Proximity.Storage.Positions;
using Proximity.Storage.Registry;
using Proximity.Storage.Resilience;

namespace Proximity.Storage;

public sealed class ProximityStorageOptions
{
    /// <summary>Apply the schema migrations when the host starts (config key <c>Storage:MigrateOnStart</c>).</summary>
    public bool MigrateOnStart { get; set; }
    public DatabaseResilienceOptions Resilience { get; set; } = new();
    public PositionWriteBufferOptions PositionBuffer { get; set; } = new();
    public PositionMaintenanceOptions Maintenance { get; set; } = new();
}

/// <summary>Wires the PostgreSQL stores into a host.</summary>
public static class ProximityStorageExtensions
{
    /// <summary>
    /// The shared database handle for <paramref name="connectionString"/> (one pool per connection
    /// string, disposed with the container); Orleans providers and stores use the same one.
    /// </summary>
    public static ProximityDatabase GetProximityDatabase(this IServiceProvider services, string connectionString) =>
        services.GetRequiredKeyedService<ProximityDatabase>(connectionString);

    internal static IServiceCollection AddProximityDatabase(this IServiceCollection services, string connectionString, DatabaseResilienceOptions? resilience = null)
    {
        services.TryAddKeyedSingleton(connectionString, (_, key) => ProximityDatabase.Open((string)key!, resilience));
        return services;
    }

    /// <summary>
    /// Registers <see cref="ProximityDatabase"/>, the stores, the position write buffer and the
    /// maintenance job (partitions ahead, retention); optionally migrates at start.
    /// </summary>
    public static IServiceCollection AddProximityStorage(this IServiceCollection services, string connectionString, Action<ProximityStorageOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        var options = new ProximityStorageOptions();
        configure?.Invoke(options);
        services.AddProximityDatabase(connectionString, options.Resilience);
        services.TryAddSingleton(sp => sp.GetProximityDatabase(connectionString));
        services.TryAddSingleton<PositionStore>();
        services.TryAddSingleton<PositionRetention>();
        services.TryAddSingleton<AlertStore>();
        services.TryAddSingleton<BanStore>();
        services.TryAddSingleton<RegistryStore>();
        services.TryAddSingleton(sp => new AuditLog(sp.GetRequiredService<ProximityDatabase>(), sp.GetService<TimeProvider>()));
        services.TryAddSingleton(sp => new PositionWriteBuffer(sp.GetRequiredService<PositionStore>(), options.PositionBuffer,
            sp.GetService<Microsoft.Extensions.Logging.ILogger<PositionWriteBuffer>>()));
        services.TryAddSingleton(options.Maintenance);
        // Registered first so the schema exists before the maintenance job touches it.
        if (options.MigrateOnStart) services.AddHostedService<MigrateOnStartService>();
        services.AddHostedService<PositionMaintenanceService>();
        return services;
    }

    private sealed class MigrateOnStartService(ProximityDatabase database) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Migrations.Migrator.MigrateAsync(database.DataSource, cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
