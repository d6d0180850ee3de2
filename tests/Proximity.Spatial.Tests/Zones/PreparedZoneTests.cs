using CsCheck;
using NetTopologySuite.Geometries;
using NetTopologySuite.Operation.Distance;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests.Zones;

public class PreparedZoneTests
{
    [Fact]
    public void All_fifteen_CBS_neighbourhoods_load_as_valid_zones()
    {
        Assert.Equal(15, TestData.Neighbourhoods.Count);
        Assert.All(TestData.Neighbourhoods.Values, z => Assert.False(z.Area.IsCircle));
    }

    [Fact]
    public void Inside_test_and_boundary_distance_agree_with_NetTopologySuite_on_real_neighbourhoods()
    {
        var factory = new GeometryFactory();
        foreach (var (name, (_, area)) in TestData.Neighbourhoods)
        {
            var plane = area.HomePlane;
            var zone = area.PreparedIn(plane);
            var geometry = area.ToPlaneGeometry(plane, factory);
            var boundary = geometry.Boundary;
            var env = geometry.EnvelopeInternal;
            Gen.Select(Gen.Double[env.MinX - 500, env.MaxX + 500], Gen.Double[env.MinY - 500, env.MaxY + 500], Gen.Double[1, 400])
                .Sample((x, y, search) =>
                {
                    var point = factory.CreatePoint(new Coordinate(x, y));
                    double expected = boundary.Distance(point) / plane.ScaleAt(new PlanePoint(x, y));
                    var location = zone.Locate(new PlanePoint(x, y), search);
                    if (expected < 1e-6) return true; // on the boundary: either answer is right
                    bool insideOk = location.Inside == geometry.Contains(point);
                    bool distanceOk = expected <= search * 0.999
                        ? Math.Abs(location.BoundaryDistanceMeters - expected) < 1e-3
                        : expected >= search * 1.001 ? double.IsPositiveInfinity(location.BoundaryDistanceMeters) : true;
                    return insideOk && distanceOk;
                }, iter: 400, threads: 1);
            _ = name;
        }
    }

    [Fact]
    public void A_point_in_the_hole_of_a_polygon_is_outside()
    {
        var rural = TestData.Neighbourhood("Buitengebied Cothen");
        var village = TestData.Neighbourhood("Cothen");
        var plane = rural.HomePlane;
        var villageCentre = plane.Project(village.Centroid);
        Assert.True(village.PreparedIn(plane).Locate(villageCentre, 10).Inside);
        Assert.False(rural.PreparedIn(plane).Locate(villageCentre, 10).Inside);
    }

    [Fact]
    public void Circle_distance_is_measured_on_the_ground()
    {
        var centre = new GeoPoint(52.09, 5.12);
        var circle = ZoneArea.Circle(centre, 300);
        var plane = circle.HomePlane;
        var zone = circle.PreparedIn(plane);
        var c = plane.Project(centre);
        var location = zone.Locate(new PlanePoint(c.X + 250, c.Y), 100);
        Assert.True(location.Inside);
        Assert.Equal(50, location.BoundaryDistanceMeters, 0.01);
        var outside = zone.Locate(new PlanePoint(c.X, c.Y - 450), 100);
        Assert.False(outside.Inside);
        Assert.True(double.IsPositiveInfinity(outside.BoundaryDistanceMeters));
        Assert.Equal(-150, zone.Locate(new PlanePoint(c.X, c.Y - 450), 1000).SignedDepth, 0.01);
    }

    [Fact]
    public void A_zone_is_prepared_once_per_plane_and_shared()
    {
        var area = TestData.Neighbourhood("Rivierenwijk");
        Assert.Same(area.PreparedIn(area.HomePlane), area.PreparedIn(area.HomePlane));
    }
}
