using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Zones;

namespace Proximity.Api.Registry;

/// <summary>A reason to look again at a drafted ban; never a refusal.</summary>
public sealed record FeasibilityWarning(string Code, string Message);

public sealed record FeasibilityResult(IReadOnlyList<FeasibilityWarning> Warnings);

/// <summary>
/// Checks a drafted ban against ordinary GPS error (10–50 m per fix, more in town) and against the people's
/// fixed places, so probation sees before it is in force that a ban will alert all day or cannot be kept.
/// </summary>
public static class Feasibility
{
    public const double HomesCloseMeters = 5_000;
    public const double GpsErrorMeters = 50;
    /// <summary>Two devices, each up to 50 m off: a contact distance under four times that flaps.</summary>
    public const double MinContactDistanceMeters = 4 * GpsErrorMeters;
    public const double MinWarningMarginMeters = 2 * GpsErrorMeters;
    public const double MinZoneWidthMeters = 4 * GpsErrorMeters;
    public const double LargeZoneSquareKm = 25;

    public static FeasibilityResult Check(BanRecord draft, Offender offender, Victim? victim, IEnumerable<BanRecord> otherBans)
    {
        var w = new List<FeasibilityWarning>();
        switch (draft.Core)
        {
            case ContactBan c:
                CheckContact(c, offender, victim, otherBans, w);
                break;
            case ZoneBan z:
                CheckZone(z, offender, w);
                break;
        }
        return new FeasibilityResult(w);
    }

    private static void CheckContact(ContactBan c, Offender offender, Victim? victim, IEnumerable<BanRecord> otherBans, List<FeasibilityWarning> w)
    {
        if (c.MinDistanceMeters < MinContactDistanceMeters)
            w.Add(new("DistanceBelowGpsError",
                $"The minimum distance of {c.MinDistanceMeters:F0} m is small against ordinary GPS error (10–50 m for each of the two devices): " +
                $"expect possible-breach alerts whenever the two are within about {c.MinDistanceMeters + 2 * GpsErrorMeters:F0} m. " +
                $"Consider at least {MinContactDistanceMeters:F0} m."));
        if (c.WarningDistanceMeters > 0 && c.WarningDistanceMeters - c.MinDistanceMeters < MinWarningMarginMeters)
            w.Add(new("WarningMarginSmall",
                $"The warning distance ({c.WarningDistanceMeters:F0} m) is only {c.WarningDistanceMeters - c.MinDistanceMeters:F0} m beyond the minimum distance: " +
                "GPS error alone covers that margin, so the warning gives no time to act."));
        if (victim is null) return;
        Near(offender.Home, victim.Home, "HomesClose", "the offender's home", "the victim's home", w);
        Near(offender.Work, victim.Home, "OffenderWorkNearVictimHome", "the offender's work", "the victim's home", w);
        Near(offender.Home, victim.Work, "OffenderHomeNearVictimWork", "the offender's home", "the victim's work", w);
        if (victim.Home is { } home)
        {
            var point = new GeoPoint(home.Latitude, home.Longitude);
            bool protectedHome = otherBans.Any(b => b.Status == BanStatus.Active && b.Core is ZoneBan { Kind: ZoneKind.Exclusion } z && Locate(z.Area, point).Inside);
            if (!protectedHome)
                w.Add(new("VictimHomeNotExcluded",
                    "No exclusion zone of this offender covers the victim's home; the victim's fixed places are usually also exclusion zones."));
        }
    }

    private static void CheckZone(ZoneBan z, Offender offender, List<FeasibilityWarning> w)
    {
        var plane = z.Area.HomePlane;
        var geometry = z.Area.ToPlaneGeometry(plane);
        double km2 = geometry.Area / 1e6;
        // For a long strip of width d: area ≈ d·L and perimeter ≈ 2L, so 2·area/perimeter ≈ d; for a circle it gives the radius.
        double width = z.Area.IsCircle ? 2 * z.Area.CircleRadiusMeters : 2 * geometry.Area / geometry.Length;
        if (width < MinZoneWidthMeters)
            w.Add(new("ZoneNarrow", z.Kind == ZoneKind.Inclusion
                ? $"The zone is only about {width:F0} m across: with ordinary GPS error (10–50 m, more indoors) fixes will often fall outside it while the offender is inside."
                : $"The zone is only about {width:F0} m across: with ordinary GPS error (10–50 m) passing nearby will often give possible breaches."));
        if (z.Kind == ZoneKind.Exclusion && km2 > LargeZoneSquareKm)
            w.Add(new("ZoneLarge",
                $"The zone covers {km2:F0} km²: its boundary is long, so ordinary GPS error near it (roads, stations the offender uses) will cause frequent possible breaches."));
        if (z.Kind == ZoneKind.Exclusion && z.WarningBufferMeters is > 0 and < GpsErrorMeters)
            w.Add(new("BufferBelowGpsError",
                $"The warning buffer of {z.WarningBufferMeters:F0} m is smaller than ordinary GPS error; it will rarely warn before a breach."));

        foreach (var (place, what) in new[] { (offender.Home, "home"), (offender.Work, "work") })
        {
            if (place is null) continue;
            var at = Locate(z.Area, new GeoPoint(place.Latitude, place.Longitude), z.WarningBufferMeters + GpsErrorMeters);
            if (z.Kind == ZoneKind.Exclusion && (at.Inside || at.BoundaryDistanceMeters <= z.WarningBufferMeters + GpsErrorMeters))
                w.Add(new(what == "home" ? "ZoneOverlapsOffenderHome" : "ZoneOverlapsOffenderWork", at.Inside
                    ? $"The offender's own {what} lies inside this exclusion zone: the ban cannot be kept as drafted."
                    : $"The offender's own {what} is {at.BoundaryDistanceMeters:F0} m from this exclusion zone: ordinary GPS error will give alerts there."));
            if (z.Kind == ZoneKind.Inclusion && what == "home" && !at.Inside)
                w.Add(new("InclusionExcludesHome", "The offender's home lies outside this inclusion zone; an inclusion zone is usually drawn around the home."));
        }
    }

    private static void Near(Place? a, Place? b, string code, string aName, string bName, List<FeasibilityWarning> w)
    {
        if (a is null || b is null) return;
        double d = Distance(new GeoPoint(a.Latitude, a.Longitude), new GeoPoint(b.Latitude, b.Longitude));
        if (d < HomesCloseMeters)
            w.Add(new(code, $"{char.ToUpperInvariant(aName[0])}{aName[1..]} is {d / 1000:F1} km from {bName} (under {HomesCloseMeters / 1000:F0} km): " +
                "ordinary movements in the neighbourhood will bring them close; expect warnings and check the distances."));
    }

    public static double Distance(GeoPoint a, GeoPoint b)
    {
        var plane = PlaneProjection.For(a);
        return plane.DistanceMeters(plane.Project(a), plane.Project(b));
    }

    public static ZoneLocation Locate(ZoneArea area, GeoPoint point, double searchMeters = 1_000)
    {
        var plane = PlaneProjection.For(point);
        return area.PreparedIn(plane).Locate(plane.Project(point), searchMeters);
    }
}
