using Proximity.Spatial.Schedules;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Bans;

public enum ZoneKind
{
    /// <summary>Locatieverbod: the offender must not be inside.</summary>
    Exclusion,
    /// <summary>Locatiegebod: during the schedule the offender must be inside.</summary>
    Inclusion,
}

/// <summary>Who receives a ban's alerts. Probation's monitoring centre always does; level 3 adds the police.</summary>
[Flags]
public enum AlertRecipients
{
    MonitoringCentre = 1,
    PoliceControlRoom = 2,
}

/// <summary>A court-ordered ban as the decision core needs it. A new version replaces the old one whole.</summary>
public abstract record Ban
{
    public required string Id { get; init; }
    public int Version { get; init; } = 1;
    public required string OffenderId { get; init; }
    public DateTimeOffset ValidFrom { get; init; } = DateTimeOffset.MinValue;
    public DateTimeOffset? ValidUntil { get; init; }
    public WeeklySchedule? Schedule { get; init; }

    /// <summary>1 = passive review, 2 = monitoring centre live (default), 3 = police response.</summary>
    public int MonitoringLevel { get; init; } = 2;

    public AlertRecipients Recipients => MonitoringLevel >= 3
        ? AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom
        : AlertRecipients.MonitoringCentre;

    public bool IsInForce(DateTimeOffset instant) =>
        instant >= ValidFrom &&
        (ValidUntil is not { } until || instant < until) &&
        (Schedule is null || Schedule.IsActive(instant));
}

/// <summary>Contactverbod with proximity monitoring against the victim's device.</summary>
public sealed record ContactBan : Ban
{
    public required string VictimId { get; init; }
    public required double MinDistanceMeters { get; init; }
    public double WarningDistanceMeters { get; init; }
}

/// <summary>Location ban: an exclusion or inclusion zone.</summary>
public sealed record ZoneBan : Ban
{
    public required ZoneKind Kind { get; init; }
    public required ZoneArea Area { get; init; }
    public double WarningBufferMeters { get; init; }
}
