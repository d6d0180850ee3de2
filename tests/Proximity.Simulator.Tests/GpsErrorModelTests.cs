using Proximity.Simulator.Models;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Tests;

public class GpsErrorModelTests
{
    private static readonly GpsErrorOptions NoMultipath = new() { MultipathPerHour = 0 };

    [Theory]
    [InlineData(SkyView.Open)]
    [InlineData(SkyView.UrbanCanyon)]
    public void Reported_accuracy_is_the_95_percent_radius_of_the_actual_error(SkyView view)
    {
        var model = new GpsErrorModel(NoMultipath, new Random(11));
        int n = 40_000, within = 0;
        double acc = 0;
        for (int i = 0; i < n; i++)
        {
            // Five correlation times apart: practically independent samples of the stationary error.
            model.Advance(5 * NoMultipath.CorrelationSeconds, view);
            var m = model.Measure(new PlanePoint(0, 0), view)!.Value;
            acc = m.AccuracyMeters;
            if (m.ErrorMeters <= m.AccuracyMeters) within++;
        }
        double share = within / (double)n;
        Assert.InRange(share, 0.94, 0.96);
        Assert.Equal(Math.Round(GpsErrorModel.Radius95PerSigma * model.Sigma(view), 1), acc);
        if (view == SkyView.UrbanCanyon) Assert.True(acc > 20, $"urban canyon accuracy {acc} m should be far worse than open sky");
    }

    [Fact]
    public void Error_is_correlated_over_time_like_a_first_order_Gauss_Markov_process()
    {
        var options = NoMultipath with { CorrelationSeconds = 20 };
        var model = new GpsErrorModel(options, new Random(5));
        int n = 200_000;
        var xs = new double[n];
        for (int i = 0; i < n; i++)
        {
            model.Advance(1, SkyView.Open);
            xs[i] = model.Measure(new PlanePoint(0, 0), SkyView.Open)!.Value.Position.X;
        }
        Assert.InRange(AutoCorrelation(xs, 1), Math.Exp(-1 / 20.0) - 0.02, Math.Exp(-1 / 20.0) + 0.02);
        Assert.InRange(AutoCorrelation(xs, 20), Math.Exp(-1) - 0.07, Math.Exp(-1) + 0.07);
        Assert.InRange(AutoCorrelation(xs, 200), -0.07, 0.07);
        // Stationary: the per-axis spread is the configured sigma.
        double sd = Math.Sqrt(xs.Select(x => x * x).Average());
        Assert.InRange(sd, options.SigmaMeters * 0.9, options.SigmaMeters * 1.1);
    }

    [Fact]
    public void A_multipath_jump_moves_the_position_without_changing_the_reported_accuracy()
    {
        var options = NoMultipath with { MultipathMinMeters = 80, MultipathMaxMeters = 100, MultipathMinSeconds = 10, MultipathMaxSeconds = 10 };
        var model = new GpsErrorModel(options, new Random(3));
        var before = model.Measure(new PlanePoint(0, 0), SkyView.Open)!.Value;
        model.StartMultipath();
        var during = model.Measure(new PlanePoint(0, 0), SkyView.Open)!.Value;
        Assert.Equal(before.AccuracyMeters, during.AccuracyMeters);
        Assert.True(during.ErrorMeters > 80 - 5 * options.SigmaMeters, $"error {during.ErrorMeters} m during multipath");
        model.Advance(11, SkyView.Open);
        Assert.False(model.InMultipath);
        Assert.True(model.Measure(new PlanePoint(0, 0), SkyView.Open)!.Value.ErrorMeters < 6 * options.SigmaMeters);
    }

    [Fact]
    public void Multipath_jumps_come_at_the_configured_rate()
    {
        var options = NoMultipath with { MultipathPerHour = 2, MultipathMinSeconds = 1, MultipathMaxSeconds = 1 };
        var model = new GpsErrorModel(options, new Random(8));
        int jumps = 0;
        bool was = false;
        for (int s = 0; s < 500 * 3600; s += 10)
        {
            model.Advance(10, SkyView.Open);
            if (model.InMultipath && !was) jumps++;
            was = model.InMultipath;
        }
        // 500 hours at 2 per hour: 1000 expected, Poisson sd ~32 (jumps shorter than a step still count once).
        Assert.InRange(jumps, 850, 1150);
    }

    [Fact]
    public void Indoors_there_is_no_GPS_fix_only_the_network_fallback()
    {
        var none = new GpsErrorModel(NoMultipath with { IndoorFallback = IndoorFallback.None }, new Random(1));
        Assert.Null(none.Measure(new PlanePoint(0, 0), SkyView.Indoor));

        var wifi = new GpsErrorModel(NoMultipath, new Random(1));
        var m = wifi.Measure(new PlanePoint(0, 0), SkyView.Indoor)!.Value;
        Assert.Equal("wifi", m.Source);
        Assert.Equal(Math.Round(GpsErrorModel.Radius95PerSigma * NoMultipath.WifiSigmaMeters, 1), m.AccuracyMeters);
    }

    private static double AutoCorrelation(double[] xs, int lag)
    {
        double mean = xs.Average();
        double num = 0, den = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double d = xs[i] - mean;
            den += d * d;
            if (i + lag < xs.Length) num += d * (xs[i + lag] - mean);
        }
        return num / den;
    }
}
