using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proximity.Storage;
using Proximity.Storage.Orleans;
using Proximity.Storage.Positions;

namespace Proximity.Grains.Durability;

/// <summary>Where state lives (<c>Proximity:Storage</c>, <c>Proximity:ConnectionString</c>, <c>Proximity:Storage:MigrateOnStart</c>).</summary>
public sealed record StorageChoice(bool Postgres, string? ConnectionString, bool MigrateOnStart)
{
    public const string StorageKey = "Proximity:Storage";
    public const string ConnectionKey = "Proximity:ConnectionString";
    public const string MigrateKey = "Proximity:Storage:MigrateOnStart";

    public static StorageChoice Memory { get; } = new(false, null, false);

    /// <summary>Whether grain state outlives this silo (worth writing while the silo shuts down).</summary>
    public bool OutlivesSilo => Postgres;

    /// <summary>Whether a grain going away for <paramref name="reason"/> should write what it has not written yet: not in
    /// memory while the silo shuts down (the state goes with it, and the storage may already be gone).</summary>
    public bool KeepsStateOn(Orleans.DeactivationReason reason) => OutlivesSilo || reason.ReasonCode != Orleans.DeactivationReasonCode.ShuttingDown;

    /// <summary>Reads the choice; a bad value is a clear error before anything starts.</summary>
    public static StorageChoice From(IConfiguration configuration)
    {
        string mode = configuration[StorageKey] is { Length: > 0 } m ? m.Trim().ToLowerInvariant() : "memory";
        string? cs = configuration[ConnectionKey];
        bool migrate = configuration[MigrateKey] is { Length: > 0 } v && (bool.TryParse(v, out bool b)
            ? b : throw new InvalidOperationException($"{MigrateKey} must be true or false, not '{v}'"));
        return mode switch
        {
            "memory" => Memory,
            "postgres" or "postgresql" => string.IsNullOrWhiteSpace(cs)
                ? throw new InvalidOperationException($"{StorageKey}=postgres needs a connection string ({ConnectionKey} or --connection)")
                : new StorageChoice(true, cs, migrate),
            _ => throw new InvalidOperationException($"{StorageKey} must be memory or postgres, not '{mode}'"),
        };
    }
}

public static class DurableHosting
{
    /// <summary>
    /// Production storage: Orleans membership and grain state in PostgreSQL through the project's providers,
    /// the stores, alerts recorded before publishing (with the outbox relay) and the batched position history.
    /// Call after <see cref="ProximitySilo.AddProximityGrainServices"/>.
    /// </summary>
    public static ISiloBuilder UseProximityPostgres(this ISiloBuilder silo, string connectionString, bool migrate, IConfiguration? configuration = null)
    {
        silo.UseProximityPostgresClustering(connectionString, migrate);
        silo.AddProximityPostgresGrainStorage(ProximitySilo.StorageName, connectionString);
        silo.Services.AddProximityPostgresStores(connectionString, migrate, configuration);
        silo.Services.AddSingleton(new StorageChoice(true, connectionString, migrate));
        return silo;
    }

    /// <summary>The stores and the alert journal / position recorder that use them (without Orleans providers).</summary>
    public static IServiceCollection AddProximityPostgresStores(this IServiceCollection services, string connectionString, bool migrate, IConfiguration? configuration = null)
    {
        var buffer = configuration?.GetSection("Proximity:Storage:PositionBuffer").Get<PositionWriteBufferOptions>();
        var maintenance = configuration?.GetSection("Proximity:Storage:Maintenance").Get<PositionMaintenanceOptions>();
        services.AddProximityStorage(connectionString, o =>
        {
            o.MigrateOnStart = migrate;
            if (buffer is not null) o.PositionBuffer = buffer;
            if (maintenance is not null) o.Maintenance = maintenance;
        });
        services.AddSingleton<IAlertJournal, PostgresAlertJournal>();
        services.AddSingleton<IFixRecorder, BufferedFixRecorder>();
        services.AddSingleton(configuration?.GetSection(OutboxOptions.Section).Get<OutboxOptions>() ?? new OutboxOptions());
        services.AddSingleton(sp => new OutboxRelay(sp.GetRequiredService<Storage.Alerts.AlertStore>(), sp.GetRequiredService<Outputs.IAlertOutbox>(), sp.GetRequiredService<Outputs.ProximityOutputs>(),
            sp.GetRequiredService<OutboxOptions>(), TimeProvider.System /* compared with the database's recorded_at: wall-clock, not monitoring time */,
            sp.GetRequiredService<ILogger<OutboxRelay>>()));
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        // Written out before the container goes: fixes accepted just before a clean stop are kept.
        services.AddHostedService<PositionFlushOnStop>();
        return services;
    }

    /// <summary>The silo's advertised address: <c>Proximity:Silo:AdvertisedIP</c>, loopback by default (one machine).</summary>
    public static IPAddress AdvertisedAddress(IConfiguration configuration) =>
        configuration["Proximity:Silo:AdvertisedIP"] is { Length: > 0 } ip
            ? IPAddress.TryParse(ip, out var address) ? address : throw new InvalidOperationException($"Proximity:Silo:AdvertisedIP '{ip}' is not an IP address")
            : IPAddress.Loopback;

    private sealed class PositionFlushOnStop(PositionWriteBuffer buffer) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => buffer.StopAsync(TimeSpan.FromSeconds(10));
    }
}
