using NetTopologySuite.Geometries;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;

namespace Proximity.Benchmarks;

/// <summary>What a straightforward implementation does per fix: no preparation, everything from WGS84 each call.</summary>
internal static class Naive
{
    private static readonly GeometryFactory Factory = new();

    public static double Haversine(double lat1, double lon1, double lat2, double lon2)
    {
        const double r = 6_371_008.8, d2r = Math.PI / 180;
        double dLat = (lat2 - lat1) * d2r, dLon = (lon2 - lon1) * d2r;
        double a = Math.Sin(dLat / 2) * Math.Sin(dLat / 2) +
                   Math.Cos(lat1 * d2r) * Math.Cos(lat2 * d2r) * Math.Sin(dLon / 2) * Math.Sin(dLon / 2);
        return 2 * r * Math.Asin(Math.Min(1, Math.Sqrt(a)));
    }

    /// <summary>
    /// Judges a zone with an unprepared NTS polygon: projects every vertex and the point into the plane, then
    /// Contains and the distance to the boundary. Returns the breach and warning certainties.
    /// </summary>
    public static (Certainty Breach, Certainty Warning) JudgeZone(GeoPoint[][] rings, double bufferMeters, GeoPoint point, double accuracy)
    {
        var plane = PlaneProjection.For(rings[0][0]);
        LinearRing Ring(GeoPoint[] ring)
        {
            var coords = new Coordinate[ring.Length];
            for (int i = 0; i < ring.Length; i++)
            {
                var q = plane.Project(ring[i]);
                coords[i] = new Coordinate(q.X, q.Y);
            }
            return Factory.CreateLinearRing(coords);
        }
        var shell = Ring(rings[0]);
        var holes = new LinearRing[rings.Length - 1];
        for (int i = 1; i < rings.Length; i++) holes[i - 1] = Ring(rings[i]);
        var polygon = Factory.CreatePolygon(shell, holes);
        var p = plane.Project(point);
        var pt = Factory.CreatePoint(new Coordinate(p.X, p.Y));
        bool inside = polygon.Contains(pt);
        double boundary = polygon.Boundary.Distance(pt);
        double depth = inside ? boundary : -boundary;
        return (Observation.Classify(depth, accuracy), Observation.Classify(depth + bufferMeters, accuracy));
    }

    /// <summary>The contact judgement with a geodesic (Vincenty) distance per call.</summary>
    public static (Certainty Breach, Certainty Warning) JudgeContact(GeoPoint offender, double offenderAccuracy, GeoPoint victim,
        double victimAccuracy, double minDistance, double warningDistance)
    {
        double d = Proximity.Spatial.Tests.Geodesy.Vincenty.Distance(offender.Latitude, offender.Longitude, victim.Latitude, victim.Longitude);
        double radius = offenderAccuracy + victimAccuracy;
        return (Observation.Classify(minDistance - d, radius), Observation.Classify(warningDistance - d, radius));
    }
}
