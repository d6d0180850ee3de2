using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Proximity.Storage.Positions;

public sealed class PositionMaintenanceOptions
{
    /// <summary>Days of position history kept (config key <c>Proximity:Storage:Maintenance:RetentionDays</c>); 0 = keep everything.</summary>
    public int RetentionDays { get; set; } = 180;
    /// <summary>Daily partitions created ahead of today.</summary>
    public int PartitionsAhead { get; set; } = 7;
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Hourly: creates the coming days' partitions, then drops days past retention (keeping
/// evidence). Every node may run it; the SQL takes locks and drops are idempotent.
/// </summary>
public sealed class PositionMaintenanceService(
    PositionStore positions, PositionRetention retention, PositionMaintenanceOptions options, ILogger<PositionMaintenanceService> logger, TimeProvider? time = null)
    : BackgroundService
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>One pass; returns what the retention step dropped.</summary>
    public async Task<RetentionResult?> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        await positions.EnsurePartitionsAheadAsync(now, options.PartitionsAhead, cancellationToken);
        if (options.RetentionDays <= 0) return null;
        var result = await retention.PurgeAsync(now.AddDays(-options.RetentionDays), cancellationToken);
        if (result.DroppedPartitions.Count > 0)
            logger.LogInformation("position retention: dropped {Partitions}, kept {Kept} evidence fixes", string.Join(", ", result.DroppedPartitions), result.EvidenceFixesKept);
        return result;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Interval, _time);
        do
        {
            try { await RunOnceAsync(stoppingToken); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "position maintenance failed; next attempt in {Interval}", options.Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
