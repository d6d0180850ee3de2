using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Proximity.Grains;

namespace Proximity.Ingest;

/// <summary>
/// Tells the cluster every <see cref="DeviceFeedGrain.ReportEvery"/> whether this node hears its devices (its broker connection is up)
/// and keeps this node's copy of what the cluster hears, which the device grains read before they report silence.
/// Only with an external broker: the embedded broker hears its devices whenever the node runs.
/// </summary>
public sealed class DeviceFeedReporter(IIngestStatus ingest, IGrainFactory grains, DeviceFeed feed, IngestOptions options, ILogger<DeviceFeedReporter> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(DeviceFeedGrain.ReportEvery);
        do
        {
            try { feed.Update(await grains.GetGrain<IDeviceFeedGrain>(0).Report(options.ClientId, ingest.IsReady)); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The copy goes stale on its own and is then not trusted (DeviceFeed.StaleAfter).
                logger.LogDebug("reporting the device feed failed: {Error}", e.Message);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
