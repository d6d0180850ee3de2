using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Models;

public enum TravelMode { Stationary, Walk, Cycle, Drive }

/// <summary>The true state of a person: where, how fast, which way, and the sky view of where they are.</summary>
public readonly record struct MovementState(PlanePoint Position, double SpeedMetersPerSecond, double HeadingDegrees, SkyView View, bool Finished);

/// <summary>Something that moves a person through time.</summary>
public interface IMovement
{
    PlaneProjection Plane { get; }
    MovementState Current { get; }
    void Advance(double seconds);
}

/// <summary>Speeds and stops of one travel mode.</summary>
public sealed record TravelProfile(double MeanSpeed, double SpeedSigma, double StopsPerKm, double MinStopSeconds, double MaxStopSeconds)
{
    public static TravelProfile For(TravelMode mode) => mode switch
    {
        TravelMode.Walk => new(1.4, 0.2, 0.5, 5, 30),       // pauses at crossings
        TravelMode.Cycle => new(4.5, 0.8, 1.0, 10, 40),     // traffic lights
        TravelMode.Drive => new(11, 3, 1.5, 10, 60),        // urban driving with lights and queues
        _ => new(0, 0, 0, 0, 0),
    };
}

/// <summary>A point of a route: the person goes there, may stop there, and the leg after it has its mode and sky view.</summary>
public sealed record Waypoint(GeoPoint Point, double StopSeconds = 0, TravelMode? Mode = null, SkyView? View = null);

/// <summary>
/// Moves a person along a polyline of waypoints at the speed of the travel mode: the speed wanders around the
/// mode's mean (Ornstein–Uhlenbeck, 20 s time constant), random stops come at the mode's rate per kilometre,
/// and scripted stops at waypoints. Stepped in at most one second so stops and turns are not skipped.
/// </summary>
public sealed class MovementModel : IMovement
{
    private const double SpeedTimeConstant = 20;
    private readonly PlanePoint[] _points;
    private readonly Waypoint[] _waypoints;
    private readonly Random _random;
    private readonly bool _loop;
    private int _segment;
    private double _along;
    private double _speed;
    private double _stopLeft;
    private TravelMode _mode;
    private SkyView _view;
    private bool _finished;
    private double _heading;

    public MovementModel(IReadOnlyList<Waypoint> route, TravelMode mode, Random random, bool loop = false)
    {
        if (route.Count == 0) throw new ArgumentException("a route needs at least one waypoint", nameof(route));
        _waypoints = [.. route];
        Plane = PlaneProjection.For(route[0].Point);
        _points = route.Select(w => Plane.Project(w.Point)).ToArray();
        _random = random;
        _loop = loop && route.Count > 1;
        _mode = route[0].Mode ?? mode;
        _view = route[0].View ?? SkyView.Open;
        _speed = TravelProfile.For(_mode).MeanSpeed;
        _stopLeft = route[0].StopSeconds;
        _finished = route.Count == 1 && !_loop;
        _heading = route.Count > 1 ? Heading(_points[0], _points[1]) : 0;
    }

    public PlaneProjection Plane { get; }

    public TravelMode Mode => _mode;

    public MovementState Current
    {
        get
        {
            var pos = _segment >= _points.Length - 1
                ? _points[^1]
                : PlanePoint.Lerp(_points[_segment], _points[_segment + 1], SegmentLength(_segment) > 0 ? _along / SegmentLength(_segment) : 0);
            bool moving = !_finished && _stopLeft <= 0 && _mode != TravelMode.Stationary;
            return new MovementState(pos, moving ? _speed : 0, _heading, _view, _finished);
        }
    }

    public void Advance(double seconds)
    {
        while (seconds > 1e-9)
        {
            double dt = Math.Min(1, seconds);
            Step(dt);
            seconds -= dt;
        }
    }

    private void Step(double dt)
    {
        if (_finished) return;
        if (_stopLeft > 0)
        {
            _stopLeft -= dt;
            return;
        }
        var profile = TravelProfile.For(_mode);
        if (profile.MeanSpeed <= 0) return; // stationary: stays where it is
        _speed += (profile.MeanSpeed - _speed) * dt / SpeedTimeConstant
                  + profile.SpeedSigma * Math.Sqrt(2 * dt / SpeedTimeConstant) * _random.NextGaussian();
        _speed = Math.Clamp(_speed, 0.3 * profile.MeanSpeed, 2 * profile.MeanSpeed);

        double distance = _speed * dt;
        if (_random.Happens(profile.StopsPerKm / 1000 * _speed, dt))
            _stopLeft = profile.MinStopSeconds + _random.NextDouble() * (profile.MaxStopSeconds - profile.MinStopSeconds);

        while (distance > 0 && !_finished)
        {
            double remaining = SegmentLength(_segment) - _along;
            if (distance < remaining)
            {
                _along += distance;
                break;
            }
            distance -= remaining;
            ArriveAt(_segment + 1);
            if (_stopLeft > 0) break;
        }
    }

    private void ArriveAt(int index)
    {
        var w = _waypoints[index];
        _stopLeft = w.StopSeconds;
        _mode = w.Mode ?? _mode;
        _view = w.View ?? _view;
        if (index >= _points.Length - 1)
        {
            if (_loop)
            {
                _segment = 0;
                _along = 0;
                _heading = Heading(_points[0], _points[1]);
                return;
            }
            _segment = _points.Length - 1;
            _along = 0;
            _finished = true;
            return;
        }
        _segment = index;
        _along = 0;
        _heading = Heading(_points[index], _points[index + 1]);
    }

    private double SegmentLength(int i) => i >= _points.Length - 1 ? 0 : _points[i].DistanceTo(_points[i + 1]);

    internal static double Heading(PlanePoint from, PlanePoint to)
    {
        double deg = Math.Atan2(to.X - from.X, to.Y - from.Y) * 180 / Math.PI;
        return deg < 0 ? deg + 360 : deg;
    }
}

/// <summary>A recorded track with times (GPX): the person is where the track says at each moment, interpolated.</summary>
public sealed class TimedTrack : IMovement
{
    private readonly PlanePoint[] _points;
    private readonly double[] _seconds;
    private readonly SkyView _view;
    private double _t;

    public TimedTrack(IReadOnlyList<(GeoPoint Point, DateTimeOffset Time)> track, SkyView view = SkyView.Open)
    {
        if (track.Count == 0) throw new ArgumentException("a track needs at least one point", nameof(track));
        Plane = PlaneProjection.For(track[0].Point);
        _points = track.Select(p => Plane.Project(p.Point)).ToArray();
        _seconds = track.Select(p => (p.Time - track[0].Time).TotalSeconds).ToArray();
        for (int i = 1; i < _seconds.Length; i++)
            if (_seconds[i] < _seconds[i - 1]) throw new ArgumentException("track times must not go backwards", nameof(track));
        _view = view;
    }

    public PlaneProjection Plane { get; }

    public MovementState Current
    {
        get
        {
            if (_t >= _seconds[^1]) return new MovementState(_points[^1], 0, 0, _view, true);
            int i = Array.BinarySearch(_seconds, _t);
            if (i < 0) i = ~i - 1;
            i = Math.Clamp(i, 0, _points.Length - 2);
            double span = _seconds[i + 1] - _seconds[i];
            double f = span > 0 ? (_t - _seconds[i]) / span : 1;
            double length = _points[i].DistanceTo(_points[i + 1]);
            return new MovementState(PlanePoint.Lerp(_points[i], _points[i + 1], f), span > 0 ? length / span : 0,
                MovementModel.Heading(_points[i], _points[i + 1]), _view, false);
        }
    }

    public void Advance(double seconds) => _t += Math.Max(0, seconds);
}
