using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;

namespace Proximity.Ingest;

/// <summary>
/// Takes over the MQTT session of a node the cluster declared dead. The broker (Mosquitto 2.0) keeps giving a
/// disconnected persistent session its share of the shared subscription; a node that does not come back would
/// leave that share waiting. So one survivor (the active silo with the lowest address) connects under the dead
/// node's client id (its silo name, see <see cref="IngestHosting"/>), unsubscribes it from the device topics (new
/// messages go to the live nodes), handles what the broker held for it like its own, and removes the session once
/// nothing more arrives. A node that comes back under its id simply starts a new session.
/// </summary>
public sealed class OrphanSessionAdopter(
    IClusterMembershipService membership,
    ILocalSiloDetails local,
    IngestOptions options,
    BrokerDeliveries deliveries,
    ILogger<OrphanSessionAdopter> logger) : BackgroundService
{
    /// <summary>Nothing in hand and nothing received for this long: what the broker held has all come.</summary>
    public static readonly TimeSpan DrainedAfter = TimeSpan.FromSeconds(3);

    private readonly Dictionary<SiloAddress, CancellationTokenSource> _adopting = [];
    private readonly HashSet<SiloAddress> _drained = [];
    private readonly Lock _lock = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stoppingToken))
                Reconcile(snapshot, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
    }

    private void Reconcile(ClusterMembershipSnapshot snapshot, CancellationToken stoppingToken)
    {
        var members = snapshot.Members.Values;
        var active = members.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToList();
        bool adopter = active.Count > 0 && active.Min()!.Equals(local.SiloAddress);
        var liveNames = members.Where(m => m.Status is not SiloStatus.Dead and not SiloStatus.None).Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var orphans = adopter
            ? members.Where(m => m.Status == SiloStatus.Dead && !string.IsNullOrEmpty(m.Name) && m.Name != options.ClientId && !liveNames.Contains(m.Name))
                .ToDictionary(m => m.SiloAddress, m => m.Name)
            : [];
        lock (_lock)
        {
            // Another silo's turn, or the owner is back: let go (the session stays; whoever has it next goes on).
            foreach (var (silo, stop) in _adopting.Where(a => !orphans.ContainsKey(a.Key)).ToList())
            {
                stop.Cancel();
                _adopting.Remove(silo);
            }
            foreach (var (silo, clientId) in orphans)
            {
                if (_adopting.ContainsKey(silo) || _drained.Contains(silo)) continue;
                var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                _adopting[silo] = stop;
                _ = DrainAsync(silo, clientId, stop);
            }
        }
    }

    private async Task DrainAsync(SiloAddress silo, string clientId, CancellationTokenSource stop)
    {
        var ct = stop.Token;
        bool drained = false;
        try
        {
            while (true)
            {
                try
                {
                    drained = await DrainOnceAsync(silo, clientId, ct);
                    break;
                }
                catch (Exception e) when (!ct.IsCancellationRequested && e is MqttCommunicationException or InvalidOperationException or OperationCanceledException)
                {
                    logger.LogWarning("taking over the MQTT session {ClientId} of dead node {Silo} failed ({Error}); trying again", clientId, silo, e.Message);
                    await Task.Delay(TimeSpan.FromSeconds(5), ct);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        finally
        {
            lock (_lock)
            {
                if (drained) _drained.Add(silo);
                if (_adopting.TryGetValue(silo, out var current) && current == stop) _adopting.Remove(silo);
            }
            stop.Dispose();
        }
    }

    /// <returns>true when the session is handled and removed; false when someone else took it over meanwhile.</returns>
    private async Task<bool> DrainOnceAsync(SiloAddress silo, string clientId, CancellationToken ct)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var counter = deliveries.Attach(client, ct);
        try
        {
            var result = await BrokerSession.ConnectAsync(client, options, clientId, ct);
            if (result.IsSessionPresent)
            {
                logger.LogWarning("node {Silo} was declared dead: taking over its MQTT session {ClientId} to handle what the broker kept for it", silo, clientId);
                // From now on the dead node's share goes to the live nodes; what is queued for it still comes here.
                var unsubscribe = new MqttClientUnsubscribeOptionsBuilder();
                foreach (var f in options.DeviceFilters) unsubscribe.WithTopicFilter(f);
                await client.UnsubscribeAsync(unsubscribe.Build(), ct);
                while (counter.InHand > 0 || counter.SinceLastMessage < DrainedAfter)
                {
                    if (!client.IsConnected) return false; // taken over: its owner is back (or another survivor has it)
                    await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
                }
            }
            // Removed: the session of a node that is gone would otherwise collect messages until it expires.
            await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder()
                .WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).WithSessionExpiryInterval(0).Build(), CancellationToken.None);
            if (result.IsSessionPresent)
                logger.LogWarning("handled {Count} messages the broker kept for dead node {Silo}; its MQTT session {ClientId} is removed", counter.Received, silo, clientId);
            return true;
        }
        finally
        {
            if (client.IsConnected && ct.IsCancellationRequested)
            {
                // Let go without removing the session: its owner is back, or another silo takes it.
                try { await client.DisconnectAsync(new MqttClientDisconnectOptionsBuilder().WithReason(MqttClientDisconnectOptionsReason.NormalDisconnection).Build(), CancellationToken.None); }
                catch (MqttCommunicationException) { }
            }
            await counter.WhenDoneAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        }
    }
}
