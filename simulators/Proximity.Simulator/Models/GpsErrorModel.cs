using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Models;

/// <summary>Where the receiver is, as far as its sky view is concerned.</summary>
public enum SkyView { Open, UrbanCanyon, Indoor }

public sealed record GpsErrorOptions
{
    /// <summary>Standard deviation of the error per horizontal axis under open sky, metres.</summary>
    public double SigmaMeters { get; init; } = 2.5;

    /// <summary>Correlation time of the error (first-order Gauss–Markov): consecutive fixes share most of their error.</summary>
    public double CorrelationSeconds { get; init; } = 30;

    /// <summary>Error multiplier in urban canyons (reflections and blocked satellites).</summary>
    public double UrbanCanyonFactor { get; init; } = 4;

    /// <summary>Rare multipath jumps per hour under open sky; several times more in urban canyons.</summary>
    public double MultipathPerHour { get; init; } = 0.5;

    public double MultipathUrbanFactor { get; init; } = 6;

    public double MultipathMinMeters { get; init; } = 40;
    public double MultipathMaxMeters { get; init; } = 150;
    public double MultipathMinSeconds { get; init; } = 5;
    public double MultipathMaxSeconds { get; init; } = 30;

    /// <summary>Without a GPS fix indoors: positioning from Wi-Fi (σ ≈ 15 m) or cell towers (σ ≈ 250 m), or none.</summary>
    public IndoorFallback IndoorFallback { get; init; } = IndoorFallback.Wifi;

    public double WifiSigmaMeters { get; init; } = 15;
    public double CellSigmaMeters { get; init; } = 250;

    public string? Problem()
    {
        if (!(SigmaMeters > 0 && SigmaMeters < 10_000)) return "gps.sigmaMeters must be between 0 and 10000";
        if (!(CorrelationSeconds > 0)) return "gps.correlationSeconds must be positive";
        if (!(UrbanCanyonFactor >= 1)) return "gps.urbanCanyonFactor must be at least 1";
        if (!(MultipathPerHour >= 0)) return "gps.multipathPerHour must not be negative";
        if (!(MultipathMinMeters >= 0 && MultipathMaxMeters >= MultipathMinMeters)) return "gps multipath metres: need 0 <= min <= max";
        if (!(MultipathMinSeconds > 0 && MultipathMaxSeconds >= MultipathMinSeconds)) return "gps multipath seconds: need 0 < min <= max";
        return null;
    }
}

public enum IndoorFallback { None, Wifi, Cell }

/// <summary>A measured position: what the device reports, and the truth it misses by.</summary>
public readonly record struct MeasuredPosition(PlanePoint Position, double AccuracyMeters, string Source, double ErrorMeters);

/// <summary>
/// GPS error as a first-order Gauss–Markov process per axis: e(t+dt) = φ e(t) + √(1−φ²) σ w with
/// φ = exp(−dt/τ), so the error is stationary with standard deviation σ and autocorrelation exp(−lag/τ),
/// like a real receiver whose error wanders slowly instead of jumping independently every fix. The reported
/// accuracy is the 95 % radius of a circular normal error, σ·√(−2 ln 0.05) ≈ 2.448 σ. Multipath jumps are
/// not reflected in the reported accuracy (a receiver does not know about them), which is what makes them
/// dangerous.
/// </summary>
public sealed class GpsErrorModel(GpsErrorOptions options, Random random)
{
    /// <summary>R95 / σ for a circular bivariate normal: √(−2 ln 0.05).</summary>
    public static readonly double Radius95PerSigma = Math.Sqrt(-2 * Math.Log(0.05));

    // The normalised (unit-variance) state, scaled by the current sky view's σ: changing sky view changes the
    // size of the error, not its direction, so it stays correlated across the change.
    private double _ux = random.NextGaussian();
    private double _uy = random.NextGaussian();
    private double _jumpX, _jumpY, _jumpLeft;

    public GpsErrorOptions Options { get; } = options;

    public bool InMultipath => _jumpLeft > 0;

    /// <summary>Advances the error process by <paramref name="seconds"/> (exact for any step).</summary>
    public void Advance(double seconds, SkyView view)
    {
        if (seconds <= 0) return;
        double phi = Math.Exp(-seconds / Options.CorrelationSeconds);
        double noise = Math.Sqrt(1 - phi * phi);
        _ux = phi * _ux + noise * random.NextGaussian();
        _uy = phi * _uy + noise * random.NextGaussian();

        if (_jumpLeft > 0) _jumpLeft = Math.Max(0, _jumpLeft - seconds);
        double rate = Options.MultipathPerHour / 3600 * (view == SkyView.UrbanCanyon ? Options.MultipathUrbanFactor : 1);
        if (_jumpLeft <= 0 && view != SkyView.Indoor && random.Happens(rate, seconds)) StartMultipath();
    }

    /// <summary>Forces a multipath jump now (scripted).</summary>
    public void StartMultipath()
    {
        double size = Options.MultipathMinMeters + random.NextDouble() * (Options.MultipathMaxMeters - Options.MultipathMinMeters);
        double angle = random.NextDouble() * 2 * Math.PI;
        _jumpX = size * Math.Cos(angle);
        _jumpY = size * Math.Sin(angle);
        _jumpLeft = Options.MultipathMinSeconds + random.NextDouble() * (Options.MultipathMaxSeconds - Options.MultipathMinSeconds);
    }

    /// <summary>The current standard deviation per axis for a sky view.</summary>
    public double Sigma(SkyView view) => view == SkyView.UrbanCanyon ? Options.SigmaMeters * Options.UrbanCanyonFactor : Options.SigmaMeters;

    /// <summary>Measures the true position; null indoors without a fallback.</summary>
    public MeasuredPosition? Measure(PlanePoint truth, SkyView view)
    {
        if (view == SkyView.Indoor)
        {
            double s = Options.IndoorFallback switch
            {
                IndoorFallback.Wifi => Options.WifiSigmaMeters,
                IndoorFallback.Cell => Options.CellSigmaMeters,
                _ => 0,
            };
            if (s <= 0) return null;
            // Network positioning errors are independent of the GNSS error process.
            double ex = s * random.NextGaussian(), ey = s * random.NextGaussian();
            return new MeasuredPosition(new PlanePoint(truth.X + ex, truth.Y + ey), Math.Round(Radius95PerSigma * s, 1),
                Options.IndoorFallback == IndoorFallback.Wifi ? "wifi" : "cell", Math.Sqrt(ex * ex + ey * ey));
        }
        double sigma = Sigma(view);
        double x = _ux * sigma + (_jumpLeft > 0 ? _jumpX : 0);
        double y = _uy * sigma + (_jumpLeft > 0 ? _jumpY : 0);
        return new MeasuredPosition(new PlanePoint(truth.X + x, truth.Y + y), Math.Round(Radius95PerSigma * sigma, 1), "gps", Math.Sqrt(x * x + y * y));
    }
}
