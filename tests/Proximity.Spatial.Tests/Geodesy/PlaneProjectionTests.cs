using CsCheck;
using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Tests.Geodesy;

public class PlaneProjectionTests
{
    [Fact]
    public void Vincenty_reference_matches_published_geodesic()
    {
        // Geoscience Australia's worked example (Vincenty): Flinders Peak to Buninyong = 54 972.271 m.
        double d = Vincenty.Distance(-(37 + 57 / 60.0 + 3.72030 / 3600), 144 + 25 / 60.0 + 29.52440 / 3600,
            -(37 + 39 / 60.0 + 10.15610 / 3600), 143 + 55 / 60.0 + 35.38390 / 3600);
        Assert.Equal(54_972.271, d, 0.01);
        Assert.Equal(110_574.4, Vincenty.Distance(0, 10, 1, 10), 0.1);
    }

    [Theory]
    [InlineData(52.0907, 5.1214, 52.3676, 4.9041)]   // Utrecht – Amsterdam (~34 km)
    [InlineData(52.0, 4.5, 52.9, 5.4)]               // ~110 km diagonal
    [InlineData(51.45, 3.6, 51.45, 5.0)]             // ~97 km east-west in Zeeland
    [InlineData(40.4168, -3.7038, 41.0, -3.0)]       // Madrid region
    [InlineData(-33.87, 151.21, -34.5, 150.6)]       // southern hemisphere
    public void Plane_distance_matches_geodesic_within_half_a_metre_over_100_km(double lat1, double lon1, double lat2, double lon2)
    {
        var plane = PlaneProjection.For(lat1, lon1);
        double d = plane.DistanceMeters(plane.Project(lat1, lon1), plane.Project(lat2, lon2));
        Assert.Equal(Vincenty.Distance(lat1, lon1, lat2, lon2), d, 0.5);
    }

    [Fact]
    public void Distances_within_100_km_of_the_plane_origin_match_geodesics_anywhere_on_earth()
    {
        Gen.Select(Gen.Double[-70, 70], Gen.Double[-179, 179], Gen.Double[-0.9, 0.9], Gen.Double[-0.9, 0.9], Gen.Double[-0.9, 0.9], Gen.Double[-0.9, 0.9])
            .Sample((lat, lon, a, b, c, e) =>
            {
                double scale = 1 / Math.Cos(lat * Math.PI / 180);
                var p1 = (lat + a * 0.45, lon + b * 0.45 * scale);
                var p2 = (lat + c * 0.45, lon + e * 0.45 * scale);
                var plane = PlaneProjection.For(lat, lon);
                double d = plane.DistanceMeters(plane.Project(p1.Item1, p1.Item2), plane.Project(p2.Item1, p2.Item2));
                double g = Vincenty.Distance(p1.Item1, p1.Item2, p2.Item1, p2.Item2);
                return Math.Abs(d - g) <= 0.5;
            }, iter: 2000);
    }

    [Fact]
    public void A_plane_distance_within_a_limit_means_the_ground_distance_is_within_it()
    {
        // SurelyWithin lets the monitor skip the exact measure; it must never say yes when DistanceMeters says more.
        Gen.Select(Gen.Double[-70, 70], Gen.Double[-179, 179], Gen.Double[-200_000, 200_000], Gen.Double[-200_000, 200_000],
                Gen.Double[0, 60], Gen.Double[0, 6.3], Gen.Double[0, 1.2])
            .Sample((lat, lon, x, y, length, angle, fraction) =>
            {
                var plane = PlaneProjection.For(lat, lon);
                var a = new PlanePoint(x, y);
                var b = new PlanePoint(x + length * Math.Cos(angle), y + length * Math.Sin(angle));
                double limit = fraction > 1 ? a.DistanceTo(b) : a.DistanceTo(b) * fraction; // often exactly the plane distance
                return !PlaneProjection.SurelyWithin(a, b, limit) || plane.DistanceMeters(a, b) <= limit;
            }, iter: 20_000);
    }

    [Fact]
    public void Unproject_inverts_project_to_a_millimetre()
    {
        Gen.Select(Gen.Double[-70, 70], Gen.Double[-179, 179], Gen.Double[-1, 1], Gen.Double[-1, 1])
            .Sample((lat, lon, a, b) =>
            {
                var plane = PlaneProjection.For(lat, lon);
                var p = plane.Project(lat + a, lon + b);
                var back = plane.Unproject(p);
                var again = plane.Project(back);
                return p.DistanceTo(again) < 1e-3;
            }, iter: 1000);
    }

    [Fact]
    public void Nearby_points_share_one_canonical_plane()
    {
        Assert.Same(PlaneProjection.For(52.09, 5.12), PlaneProjection.For(52.2, 4.9));
        Assert.NotSame(PlaneProjection.For(52.09, 5.12), PlaneProjection.For(52.09, 6.6));
    }
}

public class FlindersPeakTests
{
    [Fact]
    public void Projection_reproduces_the_Flinders_Peak_to_Buninyong_line()
    {
        double lat1 = -(37 + 57 / 60.0 + 3.72030 / 3600), lon1 = 144 + 25 / 60.0 + 29.52440 / 3600;
        double lat2 = -(37 + 39 / 60.0 + 10.15610 / 3600), lon2 = 143 + 55 / 60.0 + 35.38390 / 3600;
        var plane = PlaneProjection.For(lat1, lon1);
        Assert.Equal(54_972.271, plane.DistanceMeters(plane.Project(lat1, lon1), plane.Project(lat2, lon2)), 0.05);
    }
}
