using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;
using Proximity.Storage.Positions;

namespace Proximity.Storage.Tests;

internal static class Samples
{
    public static readonly DateTimeOffset Day0 = new(2026, 3, 10, 0, 0, 0, TimeSpan.Zero);

    public static StoredFix Fix(string device, long seq, DateTimeOffset deviceTime, DateTimeOffset? receivedAt = null, string? person = "off-1") =>
        new(new PositionFix(device, seq, deviceTime, 52.37 + seq * 1e-5, 4.89 + seq * 1e-5, 8, 1.5, 90, 80, FixSource.Gps),
            receivedAt ?? deviceTime.AddSeconds(1), person);

    public static Alert Alert(string id, params StoredFix[] evidence) => new()
    {
        Id = id,
        Type = AlertType.ExclusionZoneBreach,
        Severity = AlertSeverity.Critical,
        OffenderId = "off-1",
        BanId = "ban-1",
        BanVersion = 1,
        DeviceId = evidence.FirstOrDefault().Fix.DeviceId,
        RaisedAt = evidence[0].Fix.Timestamp,
        DecidedAt = evidence[^1].Fix.Timestamp,
        Evidence = new AlertEvidence
        {
            Rule = "exclusion-zone",
            Summary = "inside the zone",
            Fixes = evidence.Select(f => new FixEvidence("offender", f.Fix.DeviceId, f.Fix.Seq, f.Fix.Timestamp,
                f.Fix.Latitude, f.Fix.Longitude, f.Fix.AccuracyMeters, 0, f.Fix.AccuracyMeters, false)).ToList(),
            InsideZone = true,
            DepthMeters = 40,
            UncertaintyMeters = 8,
        },
    };
}
