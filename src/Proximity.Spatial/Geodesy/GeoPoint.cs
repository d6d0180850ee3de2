namespace Proximity.Spatial.Geodesy;

/// <summary>A WGS84 position in degrees.</summary>
public readonly record struct GeoPoint(double Latitude, double Longitude)
{
    /// <summary>Names what is wrong with the coordinates, or null when they are valid.</summary>
    public string? Problem()
    {
        if (!double.IsFinite(Latitude) || !double.IsFinite(Longitude)) return "coordinates must be finite numbers";
        if (Latitude is < -90 or > 90) return $"latitude {Latitude} is outside -90..90";
        if (Longitude is < -180 or > 180) return $"longitude {Longitude} is outside -180..180";
        return null;
    }

    public override string ToString() => FormattableString.Invariant($"({Latitude:F6}, {Longitude:F6})");
}

/// <summary>A point in a metric plane (metres east and north of the plane's origin).</summary>
public readonly record struct PlanePoint(double X, double Y)
{
    public double DistanceTo(PlanePoint other)
    {
        double dx = X - other.X, dy = Y - other.Y;
        return Math.Sqrt(dx * dx + dy * dy);
    }

    public static PlanePoint Lerp(PlanePoint a, PlanePoint b, double t) =>
        new(a.X + (b.X - a.X) * t, a.Y + (b.Y - a.Y) * t);
}
