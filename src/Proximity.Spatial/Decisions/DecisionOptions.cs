namespace Proximity.Spatial.Decisions;

/// <summary>The tuning of breach decisions. The defaults follow the physics of consumer GPS error.</summary>
public sealed record DecisionOptions
{
    public static DecisionOptions Default { get; } = new();

    /// <summary>A possible breach raises an alert after this many consecutive fixes...</summary>
    public int PossibleFixes { get; init; } = 3;

    /// <summary>...or after lasting this long, whichever comes first, if the evidence leans to the violating side.</summary>
    public TimeSpan PossibleDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many standard errors the mean depth of a possible run must lie on the violating side.</summary>
    public double PersistenceZ { get; init; } = 1.5;

    /// <summary>GPS errors of fixes closer together than this are largely the same error, not new evidence.</summary>
    public TimeSpan ErrorCorrelationTime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The share of a fix's sigma that is bias lasting minutes (urban canyon, multipath): the floor of the
    /// standard error of a run's mean, however many fixes it has.</summary>
    public double PersistentBiasFraction { get; init; } = 0.4;

    /// <summary>An episode ends after the offender has been clearly out for this long...</summary>
    public TimeSpan ClearHold { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>...over at least this many fixes.</summary>
    public int ClearFixes { get; init; } = 2;

    /// <summary>"Clearly out": the best estimate lies this many sigma on the safe side.</summary>
    public double ClearZ { get; init; } = 2.45;

    /// <summary>Faster than this between fixes is impossible for a person (250 km/h): the fix is suspect.</summary>
    public double ImpossibleSpeedMetersPerSecond { get; init; } = 250 / 3.6;

    /// <summary>Acceleration a person in a car can reach: a jump beyond the last leg's speed plus this is suspect.</summary>
    public double PlausibleAccelerationMetersPerSecondSquared { get; init; } = 1.5;

    /// <summary>A fix farther than this acceleration (times dt²/2) off the line of the last leg is abrupt: it must be
    /// confirmed by the next fix before it can raise an alert on its own.</summary>
    public double TurnAccelerationMetersPerSecondSquared { get; init; } = 1.0;

    /// <summary>Implausible jumps that agree with each other become the track after this many fixes...</summary>
    public int SuspectChainFixesToConfirm { get; init; } = 4;

    /// <summary>...or after lasting this long (multipath reflections last seconds); three times as long for a run that stays
    /// where the jump landed.</summary>
    public TimeSpan SuspectChainTimeToConfirm { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Worst-case speed used to age an old position's uncertainty (a fast car).</summary>
    public double AgingSpeedMetersPerSecond { get; init; } = 40;

    /// <summary>Lowest movement speed assumed when weighing an old position as evidence (walking).</summary>
    public double TypicalSpeedFloorMetersPerSecond { get; init; } = 1.5;

    /// <summary>A partner position older than this cannot judge a contact ban.</summary>
    public TimeSpan MaxPartnerAge { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The path between two fixes at most this far apart in time is judged, not only its ends.</summary>
    public TimeSpan MaxPathGap { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How far a real route may stray from the straight line between two fixes, per metre of line.</summary>
    public double PathDeviationPerMeter { get; init; } = 0.05;

    /// <summary>Warn when the closing speed would bring the offender within the minimum distance this soon.</summary>
    public TimeSpan ApproachHorizon { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>This many separate impossible jumps within <see cref="JammingWindow"/> raise SuspectedJamming.</summary>
    public int SuspectFixesForJamming { get; init; } = 3;

    public TimeSpan JammingWindow { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>A fix arriving this much later than its device's fixes usually do is late (store-and-forward; see
    /// <see cref="Monitoring.ArrivalLateness"/>).</summary>
    public TimeSpan LateAfter { get; init; } = TimeSpan.FromSeconds(30);
}
