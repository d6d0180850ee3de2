using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Proximity.Api.Registry;
using Proximity.Grains;
using Proximity.Grains.Registry;
using Proximity.Ingest;
using Proximity.Protocol;
using Proximity.Storage.Registry;

namespace Proximity.Server.Api;

/// <summary>
/// Puts a device change into this node's live pipeline: the registry the broker logs devices in with and routes
/// their messages by, the broker session (ended when the device was retired, given to someone else or re-keyed, so
/// the old secret or assignment holds nothing open) and the device's grain (its silence watch and open alerts).
/// </summary>
public sealed class LiveDevices(ProximityRegistry live, IDeviceSessions sessions, IGrainFactory grains, ILogger<LiveDevices> logger)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(1);
    private const int GrainAttempts = 6;

    /// <summary>Applies one change; never throws (what fails is logged, and the grain is tried again in the background).</summary>
    public async Task ApplyAsync(DeviceUpdate update)
    {
        DeviceApplied applied;
        try { applied = live.ApplyDevice(update); }
        catch (Exception e) when (e is ArgumentException or CaseFileException)
        {
            // Fails closed: the device stays out of the live registry, so it cannot log in.
            logger.LogError("device {Device}: not made live: {Problem}", update.DeviceId, e.Message);
            return;
        }
        if (!applied.Changed) return;
        logger.LogInformation("device {Device}: {Change}", update.DeviceId, applied switch
        {
            { After: null } => "retired or carried by nobody: it can no longer log in",
            { Before: null } => $"live for {applied.After.Role.ToString().ToLowerInvariant()} {applied.After.PersonId}",
            _ when applied.Before.PersonId != applied.After.PersonId => $"now carried by {applied.After.PersonId}; its session is ended",
            _ => "new secret; its session is ended",
        });
        if (applied.EndsAccess)
        {
            try { await sessions.EndSessionAsync(update.DeviceId); }
            catch (Exception e) { logger.LogError(e, "device {Device}: its broker session could not be ended", update.DeviceId); }
        }
        // The grain reads the registry as it is then: refreshes that overtake each other still end in the current state.
        _ = RefreshGrainAsync(update.DeviceId);
    }

    private async Task RefreshGrainAsync(string deviceId)
    {
        var pause = FirstRetry;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                await grains.DeviceGrain(deviceId).RefreshAssignment();
                return;
            }
            catch (Exception e) when (attempt < GrainAttempts)
            {
                logger.LogWarning("device {Device}: its grain did not take the change ({Problem}); trying again in {Pause}", deviceId, e.Message, pause);
                await Task.Delay(pause);
                pause *= 2;
            }
            catch (Exception e)
            {
                logger.LogError(e, "device {Device}: its grain did not take the change; it follows the registry when it next activates", deviceId);
                return;
            }
        }
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
/// In memory: devices registered, assigned, re-keyed or retired through the API reach the live pipeline at once,
/// in the order the registry made them (it raises its events in order). With PostgreSQL <see cref="RegistrySync"/>
/// does this: one path, from what is stored, for this node's changes and the other nodes'.
/// </summary>
public sealed class DeviceChangeForwarder(IRegistry api, LiveDevices live, IOptions<ProximityOptions> options) : BackgroundService
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
        await foreach (var change in _changes.Reader.ReadAllAsync(stoppingToken))
            await live.ApplyAsync(LiveDevices.FromChange(change, options.Value.SecretHashIterations));
    }
}
