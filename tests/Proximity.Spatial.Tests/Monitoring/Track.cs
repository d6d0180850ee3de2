using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Monitoring;

namespace Proximity.Spatial.Tests.Monitoring;

/// <summary>Builds fixes at metre offsets from a reference point, and collects monitor events.</summary>
internal sealed class Track(string deviceId, GeoPoint origin)
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);
    private static readonly PlaneProjection Plane = PlaneProjection.For(52.09, 5.12);
    private long _seq;

    public static GeoPoint Utrecht { get; } = new(52.09, 5.12);

    public PositionFix At(double seconds, double east, double north, double acc = 8)
    {
        var o = Plane.Project(origin);
        var p = Plane.Unproject(new PlanePoint(o.X + east, o.Y + north));
        return new PositionFix(deviceId, ++_seq, T0.AddSeconds(seconds), p.Latitude, p.Longitude, acc);
    }
}

internal static class MonitorExtensions
{
    public static List<MonitorEvent> Offender(this OffenderMonitor m, PositionFix f, bool late = false)
    {
        var events = new List<MonitorEvent>();
        m.OnOffenderFix(f, late, events);
        return events;
    }

    /// <summary>A fix older than one already judged (out of order, or a backlog), as the gate passes it on.</summary>
    public static List<MonitorEvent> OffenderBackfill(this OffenderMonitor m, PositionFix f)
    {
        var events = new List<MonitorEvent>();
        m.OnOffenderBackfill(f, events);
        return events;
    }

    public static List<MonitorEvent> Victim(this OffenderMonitor m, string victimId, PositionFix f)
    {
        var events = new List<MonitorEvent>();
        m.OnVictimFix(victimId, f, false, events);
        return events;
    }
}
