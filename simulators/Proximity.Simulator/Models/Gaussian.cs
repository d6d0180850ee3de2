namespace Proximity.Simulator.Models;

internal static class RandomExtensions
{
    /// <summary>A standard normal sample (Box–Muller; one of the pair is discarded to keep no hidden state).</summary>
    public static double NextGaussian(this Random random)
    {
        double u1 = 1.0 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>True with the probability that a Poisson process of <paramref name="ratePerSecond"/> fires within <paramref name="seconds"/>.</summary>
    public static bool Happens(this Random random, double ratePerSecond, double seconds) =>
        ratePerSecond > 0 && random.NextDouble() < 1 - Math.Exp(-ratePerSecond * seconds);
}
