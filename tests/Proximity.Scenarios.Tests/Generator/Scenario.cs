using System.Globalization;
using System.Text;
using Proximity.Spatial.Monitoring;

namespace Proximity.Scenarios.Generator;

/// <summary>A daily window in Europe/Amsterdam local time (all days; <c>To</c> before <c>From</c> runs past midnight).</summary>
public sealed record DailyWindow(TimeSpan From, TimeSpan To)
{
    public static TimeZoneInfo Amsterdam { get; } = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    public bool IsActive(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant, Amsterdam).TimeOfDay;
        return From < To ? local >= From && local < To : local >= From || local < To;
    }

    public string ToJson() => string.Create(CultureInfo.InvariantCulture,
        $"[{{\"days\":[\"Mon\",\"Tue\",\"Wed\",\"Thu\",\"Fri\",\"Sat\",\"Sun\"],\"from\":\"{From:hh\\:mm}\",\"to\":\"{To:hh\\:mm}\"}}]");
}

/// <summary>A ban as the ground truth sees it.</summary>
public sealed record TruthBan(string Id, string Type)
{
    public TruthZone? Zone { get; init; }
    public double MinDistance { get; init; }
    public double WarningDistance { get; init; }
    public double WarningBuffer { get; init; }
    public DailyWindow? Schedule { get; init; }

    public AlertType BreachType => Type switch
    {
        "exclusion" => AlertType.ExclusionZoneBreach,
        "inclusion" => AlertType.InclusionZoneBreach,
        _ => AlertType.ContactBanBreach,
    };

    /// <summary>How far the true situation lies on the violating side (negative: safe), or NaN when not in force.</summary>
    public double Depth(DateTimeOffset t, Vec offender, Vec victim)
    {
        if (Schedule is not null && !Schedule.IsActive(t)) return double.NaN;
        return Type switch
        {
            "exclusion" => Zone!.SignedDepth(offender),
            "inclusion" => -Zone!.SignedDepth(offender),
            _ => MinDistance - (offender - victim).Length,
        };
    }

    public string ToJson()
    {
        var ic = CultureInfo.InvariantCulture;
        var schedule = Schedule?.ToJson() ?? "null";
        return Type == "contact"
            ? string.Create(ic, $"{{\"id\":\"{Id}\",\"type\":\"contact\",\"offenderId\":\"o1\",\"victimId\":\"v1\",\"minDistanceMeters\":{MinDistance},\"warningDistanceMeters\":{WarningDistance},\"validFrom\":\"2020-01-01T00:00:00Z\",\"validUntil\":null}}")
            : string.Create(ic, $"{{\"id\":\"{Id}\",\"type\":\"{Type}\",\"offenderId\":\"o1\",\"area\":{Zone!.GeoJson},\"warningBufferMeters\":{WarningBuffer},\"schedule\":{schedule},\"validFrom\":\"2020-01-01T00:00:00Z\",\"validUntil\":null}}");
    }
}

/// <summary>A true episode of one ban, from the true positions.</summary>
public sealed record TrueEpisode(string BanId, AlertType Type, DateTimeOffset Start, DateTimeOffset End, double MaxDepth, int SeenFixes, bool MustDetect)
{
    public TimeSpan Duration => End - Start;
}

public enum ScenarioKind
{
    ExclusionVisit,
    ExclusionNearMiss,
    InclusionNight,
    InclusionStayHome,
    ContactMeet,
    ContactNearMiss,
    CornerCut,
    Multipath,
    StoreAndForward,
}

/// <summary>A generated case: bans, true tracks, fixes in arrival order, and the true episodes.</summary>
public sealed class Scenario
{
    public const string OffenderDevice = "dev-o1";
    public const string VictimDevice = "dev-v1";

    public required int Seed { get; init; }
    public required ScenarioKind Kind { get; init; }
    public required string Description { get; init; }
    public required LocalPlane Plane { get; init; }
    public required IReadOnlyList<TruthBan> Bans { get; init; }
    public required Trajectory Offender { get; init; }
    public required Trajectory Victim { get; init; }
    /// <summary>All fixes of both devices in arrival order.</summary>
    public required IReadOnlyList<SentFix> Fixes { get; init; }
    public required IReadOnlyList<TrueEpisode> Episodes { get; init; }

    /// <summary>The same scenario delivered differently (the truth does not change).</summary>
    public Scenario WithFixes(IReadOnlyList<SentFix> fixes) => new()
    {
        Seed = Seed, Kind = Kind, Description = Description, Plane = Plane, Bans = Bans,
        Offender = Offender, Victim = Victim, Fixes = fixes,
        Episodes = GroundTruth.Episodes(Bans, Offender, Victim, fixes),
    };

    public string CaseJson() =>
        $"{{\"offenders\":[{{\"id\":\"o1\",\"devices\":[\"{OffenderDevice}\"]}}],\"victims\":[{{\"id\":\"v1\",\"devices\":[\"{VictimDevice}\"]}}],\"bans\":[{string.Join(',', Bans.Select(b => b.ToJson()))}]}}";

    public string FixesNdjson()
    {
        var sb = new StringBuilder();
        foreach (var f in Fixes) sb.Append(f.ToJsonLine()).Append('\n');
        return sb.ToString();
    }

    /// <summary>Writes case.json, fixes.ndjson and truth.json for <c>proximity replay</c>.</summary>
    public void WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "case.json"), CaseJson());
        File.WriteAllText(Path.Combine(directory, "fixes.ndjson"), FixesNdjson());
        var ic = CultureInfo.InvariantCulture;
        var truth = string.Join(",\n", Episodes.Select(e => string.Create(ic,
            $"  {{\"banId\":\"{e.BanId}\",\"type\":\"{e.Type}\",\"start\":\"{e.Start.UtcDateTime:O}\",\"end\":\"{e.End.UtcDateTime:O}\",\"maxDepthMeters\":{e.MaxDepth:F1},\"seenFixes\":{e.SeenFixes},\"mustDetect\":{(e.MustDetect ? "true" : "false")}}}")));
        File.WriteAllLines(Path.Combine(directory, "fixes-truth.ndjson"), Fixes.Select(f =>
        {
            var (lat, lon) = Plane.ToGeo(f.True);
            return string.Create(ic,
                $"{{\"device\":\"{f.Device}\",\"seq\":{f.Seq},\"ts\":\"{f.Ts.UtcDateTime:O}\",\"arrival\":\"{f.Arrival.UtcDateTime:O}\",\"trueLat\":{lat:F7},\"trueLon\":{lon:F7},\"errorMeters\":{(f.Measured - f.True).Length:F1},\"acc\":{f.Acc},\"multipath\":{(f.Multipath ? "true" : "false")},\"buffered\":{(f.Buffered ? "true" : "false")},\"duplicate\":{(f.Duplicate ? "true" : "false")}}}");
        }));
        File.WriteAllText(Path.Combine(directory, "truth.json"),
            $"{{\"seed\":{Seed},\"kind\":\"{Kind}\",\"description\":\"{Description}\",\"episodes\":[\n{truth}\n]}}\n");
    }

    public override string ToString() => $"seed {Seed} {Kind}: {Description}";
}
