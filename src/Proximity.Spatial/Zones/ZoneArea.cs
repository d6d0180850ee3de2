using System.Collections.Concurrent;
using NetTopologySuite.Geometries;
using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Zones;

/// <summary>
/// A validated zone in WGS84: polygons (holes allowed) or a circle. Immutable; one instance per ban version.
/// Prepared forms for a metric plane are made once per plane and shared by every user of the area.
/// </summary>
public sealed class ZoneArea
{
    /// <summary>Zones larger than this are refused: no court order bans a whole province.</summary>
    public const double MaxAreaSquareKm = 5_000;
    public const double MaxExtentKm = 150;
    public const double MaxCircleRadiusMeters = 50_000;
    public const int MaxVertices = 200_000;

    private readonly ConcurrentDictionary<PlaneProjection, PreparedZone> _prepared = new();

    private ZoneArea(IReadOnlyList<GeoPoint[][]> polygons, GeoPoint? circleCentre, double circleRadius)
    {
        Polygons = polygons;
        CircleCentre = circleCentre;
        CircleRadiusMeters = circleRadius;
        if (circleCentre is { } c)
        {
            Centroid = c;
            double dLat = circleRadius / 111_000.0, dLon = circleRadius / (111_000.0 * Math.Max(0.01, Math.Cos(c.Latitude * Math.PI / 180)));
            Bounds = (c.Latitude - dLat, c.Longitude - dLon, c.Latitude + dLat, c.Longitude + dLon);
        }
        else
        {
            double minLat = 90, minLon = 180, maxLat = -90, maxLon = -180;
            foreach (var poly in polygons)
                foreach (var p in poly[0])
                {
                    minLat = Math.Min(minLat, p.Latitude); maxLat = Math.Max(maxLat, p.Latitude);
                    minLon = Math.Min(minLon, p.Longitude); maxLon = Math.Max(maxLon, p.Longitude);
                }
            Bounds = (minLat, minLon, maxLat, maxLon);
            Centroid = new GeoPoint((minLat + maxLat) / 2, (minLon + maxLon) / 2);
        }
        HomePlane = PlaneProjection.For(Centroid);
    }

    /// <summary>Each polygon is a list of rings (shell first, then holes), each ring closed.</summary>
    public IReadOnlyList<GeoPoint[][]> Polygons { get; }
    public GeoPoint? CircleCentre { get; }
    public double CircleRadiusMeters { get; }
    public bool IsCircle => CircleCentre.HasValue;
    public GeoPoint Centroid { get; }
    public (double MinLat, double MinLon, double MaxLat, double MaxLon) Bounds { get; }
    public PlaneProjection HomePlane { get; }

    public static ZoneArea Circle(GeoPoint centre, double radiusMeters)
    {
        if (centre.Problem() is { } problem) throw new InvalidZoneException($"circle centre: {problem}");
        if (!double.IsFinite(radiusMeters) || radiusMeters <= 0)
            throw new InvalidZoneException($"circle radiusMeters must be a positive number, got {radiusMeters}");
        if (radiusMeters > MaxCircleRadiusMeters)
            throw new InvalidZoneException($"circle radiusMeters {radiusMeters} exceeds the maximum of {MaxCircleRadiusMeters} m");
        return new ZoneArea([], centre, radiusMeters);
    }

    /// <summary>Validates polygons given as rings of WGS84 points (shell first, then holes).</summary>
    public static ZoneArea FromPolygons(IReadOnlyList<GeoPoint[][]> polygons)
    {
        if (polygons.Count == 0) throw new InvalidZoneException("the geometry is empty: it has no polygon");
        int vertices = 0;
        for (int pi = 0; pi < polygons.Count; pi++)
        {
            var rings = polygons[pi];
            if (rings.Length == 0) throw new InvalidZoneException($"polygon {pi} is empty: it has no rings");
            for (int ri = 0; ri < rings.Length; ri++)
            {
                var ring = rings[ri];
                string where = polygons.Count > 1 ? $"polygon {pi} ring {ri}" : $"ring {ri}";
                if (ring.Length < 4)
                    throw new InvalidZoneException($"{where} has {ring.Length} positions; a ring needs at least 4 (closed, first = last)");
                for (int i = 0; i < ring.Length; i++)
                    if (ring[i].Problem() is { } problem)
                        throw new InvalidZoneException($"{where} position {i}: {problem}");
                if (ring[0] != ring[^1])
                    throw new InvalidZoneException($"{where} is not closed: its first position {ring[0]} differs from its last {ring[^1]}");
                vertices += ring.Length;
            }
        }
        if (vertices > MaxVertices)
            throw new InvalidZoneException($"the geometry has {vertices} positions; at most {MaxVertices} are accepted");

        var area = new ZoneArea(polygons, null, 0).MergedIfPartsMeet();
        area.CheckTopologyAndSize();
        return area;
    }

    /// <summary>
    /// Parts of a MultiPolygon that share an edge or overlap (two neighbourhoods drawn side by side, as the CBS
    /// boundaries are) make one area: their union. Each part must be valid on its own; a shared edge left in place
    /// would count as a boundary in the middle of the zone.
    /// </summary>
    private ZoneArea MergedIfPartsMeet()
    {
        if (Polygons.Count < 2 || ExtentKm > MaxExtentKm) return this;
        var geometry = ToPlaneGeometry(HomePlane);
        var parts = Enumerable.Range(0, geometry.NumGeometries).Select(geometry.GetGeometryN).ToArray();
        if (geometry.IsValid || parts.Any(p => !p.IsValid)) return this;
        // A part drawn inside another is most likely meant as a hole: refused as it stands (nested shells), not filled.
        for (int i = 0; i < parts.Length; i++)
            for (int j = 0; j < parts.Length; j++)
                if (i != j && parts[i].EnvelopeInternal.Contains(parts[j].EnvelopeInternal) && parts[i].Contains(parts[j])) return this;
        Geometry union;
        try
        {
            union = NetTopologySuite.Operation.Union.UnaryUnionOp.Union(geometry);
        }
        catch (TopologyException)
        {
            return this; // refused below, with the validity error
        }
        if (union is not (Polygon or MultiPolygon) || !union.IsValid) return this;
        GeoPoint[] Ring(LineString ring) => ring.Coordinates.Select(c => HomePlane.Unproject(new PlanePoint(c.X, c.Y))).ToArray();
        var merged = Enumerable.Range(0, union.NumGeometries).Select(i => (Polygon)union.GetGeometryN(i))
            .Select(p => new[] { Ring(p.ExteriorRing) }.Concat(p.InteriorRings.Select(Ring)).ToArray()).ToList();
        return new ZoneArea(merged, null, 0);
    }

    /// <summary>The area prepared for fast decisions in a plane; built once per plane and shared.</summary>
    public PreparedZone PreparedIn(PlaneProjection plane) =>
        _prepared.GetOrAdd(plane, static (p, area) => PreparedZone.Create(area, p), this);

    /// <summary>The area as an NTS geometry in the given plane (metres).</summary>
    public Geometry ToPlaneGeometry(PlaneProjection plane, GeometryFactory? factory = null)
    {
        factory ??= new GeometryFactory();
        if (CircleCentre is { } c)
        {
            var centre = plane.Project(c);
            double r = CircleRadiusMeters * plane.ScaleAt(centre);
            return factory.CreatePoint(new Coordinate(centre.X, centre.Y)).Buffer(r, 32);
        }
        var polys = Polygons.Select(rings =>
        {
            LinearRing Ring(GeoPoint[] pts) => factory.CreateLinearRing(pts.Select(p =>
            {
                var q = plane.Project(p);
                return new Coordinate(q.X, q.Y);
            }).ToArray());
            return factory.CreatePolygon(Ring(rings[0]), rings.Skip(1).Select(Ring).ToArray());
        }).ToArray();
        return polys.Length == 1 ? polys[0] : factory.CreateMultiPolygon(polys);
    }

    /// <summary>The larger of the zone's north-south and east-west extents, in km.</summary>
    private double ExtentKm => Math.Max((Bounds.MaxLat - Bounds.MinLat) * 111.0,
        (Bounds.MaxLon - Bounds.MinLon) * 111.0 * Math.Cos(Centroid.Latitude * Math.PI / 180));

    private void CheckTopologyAndSize()
    {
        if (ExtentKm > MaxExtentKm)
            throw new InvalidZoneException($"the zone spans {ExtentKm:F0} km; at most {MaxExtentKm} km is accepted");

        var geometry = ToPlaneGeometry(HomePlane);
        var validity = new NetTopologySuite.Operation.Valid.IsValidOp(geometry);
        if (!validity.IsValid)
        {
            var error = validity.ValidationError;
            var at = HomePlane.Unproject(new PlanePoint(error.Coordinate.X, error.Coordinate.Y));
            throw new InvalidZoneException($"invalid polygon: {error.Message} at lon {at.Longitude:F6}, lat {at.Latitude:F6}");
        }
        double km2 = geometry.Area / 1e6;
        if (km2 <= 1e-6) throw new InvalidZoneException("the zone has no area");
        if (km2 > MaxAreaSquareKm)
            throw new InvalidZoneException($"the zone covers {km2:F0} km²; at most {MaxAreaSquareKm} km² is accepted");
    }
}
