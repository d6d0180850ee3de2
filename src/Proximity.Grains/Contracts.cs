using Orleans.Concurrency;
using Proximity.Protocol;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains;

/// <summary>What happened to the fixes of one message. <see cref="Unrecorded"/>: fixes the position history could
/// not take (its buffer full while the database is away); the message must not be acknowledged.</summary>
[GenerateSerializer, Immutable]
public sealed record FixOutcome([property: Id(0)] int Evaluated, [property: Id(1)] int Duplicates, [property: Id(2)] int Stale,
    [property: Id(3)] int Unrecorded = 0)
{
    public static FixOutcome None { get; } = new(0, 0, 0);
    public FixOutcome Add(FixOutcome o) => new(Evaluated + o.Evaluated, Duplicates + o.Duplicates, Stale + o.Stale, Unrecorded + o.Unrecorded);
}

[GenerateSerializer, Immutable]
public sealed record DeviceEvent(
    [property: Id(0)] long Seq,
    [property: Id(1)] DateTimeOffset Timestamp,
    [property: Id(2)] DeviceEventType Type,
    [property: Id(3)] int? BatteryPercent);

/// <summary>A device's health as last reported, for operators and tests.</summary>
[GenerateSerializer, Immutable]
public sealed record DeviceStatus(
    [property: Id(0)] string DeviceId,
    [property: Id(1)] long? LastSeq,
    [property: Id(2)] DateTimeOffset? LastMessageAt,
    [property: Id(3)] DateTimeOffset? LastFixAt,
    [property: Id(4)] int? BatteryPercent,
    [property: Id(5)] bool StrapOpen,
    [property: Id(6)] bool BodyContactLost,
    [property: Id(7)] bool Offline,
    [property: Id(8)] bool NoFix,
    [property: Id(9)] int Messages);

public enum NoticeLevel { Danger, Warning, ProtectionDegraded, ProtectionRestored }

/// <summary>What a victim's device is told: a level and advice, never the offender's position.</summary>
[GenerateSerializer, Immutable]
public sealed record VictimNotice(
    [property: Id(0)] NoticeLevel Level,
    [property: Id(1)] string Message,
    [property: Id(2)] string? AlertId,
    [property: Id(3)] DateTimeOffset At);

public enum AlertStatus { Open, Acknowledged, Dispatched, Resolved }

[GenerateSerializer, Immutable]
public sealed record AlertHistoryEntry(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string What,
    [property: Id(2)] string By,
    [property: Id(3)] string? Note);

/// <summary>An alert as recorded: the decision core's alert plus its handling by the control room.</summary>
[GenerateSerializer, Immutable]
public sealed record AlertRecord(
    [property: Id(0)] Alert Alert,
    [property: Id(1)] AlertStatus Status,
    [property: Id(2)] DateTimeOffset RecordedAt,
    [property: Id(3)] bool Escalated,
    [property: Id(4)] IReadOnlyList<AlertHistoryEntry> History);

public interface IDeviceGrain : IGrainWithStringKey
{
    /// <summary>The device's health from one message's fixes (oldest first); their judging is <see cref="FixRoutes"/>'.</summary>
    [OneWay]
    Task OnPositions([Immutable] PositionFix[] fixes);

    Task OnEvent(DeviceEvent deviceEvent);

    /// <summary>Starts watching a device that has not reported yet (at startup, for every registered device).</summary>
    Task Watch();

    /// <summary>
    /// The registry changed the device (assigned, given to someone else, retired): follow it. Alerts about a person
    /// who no longer carries it are cleared; a newly fitted device gets its full reporting interval before it counts as silent.
    /// </summary>
    Task RefreshAssignment();

    Task<DeviceStatus> GetStatus();
}

public interface IOffenderGrain : IGrainWithStringKey
{
    Task<FixOutcome> OnOffenderFixes([Immutable] PositionFix[] fixes);

    Task OnVictimFix(string victimId, PositionFix fix, bool late);

    /// <summary>The offender's own device lost or regained protection (offline, no fix): tell the victims.</summary>
    Task OnProtection(bool degraded, string alertId);

    Task<string[]> GetOpenAlertIds();

    /// <summary>The offender's bans changed in the registry: judge with the new set, keeping open episodes of bans that stay.</summary>
    Task RefreshBans();
}

public interface IVictimGrain : IGrainWithStringKey
{
    Task<FixOutcome> OnVictimFixes([Immutable] PositionFix[] fixes);

    [AlwaysInterleave]
    Task Notify(VictimNotice notice);

    [AlwaysInterleave]
    Task<VictimNotice[]> GetNotices();
}

public interface IAlertGrain : IGrainWithStringKey
{
    /// <summary>Records the alert, then publishes it. Idempotent: a retried raise changes nothing.</summary>
    Task Raise(Alert alert);

    /// <summary>The condition ended (the decision core closed the episode, or the device is back).</summary>
    Task Clear(Alert cleared);

    Task<AlertRecord> Acknowledge(string by);

    Task<AlertRecord> Dispatch(string unit, string by);

    Task<AlertRecord> Resolve(string reason, string by);

    Task<AlertRecord?> Get();
}
