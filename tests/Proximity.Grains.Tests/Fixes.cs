using System.Globalization;
using Proximity.Spatial.Decisions;

namespace Proximity.Grains.Tests;

public static class Fixes
{
    public const double Lat = 52.37310, Lon = 4.89260;
    private static readonly double MetersPerDegreeLon = 111_320 * Math.Cos(Lat * Math.PI / 180);

    /// <summary>A fix <paramref name="eastMeters"/> east of the victim's home point.</summary>
    public static PositionFix At(string device, long seq, DateTimeOffset ts, double eastMeters, double acc = 5) =>
        new(device, seq, ts, Lat, LonEast(eastMeters), acc);

    /// <summary>The longitude <paramref name="eastMeters"/> east of the victim's home point.</summary>
    public static double LonEast(double eastMeters) => Lon + eastMeters / MetersPerDegreeLon;

    public static string LonText(double eastMeters) => LonEast(eastMeters).ToString("F4", CultureInfo.InvariantCulture);
}
