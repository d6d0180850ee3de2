using System.Security.Cryptography;
using System.Text;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Load;

/// <summary>
/// The synthetic world of load mode, shared by <c>gen-case</c> (which writes the bans) and <c>load</c> (which
/// moves the devices), so both agree without exchanging more than a few numbers. Devices come in pairs:
/// offender k wears <c>sim-o-k</c> and has an exclusion zone (a circle on a grid cell) and a contact ban with
/// victim k, who carries <c>sim-v-k</c> and stays near home, 300 m beside the offender's path. A fraction of
/// the offenders walk back and forth straight through their zone, the others pass it at a safe distance.
/// </summary>
public sealed record LoadLayout
{
    public int Seed { get; init; } = 1;
    public double CenterLatitude { get; init; } = 52.3676;
    public double CenterLongitude { get; init; } = 4.9041;
    public double BreachFraction { get; init; } = 0.2;
    public double ZoneRadiusMeters { get; init; } = 150;
    public double SpacingMeters { get; init; } = 600;
    public double ContactMinDistanceMeters { get; init; } = 200;
    /// <summary>Speed along the path (a brisk cyclist): a breacher crosses its zone every ~3 minutes.</summary>
    public double SpeedMetersPerSecond { get; init; } = 5;
    public string IntegrationId { get; init; } = "sim-alerts";

    /// <summary>Time zero of the load world's motion (load runs place devices by wall-clock time since then).</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public string? Problem() =>
        new GeoPoint(CenterLatitude, CenterLongitude).Problem()
        ?? (BreachFraction is < 0 or > 1 ? "breach fraction must be within 0..1"
        : !(ZoneRadiusMeters > 0) || !(SpacingMeters > 0) || !(SpeedMetersPerSecond > 0) ? "zone radius, spacing and speed must be positive"
        : null);

    private double HalfPath => ZoneRadiusMeters + 250;

    public static string OffenderId(int pair) => $"off-{pair:D6}";
    public static string VictimId(int pair) => $"vic-{pair:D6}";
    public static string OffenderDeviceId(int pair) => $"sim-o-{pair:D6}";
    public static string VictimDeviceId(int pair) => $"sim-v-{pair:D6}";

    /// <summary>Device index i (0-based) in load order: offender and victim devices alternate.</summary>
    public static (int Pair, bool IsOffender) OfIndex(int index) => (index / 2, index % 2 == 0);

    public static string DeviceId(int index) => OfIndex(index) is var (pair, off) && off ? OffenderDeviceId(pair) : VictimDeviceId(pair);

    /// <summary>A device's password, derived from the seed so gen-case and load agree without a file.</summary>
    public string Secret(string id)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"proximity-sim:{Seed}:{id}"));
        return Convert.ToHexStringLower(hash, 0, 12);
    }

    public PlaneProjection Plane => PlaneProjection.For(CenterLatitude, CenterLongitude);

    public bool IsBreacher(int pair) => Unit(pair, 1) < BreachFraction;

    public PlanePoint ZoneCenter(int pair, int pairs)
    {
        int side = Math.Max(1, (int)Math.Ceiling(Math.Sqrt(pairs)));
        int col = pair % side, row = pair / side;
        var c = Plane.Project(CenterLatitude, CenterLongitude);
        return new PlanePoint(c.X + (col - side / 2.0) * SpacingMeters, c.Y + (row - side / 2.0) * SpacingMeters);
    }

    /// <summary>Where device <paramref name="index"/> truly is <paramref name="seconds"/> into the run, and its speed.</summary>
    public (PlanePoint Position, double Speed, double Heading) TruePosition(int index, int pairs, double seconds)
    {
        var (pair, offender) = OfIndex(index);
        var centre = ZoneCenter(pair, pairs);
        double angle = Unit(pair, 2) * 2 * Math.PI;
        var (sin, cos) = Math.SinCos(angle);
        // Along the path (ux, uy), and the lateral direction to its left (-uy, ux).
        double ux = sin, uy = cos;
        if (!offender) return (new PlanePoint(centre.X + uy * 300, centre.Y - ux * 300), 0, 0);

        double lateral = IsBreacher(pair) ? 0 : ZoneRadiusMeters * 3 + 100; // the far side from the victim
        double period = 4 * HalfPath / SpeedMetersPerSecond;
        double phase = (seconds + Unit(pair, 3) * period) % period / period;   // 0..1 over a full back-and-forth
        double s = phase < 0.5 ? -HalfPath + 4 * HalfPath * phase : HalfPath - 4 * HalfPath * (phase - 0.5);
        double heading = (angle * 180 / Math.PI + (phase < 0.5 ? 0 : 180)) % 360;
        return (new PlanePoint(centre.X + ux * s - uy * lateral, centre.Y + uy * s + ux * lateral), SpeedMetersPerSecond, heading);
    }

    /// <summary>A deterministic number in [0, 1) for a pair and a purpose.</summary>
    private double Unit(int pair, int salt)
    {
        ulong x = (ulong)(uint)Seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)pair * 0xBF58476D1CE4E5B9UL ^ (ulong)salt * 0x94D049BB133111EBUL;
        x ^= x >> 30; x *= 0xBF58476D1CE4E5B9UL; x ^= x >> 27; x *= 0x94D049BB133111EBUL; x ^= x >> 31;
        return (x >> 11) * (1.0 / (1UL << 53));
    }
}
