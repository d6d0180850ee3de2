// Surrogates are plain field bags by design (Orleans copies them field by field).
#pragma warning disable CA1051
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Grains.Serialization;

// The decision core has no Orleans dependency; these surrogates let its records cross grain calls and be
// stored by any grain storage provider.

[GenerateSerializer]
public struct PositionFixSurrogate
{
    [Id(0)] public string DeviceId;
    [Id(1)] public long Seq;
    [Id(2)] public DateTimeOffset Timestamp;
    [Id(3)] public double Latitude;
    [Id(4)] public double Longitude;
    [Id(5)] public double AccuracyMeters;
    [Id(6)] public double? Speed;
    [Id(7)] public double? Heading;
    [Id(8)] public int? Battery;
    [Id(9)] public byte Source;
}

[RegisterConverter]
public sealed class PositionFixConverter : IConverter<PositionFix, PositionFixSurrogate>
{
    public PositionFix ConvertFromSurrogate(in PositionFixSurrogate s) =>
        new(s.DeviceId, s.Seq, s.Timestamp, s.Latitude, s.Longitude, s.AccuracyMeters, s.Speed, s.Heading, s.Battery, (FixSource)s.Source);

    public PositionFixSurrogate ConvertToSurrogate(in PositionFix v) => new()
    {
        DeviceId = v.DeviceId, Seq = v.Seq, Timestamp = v.Timestamp, Latitude = v.Latitude, Longitude = v.Longitude,
        AccuracyMeters = v.AccuracyMeters, Speed = v.SpeedMetersPerSecond, Heading = v.HeadingDegrees, Battery = v.BatteryPercent,
        Source = (byte)v.Source,
    };
}

[GenerateSerializer]
public struct FixEvidenceSurrogate
{
    [Id(0)] public string Role;
    [Id(1)] public string DeviceId;
    [Id(2)] public long Seq;
    [Id(3)] public DateTimeOffset Timestamp;
    [Id(4)] public double Latitude;
    [Id(5)] public double Longitude;
    [Id(6)] public double AccuracyMeters;
    [Id(7)] public double AgeSeconds;
    [Id(8)] public double UncertaintyMeters;
    [Id(9)] public bool Suspect;
}

[RegisterConverter]
public sealed class FixEvidenceConverter : IConverter<FixEvidence, FixEvidenceSurrogate>
{
    public FixEvidence ConvertFromSurrogate(in FixEvidenceSurrogate s) =>
        new(s.Role, s.DeviceId, s.Seq, s.Timestamp, s.Latitude, s.Longitude, s.AccuracyMeters, s.AgeSeconds, s.UncertaintyMeters, s.Suspect);

    public FixEvidenceSurrogate ConvertToSurrogate(in FixEvidence v) => new()
    {
        Role = v.Role, DeviceId = v.DeviceId, Seq = v.Seq, Timestamp = v.Timestamp, Latitude = v.Latitude, Longitude = v.Longitude,
        AccuracyMeters = v.AccuracyMeters, AgeSeconds = v.AgeSeconds, UncertaintyMeters = v.UncertaintyMeters, Suspect = v.Suspect,
    };
}

[GenerateSerializer]
public struct AlertEvidenceSurrogate
{
    [Id(0)] public string Rule;
    [Id(1)] public string Summary;
    [Id(2)] public FixEvidence[] Fixes;
    [Id(3)] public string? Certainty;
    [Id(4)] public double? DistanceMeters;
    [Id(5)] public double? LimitMeters;
    [Id(6)] public double? BoundaryDistanceMeters;
    [Id(7)] public bool? InsideZone;
    [Id(8)] public double DepthMeters;
    [Id(9)] public double UncertaintyMeters;
    [Id(10)] public int RunFixes;
    [Id(11)] public double? RunMeanDepthMeters;
    [Id(12)] public double? RunStandardErrorMeters;
    [Id(13)] public DateTimeOffset? RunStartedAt;
    [Id(14)] public double? ClosingSpeedMetersPerSecond;
    [Id(15)] public int? BanVersion;
}

[RegisterConverter]
public sealed class AlertEvidenceConverter : IConverter<AlertEvidence, AlertEvidenceSurrogate>
{
    public AlertEvidence ConvertFromSurrogate(in AlertEvidenceSurrogate s) => new()
    {
        Rule = s.Rule, Summary = s.Summary, Fixes = s.Fixes, Certainty = s.Certainty, DistanceMeters = s.DistanceMeters,
        LimitMeters = s.LimitMeters, BoundaryDistanceMeters = s.BoundaryDistanceMeters, InsideZone = s.InsideZone,
        DepthMeters = s.DepthMeters, UncertaintyMeters = s.UncertaintyMeters, RunFixes = s.RunFixes,
        RunMeanDepthMeters = s.RunMeanDepthMeters, RunStandardErrorMeters = s.RunStandardErrorMeters, RunStartedAt = s.RunStartedAt,
        ClosingSpeedMetersPerSecond = s.ClosingSpeedMetersPerSecond, BanVersion = s.BanVersion,
    };

    public AlertEvidenceSurrogate ConvertToSurrogate(in AlertEvidence v) => new()
    {
        Rule = v.Rule, Summary = v.Summary, Fixes = [.. v.Fixes], Certainty = v.Certainty, DistanceMeters = v.DistanceMeters,
        LimitMeters = v.LimitMeters, BoundaryDistanceMeters = v.BoundaryDistanceMeters, InsideZone = v.InsideZone,
        DepthMeters = v.DepthMeters, UncertaintyMeters = v.UncertaintyMeters, RunFixes = v.RunFixes,
        RunMeanDepthMeters = v.RunMeanDepthMeters, RunStandardErrorMeters = v.RunStandardErrorMeters, RunStartedAt = v.RunStartedAt,
        ClosingSpeedMetersPerSecond = v.ClosingSpeedMetersPerSecond, BanVersion = v.BanVersion,
    };
}

[GenerateSerializer]
public struct AlertSurrogate
{
    [Id(0)] public string Id;
    [Id(1)] public int Type;
    [Id(2)] public int Severity;
    [Id(3)] public string OffenderId;
    [Id(4)] public string? VictimId;
    [Id(5)] public string? BanId;
    [Id(6)] public int? BanVersion;
    [Id(7)] public string? DeviceId;
    [Id(8)] public DateTimeOffset RaisedAt;
    [Id(9)] public DateTimeOffset DecidedAt;
    [Id(10)] public bool Late;
    [Id(11)] public int Recipients;
    [Id(12)] public AlertEvidence Evidence;
    [Id(13)] public DateTimeOffset? ClearedAt;
    [Id(14)] public string? ClearReason;
}

[RegisterConverter]
public sealed class AlertConverter : IConverter<Alert, AlertSurrogate>
{
    public Alert ConvertFromSurrogate(in AlertSurrogate s) => new()
    {
        Id = s.Id, Type = (AlertType)s.Type, Severity = (AlertSeverity)s.Severity, OffenderId = s.OffenderId, VictimId = s.VictimId,
        BanId = s.BanId, BanVersion = s.BanVersion, DeviceId = s.DeviceId, RaisedAt = s.RaisedAt, DecidedAt = s.DecidedAt,
        Late = s.Late, Recipients = (AlertRecipients)s.Recipients, Evidence = s.Evidence, ClearedAt = s.ClearedAt, ClearReason = s.ClearReason,
    };

    public AlertSurrogate ConvertToSurrogate(in Alert v) => new()
    {
        Id = v.Id, Type = (int)v.Type, Severity = (int)v.Severity, OffenderId = v.OffenderId, VictimId = v.VictimId,
        BanId = v.BanId, BanVersion = v.BanVersion, DeviceId = v.DeviceId, RaisedAt = v.RaisedAt, DecidedAt = v.DecidedAt,
        Late = v.Late, Recipients = (int)v.Recipients, Evidence = v.Evidence, ClearedAt = v.ClearedAt, ClearReason = v.ClearReason,
    };
}
