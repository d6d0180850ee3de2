using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proximity.Grains.Outputs;
using Proximity.Storage.Alerts;

namespace Proximity.Grains.Durability;

/// <summary>Outbox relay settings (configuration section <c>Proximity:Outbox</c>).</summary>
public sealed class OutboxOptions
{
    public const string Section = "Proximity:Outbox";

    /// <summary>How often stored, unpublished alerts are looked for after the pass at start.</summary>
    public TimeSpan Period { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Only alerts recorded at least this long ago are re-published: younger ones may still be queued
    /// on another node's routes.</summary>
    public TimeSpan MinAge { get; set; } = TimeSpan.FromSeconds(60);

    public int BatchSize { get; set; } = 500;
}

/// <summary>
/// Publishes alerts that were recorded but never reached every route (a crash between record and publish, or a
/// route that gave up): once at start, then every <see cref="OutboxOptions.Period"/>. Delivery marks them
/// published. With several nodes starting together an alert can be published twice, never lost; receivers
/// drop repeats by alert id.
/// </summary>
public sealed class OutboxRelay(AlertStore alerts, IAlertOutbox outbox, ProximityOutputs outputs, OutboxOptions options, TimeProvider time, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    /// <summary>One pass; returns how many alerts were handed to the routes again.</summary>
    public async Task<int> RelayOnceAsync(CancellationToken cancellationToken)
    {
        var before = time.GetUtcNow() - options.MinAge;
        int relayed = 0;
        foreach (var stored in await alerts.UnpublishedAsync(options.BatchSize, cancellationToken))
        {
            if (stored.RecordedAt > before || outputs.IsInFlight(stored.Id)) continue;
            outbox.Publish(stored.Alert); // every consumer of alerts (routes, and the API when it is there)
            relayed++;
        }
        if (relayed > 0) logger.LogWarning("outbox: {Count} recorded alerts were not published; publishing them now", relayed);
        return relayed;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Period, time);
        do
        {
            try { await RelayOnceAsync(stoppingToken); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("outbox: reading unpublished alerts failed ({Error}); trying again in {Period}", e.Message, options.Period);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
