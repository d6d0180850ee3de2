using BenchmarkDotNet.Attributes;
using NetTopologySuite.Geometries;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Registry;

namespace Proximity.Benchmarks;

/// <summary>
/// "Which bans are in force here, now" over 10 000 and 1 000 000 zones spread over the Netherlands (circles
/// and small polygons), for random points: <see cref="BanZoneIndex"/> against a linear scan of unprepared
/// NTS geometries (Contains for polygons, IsWithinDistance for circles; each geometry already in its plane).
/// </summary>
[MemoryDiagnoser]
public class StreetLookupBenchmarks
{
    private const int Points = 1024;
    private readonly BanHit[] _hits = new BanHit[64];
    private readonly GeoPoint[] _points = new GeoPoint[Points];
    private ZoneBan[] _bans = [];
    private BanZoneIndex? _index;
    private Geometry[] _naive = [];
    private double[] _naiveRadius = [];
    private int _i;

    [Params(10_000, 1_000_000)]
    public int Zones { get; set; }

    [GlobalSetup(Target = nameof(Index))]
    public void SetupIndex()
    {
        MakeZones();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _index = new BanZoneIndex(_bans);
        Console.WriteLine($"// BanZoneIndex over {Zones} zones built in {clock.ElapsedMilliseconds} ms; managed heap {GC.GetTotalMemory(true) / 1_048_576} MB");
    }

    [GlobalSetup(Target = nameof(NaiveScan))]
    public void SetupNaive()
    {
        MakeZones();
        var factory = new GeometryFactory();
        _naive = new Geometry[_bans.Length];
        _naiveRadius = new double[_bans.Length];
        for (int i = 0; i < _bans.Length; i++)
        {
            var area = _bans[i].Area;
            if (area.CircleCentre is { } c)
            {
                var q = area.HomePlane.Project(c);
                _naive[i] = factory.CreatePoint(new Coordinate(q.X, q.Y));
                _naiveRadius[i] = area.CircleRadiusMeters * area.HomePlane.ScaleAt(q);
            }
            else _naive[i] = area.ToPlaneGeometry(area.HomePlane, factory);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _index = null;
        _naive = [];
        _bans = [];
        GC.Collect();
    }

    private void MakeZones()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        _bans = Scenario.NationalZones(Zones);
        Console.WriteLine($"// {Zones} zone bans made in {clock.ElapsedMilliseconds} ms");
        var rnd = new Random(11);
        for (int i = 0; i < Points; i++) _points[i] = Scenario.RandomPointInNetherlands(rnd);
    }

    [Benchmark(Description = "BanZoneIndex.Query")]
    public int Index() => _index!.Query(_points[_i++ & (Points - 1)], Scenario.Start, _hits);

    [Benchmark(Baseline = true, Description = "Naive: linear scan, unprepared NTS")]
    public int NaiveScan()
    {
        var p = _points[_i++ & (Points - 1)];
        var factory = _naive.Length > 0 ? _naive[0].Factory : new GeometryFactory();
        PlaneProjection? plane = null;
        Point? point = null;
        int found = 0;
        for (int i = 0; i < _bans.Length; i++)
        {
            var ban = _bans[i];
            var home = ban.Area.HomePlane;
            if (!ReferenceEquals(home, plane))
            {
                plane = home;
                var q = home.Project(p);
                point = factory.CreatePoint(new Coordinate(q.X, q.Y));
            }
            double buffer = ban.Kind == ZoneKind.Exclusion ? ban.WarningBufferMeters : 0;
            bool hit = _naiveRadius[i] > 0
                ? _naive[i].IsWithinDistance(point!, _naiveRadius[i] + buffer)
                : buffer > 0 ? _naive[i].IsWithinDistance(point!, buffer) : _naive[i].Contains(point!);
            if (hit && ban.IsInForce(Scenario.Start)) found++;
        }
        return found;
    }
}
