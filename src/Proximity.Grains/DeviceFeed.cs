using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Proximity.Grains.Durability;

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
/// node out (<see cref="ActivationHold"/>), changing nothing meanwhile: it goes on with the outage its state
/// holds, so a feed grain moving during a broker outage does not end the outage for a moment (every device's
/// silence reported at once). The outage's length is measured with the monotonic clock, so a wall-clock step
/// during it does not stretch what is left out of every device's silence (across a move, the wall clock's).
/// </summary>
public sealed class DeviceFeedGrain(
    [PersistentState("devicefeed", ProximitySilo.StorageName)] IPersistentState<DeviceFeedState> state,
    [FromKeyedServices(ProximitySilo.ClockKey)] TimeProvider time, IOptions<ProximityOptions> options, ILogger<DeviceFeedGrain> logger)
    : Grain, IDeviceFeedGrain
{
    /// <summary>How often every node reports (<c>DeviceFeedReporter</c>).</summary>
    public static readonly TimeSpan ReportEvery = TimeSpan.FromSeconds(2);

    /// <summary>A new activation declares nothing lost before every live node has had time to speak.</summary>
    public static readonly TimeSpan ActivationHold = ReportEvery * 1.5;

    private readonly double _leaseMs = options.Value.DeviceFeedLease.TotalMilliseconds;
    private readonly long _activatedTicks = Environment.TickCount64;
    private readonly Dictionary<string, (bool Hearing, long AtTicks)> _nodes = new(StringComparer.Ordinal);
    private DeviceFeedStatus _status = DeviceFeedStatus.Heard;
    private long _lostTicks;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.LostSince is { } since)
        {
            _status = new DeviceFeedStatus(true, since, null);
            _lostTicks = Environment.TickCount64 - (long)Math.Max(0, (time.GetUtcNow() - since).TotalMilliseconds);
            logger.LogWarning("device feed: went on with the outage under way since {LostAt} (the feed moved to this node)", since);
        }
        return Task.CompletedTask;
    }

    public async Task<DeviceFeedStatus> Report(string node, bool hearing)
    {
        long now = Environment.TickCount64;
        _nodes[node] = (hearing, now);
        foreach (string gone in _nodes.Where(n => now - n.Value.AtTicks > _leaseMs).Select(n => n.Key).ToArray()) _nodes.Remove(gone);
        if (now - _activatedTicks < ActivationHold.TotalMilliseconds) return _status;
        bool lost = _nodes.Values.All(n => !n.Hearing);
        if (lost == _status.Lost) return _status;
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
        // Best effort: storage down as well, a move during the outage ends it for a moment, as before this was kept.
        state.State.LostSince = _status.Lost ? _status.LostAt : null;
        await state.TryWriteStateAsync(logger, "device feed", this.GetPrimaryKeyLong().ToString(System.Globalization.CultureInfo.InvariantCulture));
        return _status;
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

    /// <summary>How much of the time since <paramref name="from"/> nobody heard the devices (the last outage).</summary>
    public TimeSpan DeafSince(DateTimeOffset from) => _copy.Status is { LostAt: { } lost, HeardAgainAt: { } back } && back > from
        ? back - (lost > from ? lost : from)
        : TimeSpan.Zero;
}
