using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Zones;

/// <summary>Where a point lies relative to a zone: inside or not, and how far from its boundary in metres.</summary>
public readonly record struct ZoneLocation(bool Inside, double BoundaryDistanceMeters)
{
    /// <summary>Positive inside the zone, negative outside (metres to the boundary).</summary>
    public double SignedDepth => Inside ? BoundaryDistanceMeters : -BoundaryDistanceMeters;
}

/// <summary>A zone projected into one metric plane, indexed for allocation-free point queries.</summary>
public abstract class PreparedZone
{
    protected PreparedZone(PlaneProjection plane, double scale)
    {
        Plane = plane;
        Scale = scale;
    }

    public PlaneProjection Plane { get; }

    /// <summary>Plane metres per ground metre inside the zone (constant across one zone to &lt; 1e-5).</summary>
    protected double Scale { get; }

    /// <summary>
    /// Locates a point of <see cref="Plane"/>. The boundary distance is exact up to
    /// <paramref name="searchMeters"/>; beyond it, <see cref="double.PositiveInfinity"/> is returned.
    /// </summary>
    public ZoneLocation Locate(PlanePoint p, double searchMeters)
    {
        var (inside, planeDistance) = LocateInPlane(p, searchMeters * Scale);
        return new ZoneLocation(inside, planeDistance / Scale);
    }

    protected abstract (bool Inside, double Distance) LocateInPlane(PlanePoint p, double searchRadius);

    internal static PreparedZone Create(ZoneArea area, PlaneProjection plane)
    {
        if (area.CircleCentre is { } c)
        {
            var centre = plane.Project(c);
            return new CircleZone(plane, centre, area.CircleRadiusMeters, plane.ScaleAt(centre));
        }
        var rings = new List<PlanePoint[]>();
        foreach (var polygon in area.Polygons)
            foreach (var ring in polygon)
                rings.Add(Array.ConvertAll(ring, plane.Project));
        return new PolygonZone(plane, new EdgeGrid(rings), plane.ScaleAt(plane.Project(area.Centroid)));
    }

    private sealed class CircleZone(PlaneProjection plane, PlanePoint centre, double radiusMeters, double scale)
        : PreparedZone(plane, scale)
    {
        private readonly double _radius = radiusMeters * scale;

        protected override (bool Inside, double Distance) LocateInPlane(PlanePoint p, double searchRadius)
        {
            double d = p.DistanceTo(centre);
            double boundary = Math.Abs(d - _radius);
            return (d < _radius, boundary <= searchRadius ? boundary : double.PositiveInfinity);
        }
    }

    private sealed class PolygonZone(PlaneProjection plane, EdgeGrid grid, double scale) : PreparedZone(plane, scale)
    {
        protected override (bool Inside, double Distance) LocateInPlane(PlanePoint p, double searchRadius) =>
            grid.Locate(p.X, p.Y, searchRadius);
    }
}
