using System.Text.Json;
using CsCheck;
using NetTopologySuite.Geometries;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Registry;
using Proximity.Spatial.Schedules;
using Proximity.Spatial.Tests.Geodesy;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests.Registry;

public class BanZoneIndexTests
{
    private static readonly DateTimeOffset Base = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly GeometryFactory Factory = new();

    /// <summary>Points closer than this to a boundary or buffer edge are not compared (plane vs geodesic rounding).</summary>
    private const double Tolerance = 0.5;

    [Fact]
    public void Hilbert_curve_visits_every_cell_of_a_sub_square_once_in_neighbouring_steps()
    {
        // The first 4^8 steps of the order-16 curve fill the 256 x 256 square at the origin.
        var cellAt = new (int X, int Y)[256 * 256];
        var seen = new bool[cellAt.Length];
        for (int x = 0; x < 256; x++)
            for (int y = 0; y < 256; y++)
            {
                uint d = PackedHilbertRTree.Hilbert((uint)x, (uint)y);
                Assert.True(d < cellAt.Length, $"({x},{y}) -> {d}");
                Assert.False(seen[d]);
                seen[d] = true;
                cellAt[d] = (x, y);
            }
        for (int d = 1; d < cellAt.Length; d++)
            Assert.Equal(1, Math.Abs(cellAt[d].X - cellAt[d - 1].X) + Math.Abs(cellAt[d].Y - cellAt[d - 1].Y));
    }

    [Fact]
    public void Tree_finds_exactly_the_boxes_holding_a_point()
    {
        Gen.Select(Gen.Int[0, 3000], Gen.Int[0, 1000]).Sample((n, seed) =>
        {
            var rnd = new Random(seed);
            var minX = new double[n]; var minY = new double[n]; var maxX = new double[n]; var maxY = new double[n];
            for (int i = 0; i < n; i++)
            {
                minX[i] = rnd.NextDouble() * 100; minY[i] = rnd.NextDouble() * 100;
                maxX[i] = minX[i] + rnd.NextDouble() * (rnd.Next(10) == 0 ? 60 : 3);
                maxY[i] = minY[i] + rnd.NextDouble() * 3;
            }
            var tree = new PackedHilbertRTree(minX, minY, maxX, maxY);
            for (int q = 0; q < 50; q++)
            {
                double x = rnd.NextDouble() * 110 - 5, y = rnd.NextDouble() * 110 - 5;
                var visitor = new Recorder([]);
                tree.Query(x, y, ref visitor);
                var expected = Enumerable.Range(0, n).Where(i => x >= minX[i] && x <= maxX[i] && y >= minY[i] && y <= maxY[i]);
                Assert.Equal(expected.Order(), visitor.Items.Order());
            }
        }, iter: 40);
    }

    [Fact]
    public void Grid_finds_exactly_the_boxes_holding_a_point_large_ones_included()
    {
        Gen.Select(Gen.Int[0, 3000], Gen.Int[0, 1000]).Sample((n, seed) =>
        {
            var rnd = new Random(seed);
            var minX = new double[n]; var minY = new double[n]; var maxX = new double[n]; var maxY = new double[n];
            for (int i = 0; i < n; i++)
            {
                minX[i] = 4 + rnd.NextDouble() * 3; minY[i] = 51 + rnd.NextDouble() * 2;
                double size = rnd.Next(20) == 0 ? rnd.NextDouble() * 2 : rnd.NextDouble() * 0.01;
                maxX[i] = minX[i] + size;
                maxY[i] = minY[i] + size * rnd.NextDouble();
            }
            var grid = new BoxGrid(minX, minY, maxX, maxY);
            Assert.True(n < 100 || grid.LargeCount > 0);
            for (int q = 0; q < 200; q++)
            {
                // Half the queries on box corners, where float rounding would bite.
                int k = n > 0 ? rnd.Next(n) : 0;
                (double x, double y) = q % 2 == 0 || n == 0
                    ? (3.9 + rnd.NextDouble() * 5.2, 50.9 + rnd.NextDouble() * 4.2)
                    : (rnd.Next(2) == 0 ? minX[k] : maxX[k], rnd.Next(2) == 0 ? minY[k] : maxY[k]);
                var visitor = new Recorder([]);
                grid.Query(x, y, ref visitor);
                var expected = Enumerable.Range(0, n).Where(i => x >= minX[i] && x <= maxX[i] && y >= minY[i] && y <= maxY[i]).ToArray();
                Assert.Equal(visitor.Items.Count, visitor.Items.Distinct().Count());
                Assert.Empty(expected.Except(visitor.Items));
                // Boxes are kept as floats rounded outward: an extra item may only miss the point by that rounding.
                foreach (int extra in visitor.Items.Except(expected))
                    Assert.True(x >= minX[extra] - 1e-5 && x <= maxX[extra] + 1e-5 && y >= minY[extra] - 1e-5 && y <= maxY[extra] + 1e-5);
            }
        }, iter: 40);
    }

    [Fact]
    public void Random_bans_agree_with_a_brute_force_NTS_answer()
    {
        var gen = Gen.Select(GenBan.Array[1, 250], GenQuery.Array[20, 60]);
        gen.Sample((bans, queries) =>
        {
            var index = new BanZoneIndex(bans);
            var oracle = new BruteForce(bans);
            Span<BanHit> buffer = stackalloc BanHit[256];
            foreach (var (anchor, dx, dy, days) in queries)
            {
                // Aim near a zone so that queries land inside, on edges and in buffers, not only in empty land.
                var centre = bans[(int)(anchor * bans.Length) % bans.Length].Area.Centroid;
                var point = new GeoPoint(centre.Latitude + dy, centre.Longitude + dx);
                var now = Base.AddDays(days);
                int found = index.Query(point, now, buffer);
                var got = buffer[..found].ToArray().Select(h => (h.Index, h.Inside)).ToHashSet();
                var (expected, ambiguous) = oracle.Query(point, now);
                got.ExceptWith(ambiguous);
                expected.ExceptWith(ambiguous);
                Assert.True(expected.SetEquals(got),
                    $"at {point} {now:O}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", got)}]");
                foreach (var hit in buffer[..found]) Assert.Equal(bans[hit.Index].Kind, hit.Kind);
            }
        }, iter: 60);
    }

    [Fact]
    public void Real_CBS_neighbourhoods_agree_with_a_brute_force_NTS_answer()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "data", "nl_buurten_2025_subset.geojson");
        Assert.SkipUnless(File.Exists(path), $"{path} is not present");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var bans = doc.RootElement.GetProperty("features").EnumerateArray().Select((f, i) => new ZoneBan
        {
            Id = f.GetProperty("properties").GetProperty("statcode").GetString()!,
            OffenderId = $"off-{i}",
            Kind = i % 3 == 2 ? ZoneKind.Inclusion : ZoneKind.Exclusion,
            Area = GeoJsonZone.Parse(f),
            WarningBufferMeters = i % 2 == 0 ? 100 : 0,
        }).ToArray();
        Assert.Equal(15, bans.Length);
        Assert.Contains(bans, b => b.Area.Polygons.Any(p => p.Length > 1)); // Buitengebied Cothen has a hole

        var index = new BanZoneIndex(bans);
        var oracle = new BruteForce(bans);
        var hits = new List<BanHit>();
        int inside = 0, inBuffer = 0, compared = 0;
        foreach (var ban in bans)
        {
            var (south, west, north, east) = ban.Area.Bounds;
            for (int gy = -5; gy <= 45; gy++)
                for (int gx = -5; gx <= 45; gx++)
                {
                    var point = new GeoPoint(south + (north - south) * gy / 40.0, west + (east - west) * gx / 40.0);
                    index.Query(point, Base, hits);
                    var got = hits.Select(h => (h.Index, h.Inside)).ToHashSet();
                    var (expected, ambiguous) = oracle.Query(point, Base);
                    got.ExceptWith(ambiguous);
                    expected.ExceptWith(ambiguous);
                    Assert.True(expected.SetEquals(got), $"at {point}: expected [{string.Join(", ", expected)}] got [{string.Join(", ", got)}]");
                    inside += got.Count(h => h.Inside);
                    inBuffer += got.Count(h => !h.Inside);
                    compared++;
                }
        }
        // The grid must really exercise both answers, not only empty land.
        Assert.True(inside > 1000 && inBuffer > 100, $"inside {inside}, in buffer {inBuffer} of {compared} points");
    }

    [Fact]
    public void Validity_and_schedule_decide_whether_a_ban_is_in_force()
    {
        var area = ZoneArea.Circle(new GeoPoint(52.09, 5.12), 300);
        var night = new WeeklySchedule([ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), TimeSpan.FromHours(22), TimeSpan.FromHours(6))]);
        var from = new DateTimeOffset(2026, 7, 1, 0, 0, 0, TimeSpan.FromHours(2));
        var until = new DateTimeOffset(2026, 8, 1, 12, 0, 0, TimeSpan.FromHours(2));
        var bans = new[]
        {
            new ZoneBan { Id = "always", OffenderId = "off-1", Kind = ZoneKind.Exclusion, Area = area },
            new ZoneBan { Id = "july", OffenderId = "off-2", Kind = ZoneKind.Exclusion, Area = area, ValidFrom = from, ValidUntil = until },
            new ZoneBan { Id = "nights", OffenderId = "off-3", Kind = ZoneKind.Inclusion, Area = area, Schedule = night },
        };
        var index = new BanZoneIndex(bans);
        var here = new GeoPoint(52.09, 5.12);
        string[] At(DateTimeOffset now)
        {
            var hits = new List<BanHit>();
            index.Query(here, now, hits);
            return hits.Select(h => index.Bans[h.Index].Id).Order().ToArray();
        }
        var amsterdamSummer = TimeSpan.FromHours(2);
        Assert.Equal(["always"], At(new DateTimeOffset(2026, 6, 30, 12, 0, 0, amsterdamSummer)));
        Assert.Equal(["always", "nights"], At(new DateTimeOffset(2026, 6, 30, 23, 0, 0, amsterdamSummer)));
        Assert.Equal(["always", "july"], At(new DateTimeOffset(2026, 7, 15, 12, 0, 0, amsterdamSummer)));
        Assert.Equal(["always", "july", "nights"], At(new DateTimeOffset(2026, 7, 16, 5, 59, 0, amsterdamSummer)));
        Assert.Equal(["always"], At(until)); // validUntil is exclusive
        Assert.Equal(0, index.Query(new GeoPoint(52.10, 5.12), Base, stackalloc BanHit[4])); // 1.1 km away
    }

    [Fact]
    public void Warning_buffer_hits_are_reported_outside_exclusion_zones_only()
    {
        var centre = new GeoPoint(52.09, 5.12);
        var area = ZoneArea.Circle(centre, 200);
        var index = new BanZoneIndex(
        [
            new ZoneBan { Id = "excl", OffenderId = "o", Kind = ZoneKind.Exclusion, Area = area, WarningBufferMeters = 100 },
            new ZoneBan { Id = "incl", OffenderId = "o", Kind = ZoneKind.Inclusion, Area = area, WarningBufferMeters = 100 },
        ]);
        Span<BanHit> hits = stackalloc BanHit[4];
        // 250 m north: outside the 200 m circle, inside the exclusion zone's 100 m buffer.
        var near = new GeoPoint(centre.Latitude + 250 / 111_250.0, centre.Longitude);
        Assert.Equal(1, index.Query(near, Base, hits));
        Assert.Equal(new BanHit(0, ZoneKind.Exclusion, Inside: false), hits[0]);
        Assert.True(hits[0].InWarningBuffer);
        var far = new GeoPoint(centre.Latitude + 320 / 111_250.0, centre.Longitude);
        Assert.Equal(0, index.Query(far, Base, hits));
        Assert.Equal(2, index.Query(centre, Base, hits));
    }

    [Fact]
    public void A_full_buffer_reports_the_total_and_the_list_overload_grows()
    {
        var centre = new GeoPoint(52.09, 5.12);
        var bans = Enumerable.Range(0, 40).Select(i => new ZoneBan
        {
            Id = $"b{i}", OffenderId = "o", Kind = ZoneKind.Exclusion, Area = ZoneArea.Circle(centre, 100 + i),
        }).ToArray();
        var index = new BanZoneIndex(bans);
        Span<BanHit> small = stackalloc BanHit[5];
        Assert.Equal(40, index.Query(centre, Base, small));
        var list = new List<BanHit>();
        index.Query(centre, Base, list);
        Assert.Equal(Enumerable.Range(0, 40), list.Select(h => h.Index).Order());
        index.Query(new GeoPoint(52.2, 5.12), Base, list);
        Assert.Empty(list);
    }

    [Fact]
    public void Empty_index_and_bad_points()
    {
        var empty = new BanZoneIndex([]);
        Assert.Equal(0, empty.Query(new GeoPoint(52, 5), Base, stackalloc BanHit[1]));
        var e = Assert.Throws<ArgumentException>(() => empty.Query(new GeoPoint(91, 5), Base, new BanHit[1]));
        Assert.Contains("latitude", e.Message);
    }

    private struct Recorder(List<int> items) : IItemVisitor
    {
        public List<int> Items { get; } = items;
        public readonly void Visit(int item) => Items.Add(item);
    }

    private static readonly Gen<WeeklySchedule?> GenSchedule = Gen.Frequency(
        (3, Gen.Const((WeeklySchedule?)null)),
        (1, Gen.Select(Gen.Int[0, 6], Gen.Int[0, 23], Gen.Int[0, 23]).Select(t => (WeeklySchedule?)new WeeklySchedule(
            [ScheduleWindow.Create([(DayOfWeek)t.Item1, (DayOfWeek)((t.Item1 + 3) % 7)], TimeSpan.FromHours(t.Item2), TimeSpan.FromHours(t.Item3))]))));

    private static readonly Gen<ZoneArea> GenCircle =
        Gen.Select(Gen.Double[52.0, 52.2], Gen.Double[5.0, 5.3], Gen.Double[20, 2000])
            .Select(t => ZoneArea.Circle(new GeoPoint(t.Item1, t.Item2), t.Item3));

    /// <summary>Star-shaped polygons (always simple), with a hexagonal hole now and then.</summary>
    private static readonly Gen<ZoneArea> GenPolygon =
        Gen.Select(Gen.Double[52.0, 52.2], Gen.Double[5.0, 5.3], Gen.Double[50, 2000], Gen.Double[0.3, 1].Array[3, 60], Gen.Bool)
            .Select(t =>
            {
                var (lat, lon, radius, radii, hole) = t;
                var rings = new List<GeoPoint[]> { Ring(lat, lon, radius, radii) };
                if (hole) rings.Add(Ring(lat, lon, radius * 0.1, [1, 1, 1, 1, 1, 1]));
                return ZoneArea.FromPolygons([rings.ToArray()]);
            });

    private static readonly Gen<ZoneBan> GenBan =
        Gen.Select(Gen.Frequency((1, GenCircle), (1, GenPolygon)), Gen.Bool, Gen.Frequency((1, Gen.Const(0.0)), (1, Gen.Double[5, 300])),
                Gen.Double[-10, 10], Gen.Frequency((1, Gen.Const((double?)null)), (1, Gen.Double[1, 20].Select(d => (double?)d))), GenSchedule)
            .Select(t => new ZoneBan
            {
                Id = Guid.NewGuid().ToString(),
                OffenderId = "off-x",
                Area = t.Item1,
                Kind = t.Item2 ? ZoneKind.Exclusion : ZoneKind.Inclusion,
                WarningBufferMeters = t.Item3,
                ValidFrom = Base.AddDays(t.Item4),
                ValidUntil = t.Item5 is { } days ? Base.AddDays(t.Item4 + days) : null,
                Schedule = t.Item6,
            });

    private static readonly Gen<(double Anchor, double Dx, double Dy, double Days)> GenQuery =
        Gen.Select(Gen.Double[0, 1], Gen.Double[-0.03, 0.03], Gen.Double[-0.02, 0.02], Gen.Double[-5, 15]);

    private static GeoPoint[] Ring(double lat, double lon, double radius, double[] radii)
    {
        var ring = new GeoPoint[radii.Length + 1];
        for (int i = 0; i < radii.Length; i++)
        {
            double angle = 2 * Math.PI * i / radii.Length;
            double r = radius * radii[i];
            ring[i] = new GeoPoint(lat + r * Math.Sin(angle) / 111_250, lon + r * Math.Cos(angle) / (111_250 * Math.Cos(lat * Math.PI / 180)));
        }
        ring[^1] = ring[0];
        return ring;
    }

    /// <summary>
    /// The answer computed the slow, obvious way: every ban, NTS point-in-polygon and distance on the
    /// unprepared polygon, geodesic (Vincenty) distance for circles. Hits within <see cref="Tolerance"/> of a
    /// boundary or buffer edge are returned as ambiguous.
    /// </summary>
    private sealed class BruteForce(IReadOnlyList<ZoneBan> bans)
    {
        private readonly Geometry?[] _geometries = bans.Select(b => b.Area.IsCircle ? null : b.Area.ToPlaneGeometry(b.Area.HomePlane, Factory)).ToArray();

        public (HashSet<(int, bool)> Hits, HashSet<(int, bool)> Ambiguous) Query(GeoPoint p, DateTimeOffset now)
        {
            var hits = new HashSet<(int, bool)>();
            var ambiguous = new HashSet<(int, bool)>();
            for (int i = 0; i < bans.Count; i++)
            {
                var ban = bans[i];
                bool inForce = now >= ban.ValidFrom && (ban.ValidUntil is null || now < ban.ValidUntil) &&
                               (ban.Schedule is null || ban.Schedule.IsActive(now));
                if (!inForce) continue;
                double buffer = ban.Kind == ZoneKind.Exclusion ? ban.WarningBufferMeters : 0;
                bool inside;
                double boundary;
                if (ban.Area.CircleCentre is { } c)
                {
                    double d = Vincenty.Distance(c.Latitude, c.Longitude, p.Latitude, p.Longitude);
                    inside = d < ban.Area.CircleRadiusMeters;
                    boundary = Math.Abs(d - ban.Area.CircleRadiusMeters);
                }
                else
                {
                    var q = ban.Area.HomePlane.Project(p);
                    var point = Factory.CreatePoint(new Coordinate(q.X, q.Y));
                    inside = _geometries[i]!.Contains(point);
                    boundary = _geometries[i]!.Boundary.Distance(point);
                }
                bool near = boundary < Tolerance || (buffer > 0 && !inside && Math.Abs(boundary - buffer) < Tolerance);
                if (near) { ambiguous.Add((i, true)); ambiguous.Add((i, false)); }
                if (inside) hits.Add((i, true));
                else if (buffer > 0 && boundary <= buffer) hits.Add((i, false));
            }
            return (hits, ambiguous);
        }
    }
}
