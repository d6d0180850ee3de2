namespace Proximity.Scenarios.Generator;

/// <summary>A point or vector in a local metric plane (east, north in metres).</summary>
public readonly record struct Vec(double X, double Y)
{
    public static Vec operator +(Vec a, Vec b) => new(a.X + b.X, a.Y + b.Y);
    public static Vec operator -(Vec a, Vec b) => new(a.X - b.X, a.Y - b.Y);
    public static Vec operator *(Vec a, double k) => new(a.X * k, a.Y * k);
    public double Length => Math.Sqrt(X * X + Y * Y);
    public Vec Unit => this * (1 / Length);
    /// <summary>Rotated 90° counter-clockwise.</summary>
    public Vec Left => new(-Y, X);
    public static double Dot(Vec a, Vec b) => a.X * b.X + a.Y * b.Y;
    public static Vec Lerp(Vec a, Vec b, double u) => a + (b - a) * u;
    public static Vec FromAngle(double radians, double length) => new(Math.Cos(radians) * length, Math.Sin(radians) * length);
}

/// <summary>
/// The ground truth's own local projection (deliberately not the core's): an equirectangular plane with
/// the WGS84 metres-per-degree series at its origin. Over the few kilometres of a scenario its distance
/// error stays well under a metre, far below GPS error.
/// </summary>
public sealed class LocalPlane(double originLat, double originLon)
{
    private readonly double _mPerDegLat = 111132.954 - 559.822 * Math.Cos(2 * Rad(originLat)) + 1.175 * Math.Cos(4 * Rad(originLat));
    private readonly double _mPerDegLon = 111412.84 * Math.Cos(Rad(originLat)) - 93.5 * Math.Cos(3 * Rad(originLat));

    public double OriginLat { get; } = originLat;
    public double OriginLon { get; } = originLon;

    public Vec ToPlane(double lat, double lon) => new((lon - OriginLon) * _mPerDegLon, (lat - OriginLat) * _mPerDegLat);

    public (double Lat, double Lon) ToGeo(Vec p) => (OriginLat + p.Y / _mPerDegLat, OriginLon + p.X / _mPerDegLon);

    private static double Rad(double deg) => deg * Math.PI / 180;
}

/// <summary>A zone in the truth plane: polygon rings (outer and holes, even-odd) or a circle.</summary>
public sealed class TruthZone
{
    private readonly Vec[][] _rings;
    private readonly Vec _centre;
    private readonly double _radius;

    private TruthZone(string name, string geoJson, Vec[][] rings, Vec centre, double radius)
    {
        Name = name;
        GeoJson = geoJson;
        _rings = rings;
        _centre = centre;
        _radius = radius;
    }

    public string Name { get; }
    /// <summary>The area as written into case.json.</summary>
    public string GeoJson { get; }
    public bool IsCircle => _radius > 0;

    public static TruthZone Polygon(string name, string geoJson, Vec[][] rings) => new(name, geoJson, rings, default, 0);

    public static TruthZone Circle(LocalPlane plane, Vec centre, double radius)
    {
        var (lat, lon) = plane.ToGeo(centre);
        string json = FormattableString.Invariant($"{{\"type\":\"Circle\",\"center\":[{lon:F7},{lat:F7}],\"radiusMeters\":{radius:F1}}}");
        return new TruthZone("circle", json, [], centre, radius);
    }

    public bool Contains(Vec p)
    {
        if (IsCircle) return (p - _centre).Length < _radius;
        bool inside = false;
        foreach (var ring in _rings)
            for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
                if ((ring[i].Y > p.Y) != (ring[j].Y > p.Y) &&
                    p.X < (ring[j].X - ring[i].X) * (p.Y - ring[i].Y) / (ring[j].Y - ring[i].Y) + ring[i].X)
                    inside = !inside;
        return inside;
    }

    /// <summary>Distance to the boundary, positive inside, negative outside.</summary>
    public double SignedDepth(Vec p)
    {
        if (IsCircle) return _radius - (p - _centre).Length;
        double best = double.PositiveInfinity;
        foreach (var ring in _rings)
            for (int i = 0, j = ring.Length - 1; i < ring.Length; j = i++)
                best = Math.Min(best, SegmentDistance(p, ring[j], ring[i]));
        return Contains(p) ? best : -best;
    }

    /// <summary>A point on the boundary with its outward unit normal, chosen by the random source.</summary>
    public (Vec Point, Vec Outward, Vec Along) BoundaryPoint(Random rng, double minEdgeMeters = 0)
    {
        if (IsCircle)
        {
            double a = rng.NextDouble() * 2 * Math.PI;
            var n = Vec.FromAngle(a, 1);
            return (_centre + n * _radius, n, n.Left);
        }
        var outer = _rings[0];
        for (int attempt = 0; ; attempt++)
        {
            int i = rng.Next(outer.Length - 1);
            var a = outer[i];
            var b = outer[i + 1];
            var edge = b - a;
            if (edge.Length < minEdgeMeters && attempt < 200) continue;
            var p = Vec.Lerp(a, b, 0.3 + 0.4 * rng.NextDouble());
            var normal = edge.Unit.Left;
            // Orientation varies between files: the outward side is the one not inside.
            if (Contains(p + normal * 2)) normal = normal * -1;
            return (p, normal, edge.Unit);
        }
    }

    private static double SegmentDistance(Vec p, Vec a, Vec b)
    {
        var ab = b - a;
        double len2 = Vec.Dot(ab, ab);
        double u = len2 <= 0 ? 0 : Math.Clamp(Vec.Dot(p - a, ab) / len2, 0, 1);
        return (p - (a + ab * u)).Length;
    }
}
