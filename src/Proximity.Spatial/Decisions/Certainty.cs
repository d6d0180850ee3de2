namespace Proximity.Spatial.Decisions;

/// <summary>How much of a position's uncertainty region violates a ban.</summary>
public enum Certainty : byte
{
    /// <summary>No part of the uncertainty region violates the ban.</summary>
    None,
    /// <summary>Some but not all of it does.</summary>
    Possible,
    /// <summary>All of it does.</summary>
    Certain,
}

/// <summary>
/// One judgement of one ban at one instant. Depth is signed and in metres: how far the best estimate lies
/// on the violating side of the limit (negative: on the safe side). Radius is the worst-case uncertainty
/// (95 % accuracy of each fix plus what an old fix may have moved); sigma is the one-sigma spread of the
/// depth used to weigh evidence over several fixes.
/// </summary>
public readonly record struct Observation(
    Certainty Certainty,
    double DepthMeters,
    double RadiusMeters,
    double SigmaMeters,
    DateTimeOffset At,
    bool Suspect)
{
    /// <summary>The 95 % accuracy radius of a two-dimensional normal error is 2.45 sigma.</summary>
    public const double SigmaPer95Radius = 1 / 2.4477;

    public static Certainty Classify(double depthMeters, double radiusMeters) =>
        depthMeters >= radiusMeters ? Certainty.Certain
        : depthMeters > -radiusMeters ? Certainty.Possible
        : Certainty.None;
}
