namespace Proximity.Scenarios.Generator;

/// <summary>An urban-canyon stretch: larger, biased error, honestly reported.</summary>
public sealed record Canyon(DateTimeOffset From, DateTimeOffset To, double Accuracy, Vec Bias);

/// <summary>How a device measures and delivers: error model and network imperfections.</summary>
public sealed record DeviceProfile
{
    public required double IntervalSeconds { get; init; }
    /// <summary>95 % radius outdoors under open sky.</summary>
    public double OpenAccuracy { get; init; } = 8;
    /// <summary>95 % radius when standing still (usually indoors).</summary>
    public double StationaryAccuracy { get; init; } = 20;
    /// <summary>Gauss–Markov correlation time of the error.</summary>
    public double CorrelationSeconds { get; init; } = 30;
    public IReadOnlyList<Canyon> Canyons { get; init; } = [];
    /// <summary>Multipath events (large error, small reported accuracy) per hour.</summary>
    public double MultipathPerHour { get; init; }
    /// <summary>Intervals without any fix (no sky view, device off).</summary>
    public IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> Losses { get; init; } = [];
    /// <summary>Intervals without coverage: fixes are taken, buffered and sent oldest first at the end.</summary>
    public IReadOnlyList<(DateTimeOffset From, DateTimeOffset To)> StoreAndForward { get; init; } = [];
    public double DuplicateRate { get; init; }
    public double ReorderRate { get; init; }
}

/// <summary>One fix as sent, with what the generator knows about it.</summary>
public sealed record SentFix(
    string Device, long Seq, DateTimeOffset Ts, double Lat, double Lon, double Acc,
    DateTimeOffset Arrival, Vec True, Vec Measured, bool Multipath, bool Buffered, bool Duplicate)
{
    public string ToJsonLine() => FormattableString.Invariant(
        $"{{\"device\":\"{Device}\",\"seq\":{Seq},\"ts\":\"{Ts.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'}\",\"lat\":{Lat:F7},\"lon\":{Lon:F7},\"acc\":{Acc:F1}}}");
}

/// <summary>
/// Samples a true trajectory like a GPS device: error correlated over time (first-order Gauss–Markov per
/// axis) whose 95 % radius is the reported accuracy (sigma = acc / 2.45), canyons with bias, rare
/// multipath jumps, and the delivery path (loss, store-and-forward, duplicates, reordering).
/// </summary>
public static class GpsDevice
{
    public const double SigmaPer95 = 1 / 2.4477;

    public static List<SentFix> Sample(string device, Trajectory truth, DeviceProfile profile, LocalPlane plane, Random rng,
        DateTimeOffset? from = null, DateTimeOffset? until = null)
    {
        var fixes = new List<SentFix>();
        double zx = Normal(rng), zy = Normal(rng);
        long seq = 1 + rng.Next(1000);
        var t = (from ?? truth.Start) + TimeSpan.FromSeconds(rng.NextDouble() * profile.IntervalSeconds);
        var end = until ?? truth.End;
        DateTimeOffset? last = null;
        int multipathLeft = 0;
        Vec multipathOffset = default;
        double multipathAcc = 0;
        for (; t <= end; t += TimeSpan.FromSeconds(profile.IntervalSeconds))
        {
            if (last is { } previous)
            {
                double rho = Math.Exp(-(t - previous).TotalSeconds / profile.CorrelationSeconds);
                double innovation = Math.Sqrt(1 - rho * rho);
                zx = rho * zx + innovation * Normal(rng);
                zy = rho * zy + innovation * Normal(rng);
            }
            last = t;
            if (profile.Losses.Any(l => t >= l.From && t < l.To)) continue;

            var position = truth.At(t);
            var canyon = profile.Canyons.FirstOrDefault(c => t >= c.From && t < c.To);
            double acc = canyon?.Accuracy ?? (truth.SpeedAt(t) < 0.1 ? profile.StationaryAccuracy : profile.OpenAccuracy);
            acc *= Math.Exp(0.1 * Normal(rng)); // reported accuracy wobbles a little
            Vec error;
            if (multipathLeft == 0 && rng.NextDouble() < profile.MultipathPerHour * profile.IntervalSeconds / 3600)
            {
                // A reflection lasts a few seconds: at short intervals it spoils 1–3 fixes alike.
                multipathLeft = profile.IntervalSeconds < 10 && rng.NextDouble() < 0.4 ? rng.Next(2, 4) : 1;
                multipathOffset = Vec.FromAngle(rng.NextDouble() * 2 * Math.PI, 100 + 300 * rng.NextDouble());
                multipathAcc = 5 + 10 * rng.NextDouble();
            }
            bool multipath = multipathLeft > 0;
            if (canyon is not null)
            {
                // Honest overall: bias plus a smaller random part keep about 95 % within acc.
                double sigma = 0.8 * acc * SigmaPer95;
                error = canyon.Bias + new Vec(zx, zy) * sigma;
            }
            else error = new Vec(zx, zy) * (acc * SigmaPer95);
            if (multipath)
            {
                multipathLeft--;
                error = multipathOffset + new Vec(zx, zy) * 5;
                acc = multipathAcc * Math.Exp(0.1 * Normal(rng));
            }
            var measured = position + error;
            var (lat, lon) = plane.ToGeo(measured);

            var arrival = t + TimeSpan.FromSeconds(0.3 + 1.7 * rng.NextDouble());
            bool buffered = false;
            foreach (var gap in profile.StoreAndForward)
                if (t >= gap.From && t < gap.To)
                {
                    buffered = true;
                    // The backlog goes out as one burst (an array, oldest first) as soon as coverage returns.
                    arrival = gap.To + TimeSpan.FromSeconds(0.1 + 0.0002 * (t - gap.From).TotalSeconds);
                }
            if (!buffered && rng.NextDouble() < profile.ReorderRate)
                arrival += TimeSpan.FromSeconds(profile.IntervalSeconds * (1.2 + 1.3 * rng.NextDouble()));
            var fix = new SentFix(device, seq++, t, lat, lon, Math.Round(acc, 1), arrival, position, measured, multipath, buffered, false);
            fixes.Add(fix);
            if (rng.NextDouble() < profile.DuplicateRate)
                fixes.Add(fix with { Arrival = arrival + TimeSpan.FromSeconds(1 + 19 * rng.NextDouble()), Duplicate = true });
        }
        return fixes;
    }

    public static double Normal(Random rng)
    {
        double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
