namespace Proximity.Spatial.Monitoring;

public enum AlertType
{
    ContactBanBreach,
    ExclusionZoneBreach,
    InclusionZoneBreach,
    ProximityWarning,
    VictimSos,
    StrapTamper,
    BodyContactLost,
    DeviceOffline,
    NoPositionFix,
    LowBattery,
    BatteryCritical,
    SuspectedJamming,
}

public enum AlertSeverity { Info, Warning, High, Critical }

public static class AlertTypes
{
    public static AlertSeverity DefaultSeverity(AlertType type) => type switch
    {
        AlertType.ContactBanBreach or AlertType.ExclusionZoneBreach or AlertType.VictimSos
            or AlertType.StrapTamper or AlertType.BodyContactLost => AlertSeverity.Critical,
        AlertType.InclusionZoneBreach or AlertType.DeviceOffline or AlertType.NoPositionFix
            or AlertType.BatteryCritical or AlertType.SuspectedJamming => AlertSeverity.High,
        _ => AlertSeverity.Warning,
    };
}

/// <summary>A fix as used by a decision: where, how sure, how old at the moment of the decision.</summary>
public sealed record FixEvidence(
    string Role,
    string DeviceId,
    long Seq,
    DateTimeOffset Timestamp,
    double Latitude,
    double Longitude,
    double AccuracyMeters,
    double AgeSeconds,
    double UncertaintyMeters,
    bool Suspect);

/// <summary>Why a decision was taken, in numbers an operator and a court can check.</summary>
public sealed record AlertEvidence
{
    public required string Rule { get; init; }
    public required string Summary { get; init; }
    /// <summary>Always an array: grain state is stored as JSON naming each value's type, and the list types the
    /// compiler makes for a collection expression (<c>[fix]</c>) are not types the reader may create.</summary>
    public required IReadOnlyList<FixEvidence> Fixes { get => _fixes; init => _fixes = value as FixEvidence[] ?? [.. value]; }
    private readonly FixEvidence[] _fixes = [];
    public string? Certainty { get; init; }
    /// <summary>Offender–victim distance between the best estimates (contact bans).</summary>
    public double? DistanceMeters { get; init; }
    /// <summary>The limit judged against: minimum or warning distance, or 0 for the zone boundary.</summary>
    public double? LimitMeters { get; init; }
    /// <summary>Distance from the offender's best estimate to the zone boundary (zone bans).</summary>
    public double? BoundaryDistanceMeters { get; init; }
    public bool? InsideZone { get; init; }
    /// <summary>How far the best estimate lies on the violating side of the limit (negative: safe side).</summary>
    public double DepthMeters { get; init; }
    /// <summary>Worst-case uncertainty of the depth: accuracies plus movement since old fixes.</summary>
    public double UncertaintyMeters { get; init; }
    public int RunFixes { get; init; }
    public double? RunMeanDepthMeters { get; init; }
    public double? RunStandardErrorMeters { get; init; }
    public DateTimeOffset? RunStartedAt { get; init; }
    public double? ClosingSpeedMetersPerSecond { get; init; }
    public int? BanVersion { get; init; }
}

/// <summary>One alert: one episode of one condition, raised once and updated, not repeated.</summary>
public sealed record Alert
{
    public required string Id { get; init; }
    public required AlertType Type { get; init; }
    public required AlertSeverity Severity { get; init; }
    public required string OffenderId { get; init; }
    public string? VictimId { get; init; }
    public string? BanId { get; init; }
    public int? BanVersion { get; init; }
    public string? DeviceId { get; init; }
    /// <summary>Device time at which the condition was established (for a path crossing: the entry).</summary>
    public required DateTimeOffset RaisedAt { get; init; }
    /// <summary>Device time of the fix whose arrival raised the alert.</summary>
    public required DateTimeOffset DecidedAt { get; init; }
    /// <summary>Raised from fixes that arrived long after they were taken (store-and-forward).</summary>
    public bool Late { get; init; }
    public Bans.AlertRecipients Recipients { get; init; } = Bans.AlertRecipients.MonitoringCentre;
    public required AlertEvidence Evidence { get; init; }
    public DateTimeOffset? ClearedAt { get; init; }
    public string? ClearReason { get; init; }
}

public enum MonitorEventKind { Raised, Cleared }

public sealed record MonitorEvent(MonitorEventKind Kind, Alert Alert);
