using System.Security.Cryptography;
using Proximity.Api.Alerts;
using Proximity.Api.Auth;
using Proximity.Api.Monitoring;
using Proximity.Api.Problems;
using Proximity.Api.Registry;
using Proximity.Grains;
using Proximity.Api.Positions;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Spatial.Decisions;
using Proximity.Grains.Registry;
using Proximity.Ingest;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;

namespace Proximity.Server.Api;

/// <summary>Operator actions go to the alert grain (the alert's record) before the API's directory shows them.</summary>
public sealed class GrainAlertHandling(IGrainFactory grains) : IAlertHandling
{
    public Task AcknowledgeAsync(string alertId, string user, string? note) => Call(() => grains.AlertGrain(alertId).Acknowledge(user));

    public Task DispatchAsync(string alertId, string user, string unit) => Call(() => grains.AlertGrain(alertId).Dispatch(unit, user));

    public Task ResolveAsync(string alertId, string user, string reason) => Call(() => grains.AlertGrain(alertId).Resolve(reason, user));

    private static async Task Call(Func<Task> action)
    {
        try { await action(); }
        catch (InvalidOperationException e) { throw ApiProblemException.Conflict(e.Message); }
        catch (ArgumentException e) { throw ApiProblemException.Invalid(e.Message); }
    }
}

/// <summary>Device health from the device's grain (it activates the grain of a device that has not reported yet).</summary>
public sealed class GrainDeviceHealth(IGrainFactory grains) : IDeviceHealth
{
    public async Task<DeviceHealth> HealthAsync(string deviceId)
    {
        var s = await grains.DeviceGrain(deviceId).GetStatus();
        return new DeviceHealth(s.DeviceId, s.LastSeq, s.LastMessageAt, s.LastFixAt, s.BatteryPercent, s.StrapOpen, s.BodyContactLost,
            s.Offline, s.NoFix, s.Messages);
    }
}

/// <summary>
/// Whether the cluster hears its devices: with an external broker, as this node last heard from the feed grain;
/// with the embedded one, the devices connect to this node itself, which hears them once its listener is up.
/// </summary>
public sealed class FeedMonitoringStatus(DeviceFeed feed, IIngestStatus ingest, IngestOptions options) : IMonitoringStatus
{
    private static readonly MonitoringStatus ListenerUp = new(DeviceFeedCondition.Heard, null, null);

    public MonitoringStatus Current
    {
        get
        {
            if (options.Mode != IngestMode.External) return ingest.IsReady ? ListenerUp : MonitoringStatus.Unknown;
            if (feed.Known is not { } s) return MonitoringStatus.Unknown;
            return new MonitoringStatus(s.Lost ? DeviceFeedCondition.Lost : DeviceFeedCondition.Heard, s.LostAt, s.HeardAgainAt);
        }
    }
}

/// <summary>Every alert the grains publish (raised, cleared, escalated) also reaches the API's directory: list and live stream.</summary>
public sealed class ApiAlertOutbox(ProximityOutputs outputs, InMemoryAlertDirectory directory, ILogger<ApiAlertOutbox> logger) : IAlertOutbox
{
    public void Publish(Alert alert)
    {
        outputs.Publish(alert);
        try { _ = directory.PublishAsync(new MonitorEvent(alert.ClearedAt is null ? MonitorEventKind.Raised : MonitorEventKind.Cleared, alert)); }
        catch (ApiProblemException e) { logger.LogError("alert {AlertId} not shown in the API: {Problem}", alert.Id, e.Message); }
    }
}

/// <summary>Bans created, amended or ended through the API reach the live decisions at once.</summary>
public sealed class BanChangeForwarder(IRegistry api, ProximityRegistry live, IGrainFactory grains, ILogger<BanChangeForwarder> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        api.BansChanged += OnBansChanged;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        api.BansChanged -= OnBansChanged;
        return Task.CompletedTask;
    }

    private void OnBansChanged(string offenderId, IReadOnlyList<Ban> bans)
    {
        live.ReplaceBans(offenderId, bans);
        _ = Refresh(offenderId);
    }

    private async Task Refresh(string offenderId)
    {
        try { await grains.OffenderGrain(offenderId).RefreshBans(); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "offender {OffenderId}: the changed bans could not reach the live decisions", offenderId);
        }
    }
}

/// <summary>Memory mode: the fixes the device grains accept feed the API's position store (tracks on the maps).</summary>
public sealed class ApiFixRecorder(InMemoryPositionStore positions) : IFixRecorder
{
    public bool Record(in PositionFix fix, DateTimeOffset receivedAt, string personId)
    {
        positions.Record(personId, fix, receivedAt);
        return true;
    }
}

public static class LiveApiBridge
{
    /// <summary>Call after <c>AddProximitySilo</c> and <c>AddProximityApi</c>: the last IAlertOutbox registration wins.</summary>
    public static WebApplicationBuilder AddLiveApiBridge(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IAlertHandling, GrainAlertHandling>();
        builder.Services.AddSingleton<IDeviceHealth, GrainDeviceHealth>();
        builder.Services.AddSingleton<IMonitoringStatus, FeedMonitoringStatus>();
        builder.Services.AddHostedService<BanChangeForwarder>();
        builder.Services.AddSingleton<LiveDevices>();
        // With PostgreSQL the API reads the position history the storage writes; in memory it reads what this records.
        if (!StorageChoice.From(builder.Configuration).Postgres)
        {
            builder.Services.AddSingleton<IFixRecorder>(sp => new ApiFixRecorder(sp.GetRequiredService<InMemoryPositionStore>()));
            builder.Services.AddHostedService<DeviceChangeForwarder>();
        }
        else builder.Services.AddHostedService<RegistrySync>(); // devices (this node's and others'), bans changed through other nodes' APIs
        builder.Services.AddSingleton<IAlertOutbox>(sp => new ApiAlertOutbox(sp.GetRequiredService<ProximityOutputs>(),
            sp.GetRequiredService<InMemoryAlertDirectory>(), sp.GetRequiredService<ILogger<ApiAlertOutbox>>()));
        return builder;
    }

    /// <summary>
    /// The first <c>proximity run</c> needs no setup: without a signing key or authority a random key is made for
    /// this run (never a fixed one outside Development), and the way to mint tokens for it is logged.
    /// </summary>
    public static string? EnsureSigningKey(WebApplicationBuilder builder)
    {
        var auth = builder.Configuration.GetSection(ProximityAuthOptions.Section).Get<ProximityAuthOptions>() ?? new();
        if (!string.IsNullOrEmpty(auth.EffectiveSigningKey(builder.Environment.IsDevelopment())) || !string.IsNullOrEmpty(auth.Authority)) return null;
        string key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        builder.Configuration[$"{ProximityAuthOptions.Section}:SigningKey"] = key;
        return key;
    }
}
