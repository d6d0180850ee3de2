using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Decisions;

public enum FixSource : byte { Gps, Wifi, Cell, None }

/// <summary>One position report of a device; accuracy is the 95 % horizontal radius in metres.</summary>
public readonly record struct PositionFix(
    string DeviceId,
    long Seq,
    DateTimeOffset Timestamp,
    double Latitude,
    double Longitude,
    double AccuracyMeters,
    double? SpeedMetersPerSecond = null,
    double? HeadingDegrees = null,
    int? BatteryPercent = null,
    FixSource Source = FixSource.Gps)
{
    /// <summary>Accuracy is refused above this: such a fix cannot decide anything.</summary>
    public const double MaxAccuracyMeters = 50_000;

    public GeoPoint Point => new(Latitude, Longitude);

    /// <summary>Names why the fix cannot be evaluated, or null when it can.</summary>
    public string? Problem()
    {
        if (string.IsNullOrEmpty(DeviceId)) return "missing device id";
        if (Point.Problem() is { } p) return p;
        if (!double.IsFinite(AccuracyMeters) || AccuracyMeters <= 0) return $"accuracy {AccuracyMeters} must be a positive number";
        if (AccuracyMeters > MaxAccuracyMeters) return $"accuracy {AccuracyMeters} m exceeds {MaxAccuracyMeters} m";
        if (Source == FixSource.None) return "the device reports no position fix (src none)";
        if (SpeedMetersPerSecond is { } s && (!double.IsFinite(s) || s < 0)) return $"speed {s} must be a non-negative number";
        if (BatteryPercent is { } b && (b < 0 || b > 100)) return $"battery {b} is outside 0..100";
        return null;
    }
}
