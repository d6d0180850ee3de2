namespace Proximity.Spatial.Decisions;

public enum EpisodeStep : byte { Nothing, Raised, Cleared }

public readonly record struct EvidenceSample(DateTimeOffset At, double Depth, double Weight);

/// <summary>What an <see cref="EpisodeTracker"/> must remember across a restart.</summary>
public sealed record TrackerState(
    bool IsOpen,
    DateTimeOffset OpenedAt,
    int RunLength,
    DateTimeOffset RunStart,
    DateTimeOffset ClearSince,
    int ClearCount,
    IReadOnlyList<EvidenceSample> Window);

/// <summary>Why an episode was raised.</summary>
public enum RaiseRule : byte
{
    /// <summary>One fix whose whole uncertainty region violates the ban.</summary>
    Certain,
    /// <summary>Possible breaches that persisted and, weighed together, lean to the violating side.</summary>
    Persistent,
    /// <summary>The path between two fixes crossed the limit with certainty.</summary>
    Path,
    /// <summary>The closing speed would bring the offender within the minimum distance soon.</summary>
    Approach,
}

/// <summary>
/// Turns a stream of observations of one ban into episodes: raise on a certain breach or on possible
/// breaches that persist; one episode per breach; end only after the offender has been clearly out for a
/// hold time. Allocation-free; one instance per ban and level (breach, warning).
/// </summary>
public sealed class EpisodeTracker
{
    private const int Window = 32;

    private readonly DecisionOptions _options;
    private readonly double[] _depth = new double[Window];
    private readonly double[] _weight = new double[Window];
    private readonly DateTimeOffset[] _at = new DateTimeOffset[Window];
    private int _count, _head;
    private int _runLength;
    private DateTimeOffset _runStart;
    private DateTimeOffset _clearSince;
    private int _clearCount;

    private readonly int _certainFixes;

    /// <param name="certainFixesToRaise">How many consecutive fixes centred on the violating side, the last certain, raise at once
    /// (2 where a one-fix delay costs nothing, as for a curfew).</param>
    public EpisodeTracker(DecisionOptions options, int certainFixesToRaise = 1)
    {
        _options = options;
        _certainFixes = certainFixesToRaise;
    }

    public bool IsOpen { get; private set; }
    public DateTimeOffset OpenedAt { get; private set; }
    public int RunLength => _runLength;
    public DateTimeOffset RunStart => _runStart;

    /// <summary>Inverse-variance weighted mean depth of the current run, and its standard error.</summary>
    public (double Mean, double StandardError) RunEvidence(DateTimeOffset now)
    {
        double sw = 0, swd = 0;
        for (int i = 0; i < _count; i++) { sw += _weight[i]; swd += _weight[i] * _depth[i]; }
        if (sw <= 0) return (0, double.PositiveInfinity);
        double mean = swd / sw;
        // Fixes closer in time than the error correlation time repeat the same error: count independent ones.
        int oldest = (_head - _count + Window) % Window;
        double span = Math.Max(0, (now - _at[oldest]).TotalSeconds);
        double independent = Math.Min(_count, 1 + span / _options.ErrorCorrelationTime.TotalSeconds);
        double se = Math.Sqrt(_count / sw / independent);
        // Part of GPS error is bias that lasts minutes (urban canyons, multipath): averaging cannot remove it.
        double bias = _options.PersistentBiasFraction * Math.Sqrt(_count / sw);
        return (mean, Math.Max(se, bias));
    }

    public EpisodeStep Observe(in Observation o) => IsOpen ? ObserveOpen(o) : ObserveClosed(o);

    /// <summary>The tracker's state, to survive a restart of the process that holds it.</summary>
    public TrackerState Save()
    {
        var window = new EvidenceSample[_count];
        for (int i = 0; i < _count; i++)
        {
            int k = (_head - _count + i + Window) % Window;
            window[i] = new EvidenceSample(_at[k], _depth[k], _weight[k]);
        }
        return new TrackerState(IsOpen, OpenedAt, _runLength, _runStart, _clearSince, _clearCount, window);
    }

    public void Restore(TrackerState state)
    {
        IsOpen = state.IsOpen;
        OpenedAt = state.OpenedAt;
        _runLength = state.RunLength;
        _runStart = state.RunStart;
        _clearSince = state.ClearSince;
        _clearCount = state.ClearCount;
        _count = 0;
        _head = 0;
        foreach (var s in state.Window.TakeLast(Window))
        {
            _depth[_head] = s.Depth;
            _weight[_head] = s.Weight;
            _at[_head] = s.At;
            _head = (_head + 1) % Window;
            _count++;
        }
    }

    /// <summary>Opens the episode without evidence of its own (a higher level already raised).</summary>
    public void ForceOpen(DateTimeOffset at)
    {
        if (IsOpen) return;
        IsOpen = true;
        OpenedAt = at;
        _clearCount = 0;
    }

    public void Close()
    {
        IsOpen = false;
        ResetRun();
        _clearCount = 0;
    }

    private EpisodeStep ObserveClosed(in Observation o)
    {
        if (o.Suspect) return EpisodeStep.Nothing; // a suspect fix is no evidence either way until confirmed
        // A possible fix clearly on the safe side, weighed as an open episode's end is, ends the run as one that cannot
        // violate does: a partner's aged position makes every fix for kilometres around "possible", and a run counted
        // from far away would weigh the approach against the moment of the breach. (A certain one outside is the
        // closing-speed warning: it raises.)
        if (o.Certainty == Certainty.None || (o.Certainty == Certainty.Possible && o.DepthMeters <= -_options.ClearZ * o.SigmaMeters))
        {
            ResetRun();
            return EpisodeStep.Nothing;
        }
        if (_runLength == 0) _runStart = o.At;
        _runLength++;
        bool confirmedBefore = LastDepthsViolate(_certainFixes - 1);
        Add(o);
        if (o.Certainty == Certainty.Certain && confirmedBefore) return Open(o.At);

        bool persisted = _runLength >= _options.PossibleFixes ||
                         (_runLength >= 2 && o.At - _runStart >= _options.PossibleDuration);
        if (!persisted) return EpisodeStep.Nothing;
        // Raised on a fix that itself leans to the violating side: one precise reflection can outweigh a run of poor
        // fixes in the weighed mean, and a fix centred on the safe side shows no breach now.
        if (!(o.DepthMeters > 0)) return EpisodeStep.Nothing;
        var (mean, se) = RunEvidence(o.At);
        return mean > _options.PersistenceZ * se ? Open(o.At) : EpisodeStep.Nothing;
    }

    private EpisodeStep ObserveOpen(in Observation o)
    {
        if (o.Suspect) return EpisodeStep.Nothing; // a suspect fix can neither clear nor extend on its own
        bool clearlyOut = o.Certainty == Certainty.None || o.DepthMeters <= -_options.ClearZ * o.SigmaMeters;
        if (!clearlyOut)
        {
            _clearCount = 0;
            return EpisodeStep.Nothing;
        }
        if (_clearCount == 0) _clearSince = o.At;
        _clearCount++;
        if (_clearCount >= _options.ClearFixes && o.At - _clearSince >= _options.ClearHold)
        {
            Close();
            return EpisodeStep.Cleared;
        }
        return EpisodeStep.Nothing;
    }

    private EpisodeStep Open(DateTimeOffset at)
    {
        IsOpen = true;
        OpenedAt = at;
        _clearCount = 0;
        return EpisodeStep.Raised;
    }

    /// <summary>Whether the last <paramref name="fixes"/> fixes of the run put the best estimate on the violating side:
    /// a possible fix centred on the safe side does not confirm a certain one (a reflection after it would raise).</summary>
    private bool LastDepthsViolate(int fixes)
    {
        if (fixes > _count) return false;
        for (int i = 1; i <= fixes; i++)
            if (!(_depth[(_head - i + Window) % Window] > 0)) return false;
        return true;
    }

    private void Add(in Observation o)
    {
        double sigma = Math.Max(o.SigmaMeters, 0.5);
        _depth[_head] = double.IsFinite(o.DepthMeters) ? o.DepthMeters : Math.CopySign(o.RadiusMeters * 3, o.DepthMeters);
        _weight[_head] = 1 / (sigma * sigma);
        _at[_head] = o.At;
        _head = (_head + 1) % Window;
        if (_count < Window) _count++;
    }

    private void ResetRun()
    {
        _runLength = 0;
        _count = 0;
        _head = 0;
    }
}
