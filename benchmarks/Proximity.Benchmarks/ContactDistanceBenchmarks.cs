using BenchmarkDotNet.Attributes;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Tests.Geodesy;

namespace Proximity.Benchmarks;

/// <summary>
/// The contact distance decision alone: offender–victim distance and its classification. The monitor
/// projects each fix once when it arrives, so the decision works on plane points; the naive rows compute a
/// geodesic from WGS84 on every call.
/// </summary>
[MemoryDiagnoser]
public class ContactDistanceBenchmarks
{
    private const int Pairs = 64;
    private const double MinDistance = 200, Radius = 18;
    private readonly GeoPoint[] _offender = new GeoPoint[Pairs], _victim = new GeoPoint[Pairs];
    private readonly PlanePoint[] _offenderPlane = new PlanePoint[Pairs], _victimPlane = new PlanePoint[Pairs];
    private PlaneProjection _plane = null!;
    private int _i;

    [GlobalSetup]
    public void Setup()
    {
        var rnd = new Random(7);
        _plane = PlaneProjection.For(Scenario.Centre1000);
        for (int i = 0; i < Pairs; i++)
        {
            _offender[i] = Scenario.Offset(Scenario.Centre1000, rnd.NextDouble() * 5000, rnd.NextDouble() * 6.28);
            _victim[i] = Scenario.Offset(_offender[i], rnd.NextDouble() * 600, rnd.NextDouble() * 6.28);
            _offenderPlane[i] = _plane.Project(_offender[i]);
            _victimPlane[i] = _plane.Project(_victim[i]);
        }
    }

    [Benchmark(Baseline = true, Description = "Naive: Vincenty per call")]
    public Certainty Vincenty()
    {
        int i = _i++ & (Pairs - 1);
        double d = Proximity.Spatial.Tests.Geodesy.Vincenty.Distance(_offender[i].Latitude, _offender[i].Longitude, _victim[i].Latitude, _victim[i].Longitude);
        return Observation.Classify(MinDistance - d, Radius);
    }

    [Benchmark(Description = "Naive: haversine per call")]
    public Certainty Haversine()
    {
        int i = _i++ & (Pairs - 1);
        double d = Naive.Haversine(_offender[i].Latitude, _offender[i].Longitude, _victim[i].Latitude, _victim[i].Longitude);
        return Observation.Classify(MinDistance - d, Radius);
    }

    [Benchmark(Description = "PlaneProjection, both points projected per call")]
    public Certainty PlaneProjectingBoth()
    {
        int i = _i++ & (Pairs - 1);
        double d = _plane.DistanceMeters(_plane.Project(_offender[i]), _plane.Project(_victim[i]));
        return Observation.Classify(MinDistance - d, Radius);
    }

    [Benchmark(Description = "PlaneProjection.DistanceMeters + Classify (as the monitor)")]
    public Certainty Plane()
    {
        int i = _i++ & (Pairs - 1);
        double d = _plane.DistanceMeters(_offenderPlane[i], _victimPlane[i]);
        return Observation.Classify(MinDistance - d, Radius);
    }
}
