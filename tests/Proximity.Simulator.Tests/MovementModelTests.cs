using Proximity.Simulator.Models;
using Proximity.Simulator.Scenarios;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Tests;

public class MovementModelTests
{
    private static readonly GeoPoint A = new(52.3700, 4.8900);
    private static readonly GeoPoint B = new(52.3700, 4.9047);   // ~1 km east
    private static readonly GeoPoint C = new(52.3790, 4.9047);   // ~1 km north of B

    [Theory]
    [InlineData(TravelMode.Walk, 1.0, 1.9)]
    [InlineData(TravelMode.Cycle, 3.0, 6.0)]
    [InlineData(TravelMode.Drive, 6.0, 16.0)]
    public void Follows_the_route_at_the_speed_of_the_mode(TravelMode mode, double minAverage, double maxAverage)
    {
        var route = new List<Waypoint> { new(A), new(B), new(C) };
        var model = new MovementModel(route, mode, new Random(2));
        var plane = model.Plane;
        var (pa, pb, pc) = (plane.Project(A), plane.Project(B), plane.Project(C));
        double length = pa.DistanceTo(pb) + pb.DistanceTo(pc);
        var profile = TravelProfile.For(mode);
        int seconds = 0;
        while (!model.Current.Finished && seconds < 10_000)
        {
            model.Advance(1);
            seconds++;
            var s = model.Current;
            Assert.True(DistanceToSegment(s.Position, pa, pb) < 1e-6 || DistanceToSegment(s.Position, pb, pc) < 1e-6, "left the route");
            Assert.InRange(s.SpeedMetersPerSecond, 0, 2 * profile.MeanSpeed);
        }
        Assert.True(model.Current.Finished);
        Assert.True(model.Current.Position.DistanceTo(pc) < 1e-6);
        Assert.InRange(length / seconds, minAverage, maxAverage);
    }

    [Fact]
    public void Stops_at_a_waypoint_for_its_stop_time_and_takes_its_sky_view()
    {
        var route = new List<Waypoint> { new(A), new(B, StopSeconds: 120, View: SkyView.UrbanCanyon), new(C) };
        var model = new MovementModel(route, TravelMode.Drive, new Random(4));
        var pb = model.Plane.Project(B);
        int guard = 0;
        while (model.Current.Position.DistanceTo(pb) > 1e-6 && guard++ < 5000) model.Advance(0.25);
        Assert.Equal(SkyView.UrbanCanyon, model.Current.View);
        model.Advance(100);
        Assert.True(model.Current.Position.DistanceTo(pb) < 1e-6, "left before the stop was over");
        Assert.Equal(0, model.Current.SpeedMetersPerSecond);
        model.Advance(60);
        Assert.True(model.Current.Position.DistanceTo(pb) > 1, "did not go on after the stop");
    }

    [Fact]
    public void A_timed_GPX_track_is_followed_at_its_own_times()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.gpx");
        File.WriteAllText(path, """
            <?xml version="1.0" encoding="UTF-8"?>
            <gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
              <trk><trkseg>
                <trkpt lat="52.3700" lon="4.8900"><time>2026-11-23T10:00:00Z</time></trkpt>
                <trkpt lat="52.3700" lon="4.9047"><time>2026-11-23T10:10:00Z</time></trkpt>
              </trkseg></trk>
            </gpx>
            """);
        try
        {
            var points = Gpx.Load(path);
            Assert.Equal(2, points.Count);
            var track = new TimedTrack(points.Select(p => (p.Position, p.Time!.Value)).ToList());
            var start = track.Plane.Project(A);
            var end = track.Plane.Project(B);
            track.Advance(300);
            var half = track.Current;
            Assert.True(half.Position.DistanceTo(PlanePoint.Lerp(start, end, 0.5)) < 1e-6);
            Assert.InRange(half.SpeedMetersPerSecond, start.DistanceTo(end) / 600 - 0.01, start.DistanceTo(end) / 600 + 0.01);
            Assert.InRange(half.HeadingDegrees, 89, 91);
            track.Advance(400);
            Assert.True(track.Current.Finished);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_GPX_file_without_points_is_refused_with_a_clear_error()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.gpx");
        File.WriteAllText(path, "<gpx xmlns=\"http://www.topografix.com/GPX/1/1\"></gpx>");
        try
        {
            var e = Assert.Throws<ScenarioException>(() => Gpx.Load(path));
            Assert.Contains("no track or route points", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static double DistanceToSegment(PlanePoint p, PlanePoint a, PlanePoint b)
    {
        double dx = b.X - a.X, dy = b.Y - a.Y;
        double t = Math.Clamp(((p.X - a.X) * dx + (p.Y - a.Y) * dy) / (dx * dx + dy * dy), 0, 1);
        return p.DistanceTo(new PlanePoint(a.X + t * dx, a.Y + t * dy));
    }
}
