using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Proximity.Grains;

/// <summary>Whether the cluster hears its devices, and its last outage: from when no node heard them to when one
/// did again (null while it lasts).</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceFeedStatus([property: Id(0)] bool Lost, [property: Id(1)] DateTimeOffset? LostAt, [property: Id(2)] DateTimeOffset? HeardAgainAt)
{
    public static DeviceFeedStatus Heard { get; } = new(false, null, null);
}

/// <summary>The outage under way, kept so that the feed grain's next activation (its node died) still knows it.</summary>
[GenerateSerializer]
public sealed class DeviceFeedState
{
    [Id(0)] public DateTimeOffset? LostSince { get; set; }
}

public interface IDeviceFeedGrain : IGrainWithIntegerKey
{
    /// <summary>A node's word, every few seconds, on whether it hears its devices (its broker is up); returns what
    /// the cluster as a whole hears.</summary>
    Task<DeviceFeedStatus> Report(string node, bool hearing);
}

/// <summary>
/// The cluster's device feed: lost when every node that reported within <see cref="ProximityOptions.DeviceFeedLease"/>
/// says it hears no device; one node still hearing its devices keeps it up (a shared subscription gives it every
/// device). A node that stops reporting no longer counts, and a new activation (its node died) first hears every
/// node out (<see cref="ActivationHold"/>), changing nothing meanwhile. It goes on with a stored outage that began
/// at most <see cref="DeviceFeed.DefaultLongestSuppression"/> ago, so a feed grain moving during a broker outage
/// does not end it for a moment (every device's silence reported at once); storage is never waited for (read for
/// at most <see cref="StorageWait"/>, written in the background): the feed must work while the database is down
/// too. The outage's length is measured with the monotonic clock, so a wall-clock step during it does not stretch
/// what is left out of every device's silence (across a move, the wall clock's, bounded as above).
/// </summary>
public sealed class DeviceFeedGrain(
    [FromKeyedServices(ProximitySilo.StorageName)] IGrainStorage storage,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time, IOptions<ProximityOptions> options, ILogger<DeviceFeedGrain> logger)
    : Grain, IDeviceFeedGrain
{
    /// <summary>How often every node reports (<c>DeviceFeedReporter</c>).</summary>
    public static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(2);

    /// <summary>A new activation declares nothing lost before every live node has had time to speak.</summary>
    public static readonly TimeSpan ActivationHold = ReportEvery * 1.5;

    /// <summary>How long a new activation waits to read the stored outage before it starts without one.</summary>
    public static readonly TimeSpan StorageWait = TimeSpan.FromSeconds(2);

    public const string StateName = "devicefeed";

    private readonly double _leaseMs = options.Value.DeviceFeedLease.TotalMilliseconds;
    private readonly long _activatedTicks = Environment.TickCount64;
    private readonly Dictionary<string, (bool Hearing, long AtTicks)> _nodes = new(StringComparer.Ordinal);
    private DeviceFeedStatus _status = DeviceFeedStatus.Heard;
    private long _lostTicks;
    private GrainState<DeviceFeedState> _stored = new(new DeviceFeedState());
    private bool _unsaved, _saving;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var read = new GrainState<DeviceFeedState>(new DeviceFeedState());
        try { await storage.ReadStateAsync(StateName, this.GetGrainId(), read).WaitAsync(StorageWait, cancellationToken); }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("device feed: the stored outage could not be read ({Error}); starting without one", e.Message);
            return;
        }
        _stored = read;
        if (read.State?.LostSince is not { } since) return;
        var age = time.GetUtcNow() - since;
        if (age > DeviceFeed.DefaultLongestSuppression)
        {
            logger.LogWarning("device feed: the stored outage since {LostAt} is too old to go on with; starting without one", since);
            return;
        }
        _status = new DeviceFeedStatus(true, since, null);
        _lostTicks = _activatedTicks - (long)Math.Max(0, age.TotalMilliseconds);
        logger.LogWarning("device feed: went on with the outage under way since {LostAt} (the feed moved to this node)", since);
    }

    public Task<DeviceFeedStatus> Report(string node, bool hearing)
    {
        long now = Environment.TickCount64;
        _nodes[node] = (hearing, now);
        foreach (string gone in _nodes.Where(n => now - n.Value.AtTicks > _leaseMs).Select(n => n.Key).ToArray()) _nodes.Remove(gone);
        if (now - _activatedTicks < ActivationHold.TotalMilliseconds) return Task.FromResult(_status);
        bool lost = _nodes.Values.All(n => !n.Hearing);
        if (lost == _status.Lost) return Task.FromResult(_status);
        if (lost)
        {
            _status = new DeviceFeedStatus(true, time.GetUtcNow(), null);
            _lostTicks = now;
            logger.LogWarning("no node hears its devices (every broker connection is down): device silence is not reported until one does, for at most {Longest}",
                DeviceFeed.DefaultLongestSuppression);
        }
        else
        {
            _status = _status with { Lost = false, HeardAgainAt = _status.LostAt + TimeSpan.FromMilliseconds(now - _lostTicks) };
            logger.LogWarning("devices are heard again ({Node}) after {Outage}: device silence counts without it", node, _status.HeardAgainAt - _status.LostAt);
        }
        _unsaved = true;
        if (!_saving) _ = SaveAsync();
        return Task.FromResult(_status);
    }

    // Writes the outage under way until what is stored is the latest, trying again after a failure (a stored outage
    // that ended would otherwise be gone on with by a later activation, within its age bound).
    private async Task SaveAsync()
    {
        _saving = true;
        try
        {
            for (int failures = 0; _unsaved;)
            {
                _unsaved = false;
                _stored.State = new DeviceFeedState { LostSince = _status.Lost ? _status.LostAt : null };
                try
                {
                    await storage.WriteStateAsync(StateName, this.GetGrainId(), _stored);
                    failures = 0;
                }
                catch (Exception e)
                {
                    _unsaved = true;
                    logger.LogWarning("device feed: storing the outage failed ({Error}); trying again", e.Message);
                    if (e is InconsistentStateException)
                    {
                        var current = new GrainState<DeviceFeedState>(new DeviceFeedState());
                        try { await storage.ReadStateAsync(StateName, this.GetGrainId(), current); _stored.ETag = current.ETag; }
                        catch (Exception re) when (re is not OperationCanceledException) { }
                    }
                    await Task.Delay(TimeSpan.FromSeconds(Math.Min(30, 1 << Math.Min(++failures, 5))));
                }
            }
        }
        finally { _saving = false; }
    }
}

/// <summary>
/// This node's copy of the cluster's device feed, read by the device grains on every silence check. While no node
/// hears any device (the broker is down), a device's silence is the feed's, not the device's: it is not reported,
/// and once devices are heard again the outage does not count towards any device's silence. Without this one broker
/// outage raises DeviceOffline for every device at once. Only the outage is left out, not all before it, so a
/// connection that keeps dropping for a moment delays a silent device's report by those moments only. Silence is
/// reported as usual again when the copy could not be refreshed for <see cref="StaleAfter"/> (the feed grain out of
/// reach) or the feed has been lost for <see cref="LongestSuppression"/>: blind that long, the control rooms must
/// hear of every device, even all at once.
/// </summary>
public sealed class DeviceFeed(TimeSpan? staleAfter = null, TimeSpan? longestSuppression = null)
{
    public static readonly TimeSpan DefaultLongestSuppression = TimeSpan.FromMinutes(5);

    public TimeSpan StaleAfter { get; } = staleAfter ?? TimeSpan.FromSeconds(30);
    public TimeSpan LongestSuppression { get; } = longestSuppression ?? DefaultLongestSuppression;

    private volatile Copy _copy = new(DeviceFeedStatus.Heard, long.MinValue / 2, 0);

    private sealed record Copy(DeviceFeedStatus Status, long AtTicks, long LostSeenTicks);

    public void Update(DeviceFeedStatus status)
    {
        var before = _copy;
        long now = Environment.TickCount64;
        // A feed grain that started again (its node died) no longer knows the last outage: this copy does.
        if (status == DeviceFeedStatus.Heard && before.Status is { Lost: false, HeardAgainAt: not null }) status = before.Status;
        long lostSeen = !status.Lost ? 0 : before.Status.Lost && before.Status.LostAt == status.LostAt ? before.LostSeenTicks : now;
        _copy = new Copy(status, now, lostSeen);
    }

    public bool Lost
    {
        get
        {
            var c = _copy;
            long now = Environment.TickCount64;
            return c.Status.Lost && now - c.AtTicks < StaleAfter.TotalMilliseconds && now - c.LostSeenTicks < LongestSuppression.TotalMilliseconds;
        }
    }

    /// <summary>The cluster's last word on the feed, for people (however long an outage lasts), or null when this node
    /// has not had it lately (it cannot reach the feed grain).</summary>
    public DeviceFeedStatus? Known
    {
        get
        {
            var c = _copy;
            return Environment.TickCount64 - c.AtTicks < StaleAfter.TotalMilliseconds ? c.Status : null;
        }
    }

    /// <summary>How much of the time since <paramref name="from"/> nobody heard the devices (the last outage).</summary>
    public TimeSpan DeafSince(DateTimeOffset from) => _copy.Status is { LostAt: { } lost, HeardAgainAt: { } back } && back > from
        ? back - (lost > from ? lost : from)
        : TimeSpan.Zero;
}
