namespace Proximity.Spatial.Geodesy;

/// <summary>
/// Transverse Mercator on the WGS84 ellipsoid (Redfearn's series, millimetre-accurate within 3° of the
/// central meridian), with scale factor 1 on the central meridian and the origin moved to a local point
/// so that coordinates stay small. Planes are canonical: the central meridian and origin latitude are whole
/// degrees, so every zone and fix in a region lands in the same plane and prepared zones can be shared.
/// Lengths in the plane are stretched by the point scale factor k = cosh(x/R); <see cref="DistanceMeters"/>
/// removes that stretch so plane distances equal geodesic ones to well under a metre over 100 km.
/// </summary>
public sealed class PlaneProjection
{
    private const double A = 6378137.0;
    private const double F = 1 / 298.257223563;
    private const double E2 = F * (2 - F);
    private const double E4 = E2 * E2;
    private const double E6 = E4 * E2;
    private const double M0 = 1 - E2 / 4 - 3 * E4 / 64 - 5 * E6 / 256;
    private const double M2 = 3.0 / 8 * (E2 + E4 / 4 + 15 * E6 / 128);
    private const double M4 = 15.0 / 256 * (E4 + 3 * E6 / 4);
    private const double M6 = 35 * E6 / 3072;
    private const double DegToRad = Math.PI / 180;

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int), PlaneProjection> Planes = new();

    private readonly double _lambda0;
    private readonly double _northingOffset;
    private readonly double _inverseRadiusSquared;

    private PlaneProjection(int centralMeridian, int originLatitude)
    {
        CentralMeridian = centralMeridian;
        OriginLatitude = originLatitude;
        _lambda0 = centralMeridian * DegToRad;
        _northingOffset = MeridianArc(originLatitude * DegToRad);
        double s = Math.Sin(originLatitude * DegToRad);
        double w = 1 - E2 * s * s;
        double rho = A * (1 - E2) / (w * Math.Sqrt(w));
        double nu = A / Math.Sqrt(w);
        _inverseRadiusSquared = 1 / (rho * nu);
    }

    public int CentralMeridian { get; }
    public int OriginLatitude { get; }

    /// <summary>The shared plane for the region around a point.</summary>
    public static PlaneProjection For(GeoPoint near) => For(near.Latitude, near.Longitude);

    public static PlaneProjection For(double latitude, double longitude)
    {
        int cm = (int)Math.Round(longitude);
        if (cm == 180) cm = -180;
        int lat0 = (int)Math.Clamp(Math.Round(latitude), -85, 85);
        return Planes.GetOrAdd((cm, lat0), static k => new PlaneProjection(k.Item1, k.Item2));
    }

    public PlanePoint Project(GeoPoint p) => Project(p.Latitude, p.Longitude);

    public PlanePoint Project(double latitude, double longitude)
    {
        double phi = latitude * DegToRad;
        double omega = longitude * DegToRad - _lambda0;
        if (omega > Math.PI) omega -= 2 * Math.PI;
        else if (omega < -Math.PI) omega += 2 * Math.PI;

        var (s, c) = Math.SinCos(phi);
        double w = 1 - E2 * s * s;
        double nu = A / Math.Sqrt(w);
        double psi = w / (1 - E2);
        double t = s / c;
        double t2 = t * t, t4 = t2 * t2, t6 = t4 * t2;
        double psi2 = psi * psi, psi3 = psi2 * psi, psi4 = psi3 * psi;

        double oc = omega * c;
        double oc2 = oc * oc, oc4 = oc2 * oc2, oc6 = oc4 * oc2, oc8 = oc4 * oc4;

        double x = nu * oc * (1
            + oc2 / 6 * (psi - t2)
            + oc4 / 120 * (4 * psi3 * (1 - 6 * t2) + psi2 * (1 + 8 * t2) - psi * 2 * t2 + t4)
            + oc6 / 5040 * (61 - 479 * t2 + 179 * t4 - t6));

        // nu*sin*omega^k*cos^(k-1) = nu*t*(omega*cos)^k
        double nt = nu * t;
        double y = MeridianArc(phi, s, c) - _northingOffset
            + nt * oc2 / 2
            + nt * oc4 / 24 * (4 * psi2 + psi - t2)
            + nt * oc6 / 720 * (8 * psi4 * (11 - 24 * t2) - 28 * psi3 * (1 - 6 * t2) + psi2 * (1 - 32 * t2) - psi * 2 * t2 + t4)
            + nt * oc8 / 40320 * (1385 - 3111 * t2 + 543 * t4 - t6);

        return new PlanePoint(x, y);
    }

    /// <summary>Inverse projection by Newton iteration on the forward series (exact to its precision).</summary>
    public GeoPoint Unproject(PlanePoint p)
    {
        double lat = OriginLatitude + p.Y / 111_200.0;
        double lon = CentralMeridian + p.X / (111_320.0 * Math.Max(0.01, Math.Cos(lat * DegToRad)));
        for (int i = 0; i < 8; i++)
        {
            var q = Project(lat, lon);
            double dx = p.X - q.X, dy = p.Y - q.Y;
            if (Math.Abs(dx) < 1e-6 && Math.Abs(dy) < 1e-6) break;
            // The projection is conformal with scale k: one degree of latitude is ~M metres, of longitude ~N cos(lat).
            double s = Math.Sin(lat * DegToRad);
            double w = 1 - E2 * s * s;
            double k = ScaleAt(q);
            double metresPerDegLat = A * (1 - E2) / (w * Math.Sqrt(w)) * DegToRad * k;
            double metresPerDegLon = A / Math.Sqrt(w) * Math.Cos(lat * DegToRad) * DegToRad * k;
            // Grid convergence rotates the axes; for the small angles here a rotated step converges quickly.
            double gamma = (lon - CentralMeridian) * DegToRad * s;
            var (sinG, cosG) = Math.SinCos(gamma);
            double east = dx * cosG + dy * sinG;
            double north = -dx * sinG + dy * cosG;
            lat += north / metresPerDegLat;
            lon += east / metresPerDegLon;
        }
        return new GeoPoint(lat, lon);
    }

    /// <summary>Point scale factor: plane metres per ground metre at a point of this plane.</summary>
    public double ScaleAt(PlanePoint p)
    {
        double u = p.X * p.X * _inverseRadiusSquared;
        return 1 + u / 2 + u * u / 24;
    }

    /// <summary>
    /// Whether two plane points are no farther apart on the ground than a distance, decided from the plane
    /// distance alone: the plane stretches lengths (scale factor at least 1), so when this is true
    /// <see cref="DistanceMeters"/> is at most <paramref name="meters"/> too, to the last bit. A cheap first test.
    /// </summary>
    public static bool SurelyWithin(PlanePoint a, PlanePoint b, double meters) => a.DistanceTo(b) <= meters;

    /// <summary>Ground distance in metres between two plane points (line scale factor by Simpson's rule).</summary>
    public double DistanceMeters(PlanePoint a, PlanePoint b)
    {
        double plane = a.DistanceTo(b);
        double km = ScaleAt(new PlanePoint((a.X + b.X) / 2, 0));
        double k = (ScaleAt(a) + 4 * km + ScaleAt(b)) / 6;
        return plane / k;
    }

    private static double MeridianArc(double phi)
    {
        var (s, c) = Math.SinCos(phi);
        return MeridianArc(phi, s, c);
    }

    private static double MeridianArc(double phi, double s, double c)
    {
        double s2 = 2 * s * c, c2 = c * c - s * s;
        double s4 = 2 * s2 * c2, c4 = c2 * c2 - s2 * s2;
        double s6 = s4 * c2 + c4 * s2;
        return A * (M0 * phi - M2 * s2 + M4 * s4 - M6 * s6);
    }

    public override string ToString() => $"TM(cm={CentralMeridian}°, lat0={OriginLatitude}°)";
}
