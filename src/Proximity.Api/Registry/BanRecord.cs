using System.Text.Json;
using System.Text.Json.Serialization;
using Proximity.Spatial.Bans;

namespace Proximity.Api.Registry;

[JsonConverter(typeof(JsonStringEnumConverter<LegalBasis>))]
public enum LegalBasis
{
    /// <summary>Art. 38v Sr: measure restricting freedom (contact / location ban).</summary>
    Article38vSr,
    /// <summary>Art. 509hh Sv: behavioural instruction by the public prosecutor.</summary>
    Article509hhSv,
    /// <summary>Special condition of a suspended sentence.</summary>
    SpecialConditionSuspendedSentence,
    /// <summary>Special condition of conditional release (parole).</summary>
    SpecialConditionParole,
    /// <summary>Condition of suspended pre-trial detention.</summary>
    SuspendedPreTrialDetention,
    Other,
}

[JsonConverter(typeof(JsonStringEnumConverter<BanStatus>))]
public enum BanStatus { Active, Ended }

/// <summary>One window of a ban's weekly schedule in local time (Europe/Amsterdam).</summary>
public sealed record ScheduleWindowDto(IReadOnlyList<string> Days, string From, string To);

/// <summary>A ban as drafted by probation: the decision fields plus the court order's particulars.</summary>
public sealed record BanRequest
{
    /// <summary>Optional on create (generated when absent); ignored on amend.</summary>
    public string? Id { get; init; }
    /// <summary>contact, exclusion or inclusion.</summary>
    public string? Type { get; init; }
    public string? OffenderId { get; init; }
    public string? VictimId { get; init; }
    public LegalBasis? LegalBasis { get; init; }
    public string? IssuingAuthority { get; init; }
    public string? CaseReference { get; init; }
    public DateTimeOffset? ValidFrom { get; init; }
    public DateTimeOffset? ValidUntil { get; init; }
    public IReadOnlyList<ScheduleWindowDto>? Schedule { get; init; }
    /// <summary>1 passive review, 2 monitoring centre live (default), 3 also the police control room.</summary>
    public int? MonitoringLevel { get; init; }
    public double? MinDistanceMeters { get; init; }
    public double? WarningDistanceMeters { get; init; }
    public double? WarningBufferMeters { get; init; }
    /// <summary>GeoJSON Polygon, MultiPolygon, Feature, or <c>{"type":"Circle","center":[lon,lat],"radiusMeters":r}</c>.</summary>
    public JsonElement? Area { get; init; }
    /// <summary>Why this version was made (amendments).</summary>
    public string? Note { get; init; }
}

/// <summary>One version of a ban. Versions are immutable; amending or ending writes a new one.</summary>
public sealed record BanRecord
{
    public required string Id { get; init; }
    public required int Version { get; init; }
    public required string Type { get; init; }
    public required string OffenderId { get; init; }
    public string? VictimId { get; init; }
    public required LegalBasis LegalBasis { get; init; }
    public required string IssuingAuthority { get; init; }
    public required string CaseReference { get; init; }
    public DateTimeOffset? ValidFrom { get; init; }
    public DateTimeOffset? ValidUntil { get; init; }
    public IReadOnlyList<ScheduleWindowDto>? Schedule { get; init; }
    public int MonitoringLevel { get; init; }
    /// <summary>Who receives this ban's alerts (from the monitoring level).</summary>
    public required IReadOnlyList<string> Routing { get; init; }
    public double? MinDistanceMeters { get; init; }
    public double? WarningDistanceMeters { get; init; }
    public double? WarningBufferMeters { get; init; }
    public JsonElement? Area { get; init; }
    public BanStatus Status { get; init; } = BanStatus.Active;
    public required DateTimeOffset RecordedAt { get; init; }
    public required string RecordedBy { get; init; }
    public string? Note { get; init; }

    /// <summary>The ban as the decision core evaluates it.</summary>
    [JsonIgnore]
    public Ban Core { get; init; } = null!; // set by BanFactory; not required so that JSON can ignore it
}
