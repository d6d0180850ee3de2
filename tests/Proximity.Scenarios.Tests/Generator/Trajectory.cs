namespace Proximity.Scenarios.Generator;

public enum Mode { Walking, Cycling, Driving }

/// <summary>A true trajectory: piecewise-linear knots in time (stops are two knots at one place).</summary>
public sealed class Trajectory
{
    private readonly List<(DateTimeOffset At, Vec P)> _knots = [];

    public Trajectory(DateTimeOffset start, Vec position) => _knots.Add((start, position));

    public DateTimeOffset Start => _knots[0].At;
    public DateTimeOffset End => _knots[^1].At;
    public Vec Last => _knots[^1].P;

    public static double NominalSpeed(Mode mode) => mode switch
    {
        Mode.Walking => 1.4,
        Mode.Cycling => 5.0,
        _ => 14.0,
    };

    /// <summary>Moves in a straight line at the speed.</summary>
    public Trajectory To(Vec target, double speed)
    {
        double seconds = (target - Last).Length / speed;
        _knots.Add((End + TimeSpan.FromSeconds(seconds), target));
        return this;
    }

    /// <summary>Moves along streets: one turn at a random corner off the straight line.</summary>
    public Trajectory Via(Vec target, double speed, Random rng)
    {
        var from = Last;
        var d = target - from;
        if (d.Length < 50) return To(target, speed);
        var corner = rng.Next(2) == 0 ? new Vec(target.X, from.Y) : new Vec(from.X, target.Y);
        // Not every street runs east–west: blend the corner toward the straight line.
        corner = Vec.Lerp(corner, Vec.Lerp(from, target, 0.5), 0.3 + 0.5 * rng.NextDouble());
        return To(corner, speed).To(target, speed);
    }

    public Trajectory Stop(TimeSpan duration)
    {
        _knots.Add((End + duration, Last));
        return this;
    }

    public Vec At(DateTimeOffset t)
    {
        if (t <= _knots[0].At) return _knots[0].P;
        for (int i = 1; i < _knots.Count; i++)
        {
            if (t > _knots[i].At) continue;
            var (t0, p0) = _knots[i - 1];
            var (t1, p1) = _knots[i];
            double span = (t1 - t0).TotalSeconds;
            return span <= 0 ? p1 : Vec.Lerp(p0, p1, (t - t0).TotalSeconds / span);
        }
        return _knots[^1].P;
    }

    /// <summary>Speed at t (m/s), 0 at a stop.</summary>
    public double SpeedAt(DateTimeOffset t)
    {
        for (int i = 1; i < _knots.Count; i++)
        {
            if (t > _knots[i].At) continue;
            double span = (_knots[i].At - _knots[i - 1].At).TotalSeconds;
            return span <= 0 ? 0 : (_knots[i].P - _knots[i - 1].P).Length / span;
        }
        return 0;
    }
}
