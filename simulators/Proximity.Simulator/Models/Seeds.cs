namespace Proximity.Simulator.Models;

/// <summary>Deterministic seeds for the random streams of a run (HashCode.Combine differs per process).</summary>
public static class Seeds
{
    public static int For(int seed, int stream, int purpose = 0)
    {
        ulong x = (ulong)(uint)seed * 0x9E3779B97F4A7C15UL ^ (ulong)(uint)stream * 0xBF58476D1CE4E5B9UL ^ (ulong)(uint)purpose * 0x94D049BB133111EBUL;
        x ^= x >> 31;
        x *= 0xD6E8FEB86659FD93UL;
        x ^= x >> 32;
        return (int)(x & 0x7FFFFFFF);
    }
}
