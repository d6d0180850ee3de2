using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Proximity.Api.Registry;
using Proximity.Grains;
using Proximity.Grains.Durability;
using Proximity.Grains.Registry;
using Proximity.Ingest;
using Proximity.Storage.Registry;

namespace Proximity.Server.Api;

/// <summary>
/// Puts a device change into this node's live pipeline: the registry the broker logs devices in with and routes
/// their messages by, the broker session (ended when the device was retired, given to someone else or re-keyed, so
/// the old secret or assignment holds nothing open) and the device's grain (its silence watch and open alerts).
/// </summary>
public sealed class LiveDevices(ProximityRegistry live, IDeviceSessions sessions, IGrainFactory grains, ILogger<LiveDevices> logger)
{
    public async Task ApplyAsync(DeviceUpdate update)
    {
        var applied = live.ApplyDevice(update);
        if (!applied.Changed) return;
        if (applied.EndsAccess) await sessions.EndSessionAsync(update.DeviceId);
        await grains.DeviceGrain(update.DeviceId).RefreshAssignment();
        logger.LogInformation("device {Device}: {Change}", update.DeviceId, applied switch
        {
            { After: null } => "retired or carried by nobody: it can no longer log in",
            { Before: null } => $"live for {applied.After.Role.ToString().ToLowerInvariant()} {applied.After.PersonId}",
            _ when applied.Before.PersonId != applied.After.PersonId => $"now carried by {applied.After.PersonId}; its session was ended",
            _ => "new secret; its session was ended",
        });
    }

    /// <summary>A device as PostgreSQL holds it (the secret in its stored hash form).</summary>
    public static DeviceUpdate FromStored(StoredDevice d) => new(d.Id, d.PersonId,
        d.Kind == Proximity.Storage.Registry.DeviceKind.AnkleMonitor ? PersonRole.Offender : PersonRole.Victim, d.RetiredAt is not null,
        SecretHash.Parse(d.SecretHash));

    /// <summary>A device as the in-memory registry reported it; a new secret is hashed here, in the broker's form.</summary>
    public static DeviceUpdate FromChange(DeviceChange change, int hashIterations) => new(change.Device.Id, change.Device.PersonId,
        change.Device.Kind == Proximity.Api.Registry.DeviceKind.AnkleMonitor ? PersonRole.Offender : PersonRole.Victim,
        change.Device.Status == Proximity.Api.Registry.DeviceStatus.Retired, change.NewSecret is { } secret ? SecretHash.Create(secret, hashIterations) : null);
}

/// <summary>
/// Devices registered, assigned, re-keyed or retired through this node's API reach its live pipeline at once, in
/// the order they were made. With PostgreSQL the device is read back as stored (the other nodes follow by
/// <see cref="RegistrySync"/>, which reads the same stored form, so applying both changes nothing twice).
/// </summary>
public sealed class DeviceChangeForwarder(IRegistry api, LiveDevices live, StorageChoice storage, IServiceProvider services,
    IOptions<ProximityOptions> options, ILogger<DeviceChangeForwarder> logger) : BackgroundService
{
    private readonly Channel<DeviceChange> _changes = Channel.CreateUnbounded<DeviceChange>(new UnboundedChannelOptions { SingleReader = true });

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        api.DeviceChanged += OnDeviceChanged;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        api.DeviceChanged -= OnDeviceChanged;
        await base.StopAsync(cancellationToken);
    }

    private void OnDeviceChanged(DeviceChange change) => _changes.Writer.TryWrite(change);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stored = storage.Postgres ? services.GetRequiredService<RegistryStore>() : null;
        await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                if (stored is null) await live.ApplyAsync(LiveDevices.FromChange(change, options.Value.SecretHashIterations));
                else if ((await stored.DevicesAsync(change.Device.Id, stoppingToken)).SingleOrDefault() is { } device)
                    await live.ApplyAsync(LiveDevices.FromStored(device));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogError(e, "device {Device}: the change could not reach the live pipeline here{Later}", change.Device.Id,
                    stored is null ? "" : " (the registry poll tries again)");
            }
        }
    }
}
