using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Zones;

namespace Proximity.Benchmarks;

/// <summary>Deterministic synthetic bans and positions around Utrecht and across the Netherlands.</summary>
internal static class Scenario
{
    public const string OffenderId = "off-1";
    public const string VictimId = "vic-1";
    public static readonly DateTimeOffset Start = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    public static readonly GeoPoint Centre64 = new(52.1050, 5.0900);
    public static readonly GeoPoint Centre1000 = new(52.0750, 5.1400);
    public static readonly GeoPoint Centre10000 = new(52.0950, 5.1800);
    public const double Radius64 = 400, Radius1000 = 800, Radius10000 = 1500;

    /// <summary>A blob: a star-shaped (hence simple) polygon whose radius wobbles at several frequencies.</summary>
    public static GeoPoint[] Blob(GeoPoint centre, double radiusMeters, int vertices, int seed)
    {
        var rnd = new Random(seed);
        double p1 = rnd.NextDouble() * 6.28, p2 = rnd.NextDouble() * 6.28;
        var ring = new GeoPoint[vertices + 1];
        for (int i = 0; i < vertices; i++)
        {
            double a = 2 * Math.PI * i / vertices;
            ring[i] = Offset(centre, BlobRadius(radiusMeters, a, p1, p2) * (1 + 0.01 * (rnd.NextDouble() - 0.5)), a);
        }
        ring[^1] = ring[0];
        return ring;
    }

    private static double BlobRadius(double r, double a, double p1, double p2) =>
        r * (1 + 0.2 * Math.Sin(5 * a + p1) + 0.06 * Math.Sin(23 * a + p2));

    /// <summary>The point at a distance and bearing (radians from east, counter-clockwise) from a centre.</summary>
    public static GeoPoint Offset(GeoPoint centre, double meters, double angle) =>
        new(centre.Latitude + meters * Math.Sin(angle) / 111_250,
            centre.Longitude + meters * Math.Cos(angle) / (111_250 * Math.Cos(centre.Latitude * Math.PI / 180)));

    public static ZoneBan Zone(string id, GeoPoint[] ring, double bufferMeters) => new()
    {
        Id = id,
        OffenderId = OffenderId,
        Kind = ZoneKind.Exclusion,
        Area = ZoneArea.FromPolygons([[ring]]),
        WarningBufferMeters = bufferMeters,
    };

    /// <summary>One contact ban and three exclusion zones of 64, 1 000 and 10 000 vertices.</summary>
    public static Ban[] OffenderBans(out ZoneBan[] zones)
    {
        zones =
        [
            Zone("zone-64", Blob(Centre64, Radius64, 64, 1), 50),
            Zone("zone-1000", Blob(Centre1000, Radius1000, 1000, 2), 50),
            Zone("zone-10000", Blob(Centre10000, Radius10000, 10_000, 3), 50),
        ];
        var contact = new ContactBan
        {
            Id = "contact-1",
            OffenderId = OffenderId,
            VictimId = VictimId,
            MinDistanceMeters = 200,
            WarningDistanceMeters = 500,
        };
        return [contact, .. zones];
    }

    /// <summary>A point 80 m west of a zone's boundary: its boundary distance must really be computed.</summary>
    public static GeoPoint NearEdge(ZoneBan zone)
    {
        var plane = zone.Area.HomePlane;
        var prepared = zone.Area.PreparedIn(plane);
        var centre = zone.Area.Centroid;
        for (double d = 10; d < 50_000; d += 1)
        {
            var p = Offset(centre, d, Math.PI);
            var location = prepared.Locate(plane.Project(p), 200);
            if (!location.Inside && location.BoundaryDistanceMeters >= 80) return p;
        }
        throw new InvalidOperationException("no point near the edge");
    }

    public static readonly GeoPoint FarFromZones = new(52.0400, 5.0300);

    public static PositionFix Fix(string device, long seq, DateTimeOffset at, GeoPoint p, double accuracy) =>
        new(device, seq, at, p.Latitude, p.Longitude, accuracy);

    /// <summary>
    /// Street-lookup zones spread over the Netherlands: 70 % circles of 30–300 m, 30 % small polygons of
    /// 6–16 vertices and 50–400 m, some with a warning buffer, a night schedule or a validity window.
    /// </summary>
    public static ZoneBan[] NationalZones(int count, int seed = 42)
    {
        var rnd = new Random(seed);
        var night = new Proximity.Spatial.Schedules.WeeklySchedule(
            [Proximity.Spatial.Schedules.ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), TimeSpan.FromHours(22), TimeSpan.FromHours(6))]);
        var zones = new ZoneBan[count];
        for (int i = 0; i < count; i++)
        {
            var centre = RandomPointInNetherlands(rnd);
            ZoneArea area;
            if (rnd.NextDouble() < 0.7)
            {
                area = ZoneArea.Circle(centre, 30 + rnd.NextDouble() * 270);
            }
            else
            {
                int n = rnd.Next(6, 17);
                double r = 50 + rnd.NextDouble() * 350;
                var ring = new GeoPoint[n + 1];
                for (int k = 0; k < n; k++)
                    ring[k] = Offset(centre, r * (0.5 + 0.5 * rnd.NextDouble()), 2 * Math.PI * k / n);
                ring[^1] = ring[0];
                area = ZoneArea.FromPolygons([[ring]]);
            }
            double kind = rnd.NextDouble();
            zones[i] = new ZoneBan
            {
                Id = $"z{i}",
                OffenderId = $"off-{i}",
                Kind = kind < 0.85 ? ZoneKind.Exclusion : ZoneKind.Inclusion,
                Area = area,
                WarningBufferMeters = rnd.NextDouble() < 0.5 ? 50 : 0,
                Schedule = rnd.NextDouble() < 0.2 ? night : null,
                ValidFrom = Start.AddDays(-rnd.Next(0, 400)),
                ValidUntil = rnd.NextDouble() < 0.3 ? Start.AddDays(rnd.Next(-30, 300)) : null,
            };
        }
        return zones;
    }

    public static GeoPoint RandomPointInNetherlands(Random rnd) =>
        new(50.75 + rnd.NextDouble() * 2.75, 3.4 + rnd.NextDouble() * 3.8);
}
