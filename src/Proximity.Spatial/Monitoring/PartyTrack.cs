using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Monitoring;

/// <summary>A kept fix and whether it was judged suspect (the saved form of a track point).</summary>
public sealed record TrackedFix(PositionFix Fix, bool Suspect);

/// <summary>
/// A fix placed in the monitor's plane, with its trust. It keeps only what judging and evidence need, not the
/// whole <see cref="PositionFix"/> with its optional fields: points are copied on every judgement.
/// </summary>
public readonly record struct TrackPoint(
    string DeviceId,
    long Seq,
    DateTimeOffset At,
    double Latitude,
    double Longitude,
    double AccuracyMeters,
    PlanePoint Position,
    bool Suspect)
{
    public TrackPoint(in PositionFix fix, PlanePoint position, bool suspect)
        : this(fix.DeviceId, fix.Seq, fix.Timestamp, fix.Latitude, fix.Longitude, fix.AccuracyMeters, position, suspect)
    {
    }

    /// <summary>The fix as far as decisions use it (speed, heading, battery and source are not kept).</summary>
    public PositionFix ToFix() => new(DeviceId, Seq, At, Latitude, Longitude, AccuracyMeters);
}

/// <summary>
/// The recent positions of one person (offender or victim) in time order, flagging impossible jumps as
/// suspect. A suspect fix becomes trusted when the next fix confirms it (the jump was real) and stays
/// suspect when the next fix agrees with the old trusted position (it was multipath or spoofing).
/// </summary>
public sealed class PartyTrack
{
    private const int Capacity = 128;
    private readonly TrackPoint[] _ring = new TrackPoint[Capacity];
    private readonly PlaneProjection _plane;
    private readonly DecisionOptions _options;
    private int _count, _head;
    private int _lastTrusted = -1;
    private int _chainLength;
    private int _previousTrusted = -1;
    private double _typicalSpeed;
    private bool _chainNeedsLong;
    private bool _lastJumpImpossible;
    private TrackPoint _chainFirst;
    private int _justConfirmed, _beforeChain = -1;

    public PartyTrack(PlaneProjection plane, DecisionOptions options)
    {
        _plane = plane;
        _options = options;
        _typicalSpeed = options.TypicalSpeedFloorMetersPerSecond;
    }

    public int Count => _count;

    public bool TryGetLastTrusted(out TrackPoint point)
    {
        if (_lastTrusted < 0) { point = default; return false; }
        point = _ring[_lastTrusted];
        return true;
    }

    /// <summary>The last leg: the trusted point before the last trusted one, and the last.</summary>
    public bool TryGetLastLeg(out TrackPoint from, out TrackPoint to)
    {
        int previous = PreviousTrustedIndex();
        if (previous < 0) { from = to = default; return false; }
        from = _ring[previous];
        to = _ring[_lastTrusted];
        return true;
    }

    /// <summary>Ring index of the trusted point before the last trusted one (the start of the last leg), or -1.</summary>
    private int PreviousTrustedIndex()
    {
        if (_lastTrusted < 0) return -1;
        if (_previousTrusted >= 0)
        {
            ref readonly var p = ref _ring[_previousTrusted];
            if (!p.Suspect && p.At < _ring[_lastTrusted].At) return _previousTrusted;
        }
        bool seenLast = false;
        for (int i = 0; i < _count; i++)
        {
            int k = Index(i);
            if (_ring[k].Suspect) continue;
            if (!seenLast) { seenLast = true; continue; }
            return _previousTrusted = k;
        }
        return -1;
    }

    /// <summary>True when the last fix added went back to where the person was before a run of fixes just believed,
    /// which is doubted again (a reflection that lasted): no path leads from that run to this fix.</summary>
    public bool ReturnedFromReflection { get; private set; }

    /// <summary>True when the last fix added began a new run of physically impossible jumps.</summary>
    public bool StartedImpossibleJump { get; private set; }

    /// <summary>
    /// Adds a fix newer than every fix so far and says whether it is suspect: a jump from the last trusted
    /// position that the person's recent motion cannot explain. Suspect fixes that agree with each other
    /// become the track once they have lasted (a reflection lasts seconds; a real relocation does not end).
    /// </summary>
    public TrackPoint Add(in PositionFix fix)
    {
        var position = _plane.Project(fix.Latitude, fix.Longitude);
        bool suspect = false, confirmedChain = false;
        StartedImpossibleJump = false;
        bool chainOpen = _chainLength > 0 && _count > 0 && _ring[Index(0)].Suspect;
        var jump = _lastTrusted >= 0 ? Judge(_ring[_lastTrusted], fix, position) : Jump.None;
        int justConfirmed = _justConfirmed;
        _justConfirmed = 0;
        ReturnedFromReflection = justConfirmed > 0 && jump != Jump.None && _beforeChain >= 0 &&
                                 ReturnsTo(_beforeChain, _ring[_lastTrusted], fix, position);
        if (ReturnedFromReflection)
        {
            DoubtAgain(justConfirmed);
            jump = Jump.None;
        }
        // A fix that stays with a run of suspect fixes, not with the trusted track, shares their doubt, even when the time
        // passed since the last trusted fix would let the person reach it: three reflections alike are still reflections.
        bool staysWithChain = chainOpen && jump == Jump.None && WithinWalk(_ring[Index(0)], fix, position) &&
                              !WithinWalk(_ring[_lastTrusted], fix, position);
        if (jump != Jump.None || staysWithChain)
        {
            suspect = true;
            if (chainOpen && (staysWithChain || ContinuesChain(fix, position)))
            {
                _chainLength++;
            }
            else
            {
                _chainLength = 1;
                _chainFirst = new TrackPoint(fix, position, true);
                _chainNeedsLong = jump == Jump.Implausible;
                StartedImpossibleJump = _lastJumpImpossible;
            }
            if (ChainConfirmed(fix, position))
            {
                for (int i = 0; i < _chainLength - 1 && i < _count; i++) _ring[Index(i)] = _ring[Index(i)] with { Suspect = false };
                suspect = false;
                confirmedChain = true;
                _justConfirmed = _chainLength;
                _beforeChain = _lastTrusted;
                _chainLength = 0;
            }
        }
        else
        {
            _chainLength = 0;
        }
        var point = new TrackPoint(fix, position, suspect);
        _head = (_head + 1) % Capacity;
        _ring[_head] = point;
        if (_count < Capacity) _count++;
        if (!suspect)
        {
            _previousTrusted = confirmedChain ? -1 : _lastTrusted;
            _lastTrusted = _head;
            _typicalSpeed = MeasureTypicalSpeed();
        }
        return point;
    }

    /// <summary>
    /// Whether the run of suspect fixes, this one included, has lasted long enough to be the track: a run after an
    /// abrupt turn at its second fix; after an implausible jump at 4 fixes, or after 20 s, or 60 s if it stays where the
    /// jump landed (nobody travels there and stands still in seconds; reflections off one wall last tens of seconds).
    /// </summary>
    private bool ChainConfirmed(in PositionFix fix, PlanePoint position)
    {
        if (!_chainNeedsLong) return _chainLength >= 2;
        if (_chainLength >= _options.SuspectChainFixesToConfirm) return true;
        var lasted = fix.Timestamp - _chainFirst.At;
        var needed = WithinWalk(_chainFirst, fix, position) ? 3 * _options.SuspectChainTimeToConfirm : _options.SuspectChainTimeToConfirm;
        return _chainLength >= 2 && lasted >= needed;
    }

    /// <summary>The run just believed was a reflection that lasted: its fixes are suspect again and the track goes on from
    /// the trusted fix before it.</summary>
    private void DoubtAgain(int runLength)
    {
        for (int i = 0; i < runLength && i < _count; i++) _ring[Index(i)] = _ring[Index(i)] with { Suspect = true };
        _lastTrusted = _beforeChain;
        _previousTrusted = -1;
    }

    /// <summary>Whether a fix is where an earlier one was, give or take the accuracies and a walk since.</summary>
    private bool WithinWalk(in TrackPoint earlier, in PositionFix fix, PlanePoint position) =>
        PlaneProjection.SurelyWithin(earlier.Position, position, earlier.AccuracyMeters + fix.AccuracyMeters +
            _options.TypicalSpeedFloorMetersPerSecond * (fix.Timestamp - earlier.At).TotalSeconds);

    /// <summary>
    /// Whether a fix is straight back on the track the person was on before a jump: where their motion before it leads
    /// (dead reckoning from the last leg, standing still without one), give or take the accuracies and a quarter of the
    /// jump. A real drive on from the new place rarely ends there.
    /// </summary>
    private bool ReturnsTo(int before, in TrackPoint jumpedTo, in PositionFix fix, PlanePoint position)
    {
        ref readonly var from = ref _ring[before];
        var predicted = from.Position;
        for (int i = 0; i < _count; i++)
        {
            int k = Index(i);
            ref readonly var p = ref _ring[k];
            if (p.Suspect || p.At >= from.At) continue;
            if ((from.At - p.At).TotalSeconds <= 120) predicted = DeadReckon(p, from, (fix.Timestamp - from.At).TotalSeconds);
            break;
        }
        return PlaneProjection.SurelyWithin(predicted, position,
            from.AccuracyMeters + fix.AccuracyMeters + from.Position.DistanceTo(jumpedTo.Position) / 4);
    }

    /// <summary>The kept points, oldest first (to save and restore the track).</summary>
    public IReadOnlyList<TrackedFix> Save()
    {
        var list = new TrackedFix[_count];
        for (int i = 0; i < _count; i++)
        {
            var p = _ring[Index(_count - 1 - i)];
            list[i] = new TrackedFix(p.ToFix(), p.Suspect);
        }
        return list;
    }

    public void Restore(IEnumerable<TrackedFix> points)
    {
        _count = 0;
        _lastTrusted = -1;
        _previousTrusted = -1;
        _chainLength = 0;
        _justConfirmed = 0;
        foreach (var p in points)
        {
            _head = (_head + 1) % Capacity;
            _ring[_head] = new TrackPoint(p.Fix, _plane.Project(p.Fix.Latitude, p.Fix.Longitude), p.Suspect);
            if (_count < Capacity) _count++;
            if (!p.Suspect) _lastTrusted = _head;
        }
        _typicalSpeed = MeasureTypicalSpeed();
    }

    /// <summary>Up to <paramref name="max"/> trusted points from before an instant, oldest first.</summary>
    public IReadOnlyList<TrackedFix> TrustedBefore(DateTimeOffset at, int max)
    {
        var found = new List<TrackedFix>(max);
        for (int i = 0; i < _count && found.Count < max; i++)
        {
            ref readonly var p = ref _ring[Index(i)];
            if (!p.Suspect && p.At < at) found.Add(new TrackedFix(p.ToFix(), false));
        }
        found.Reverse();
        return found;
    }

    /// <summary>The trusted point nearest in time to an instant, preferring the latest one at or before it.</summary>
    public bool TryGetNearestTrusted(DateTimeOffset at, out TrackPoint point)
    {
        point = default;
        bool found = false;
        TimeSpan best = TimeSpan.MaxValue;
        for (int i = 0; i < _count; i++)
        {
            ref var p = ref _ring[Index(i)];
            if (p.Suspect) continue;
            var gap = p.At <= at ? at - p.At : p.At - at;
            if (gap < best || (gap == best && p.At <= at)) { best = gap; point = p; found = true; }
            if (p.At <= at) break; // older ones are farther away
        }
        return found;
    }

    /// <summary>How fast the person moved over the last leg (a floor of walking speed); kept per added fix.</summary>
    public double TypicalSpeed() => _typicalSpeed;

    private double MeasureTypicalSpeed()
    {
        double floor = _options.TypicalSpeedFloorMetersPerSecond;
        int previousIndex = PreviousTrustedIndex();
        if (previousIndex < 0) return floor;
        ref readonly var last = ref _ring[_lastTrusted];
        ref readonly var previous = ref _ring[previousIndex];
        double dt = (last.At - previous.At).TotalSeconds;
        if (dt <= 0) return floor;
        // Within the newest fix's accuracy nothing is counted as moved (the exact measure would give 0 as well).
        double moved = PlaneProjection.SurelyWithin(last.Position, previous.Position, last.AccuracyMeters)
            ? 0
            : Math.Max(0, _plane.DistanceMeters(last.Position, previous.Position) - last.AccuracyMeters - previous.AccuracyMeters);
        return Math.Clamp(moved / dt, floor, _options.AgingSpeedMetersPerSecond);
    }

    private enum Jump { None, Abrupt, Implausible }

    /// <summary>
    /// How the move from one fix to the next compares with the person's motion. Implausible: farther than the
    /// last leg's speed plus a car's acceleration can carry (or faster than humanly possible). Abrupt: possible
    /// in distance, but far off the line the last leg was heading along (a reflection sideways; a real turn is
    /// confirmed by the next fix).
    /// </summary>
    private Jump Judge(in TrackPoint from, in PositionFix fix, PlanePoint position)
    {
        _lastJumpImpossible = false;
        double dt = (fix.Timestamp - from.At).TotalSeconds;
        double accuracies = from.AccuracyMeters + fix.AccuracyMeters;
        if (PlaneProjection.SurelyWithin(from.Position, position, accuracies)) return Jump.None; // a move within the accuracies
        double gap = _plane.DistanceMeters(from.Position, position) - accuracies;
        if (gap <= 0) return Jump.None;
        if (dt <= 0) { _lastJumpImpossible = true; return Jump.Implausible; }
        _lastJumpImpossible = gap / dt > _options.ImpossibleSpeedMetersPerSecond;
        double acceleration = _options.PlausibleAccelerationMetersPerSecondSquared;
        if (_lastJumpImpossible || gap > TypicalSpeed() * dt + 0.5 * acceleration * dt * dt) return Jump.Implausible;

        // Dead reckoning from the leg that ended at the last trusted fix.
        int previousIndex = PreviousTrustedIndex();
        if (previousIndex < 0 || _ring[_lastTrusted].At != from.At) return Jump.None;
        ref readonly var last = ref _ring[_lastTrusted];
        ref readonly var previous = ref _ring[previousIndex];
        double legSeconds = (last.At - previous.At).TotalSeconds;
        if (legSeconds <= 0 || legSeconds > 120) return Jump.None;
        double speedError = Math.Min((last.AccuracyMeters + previous.AccuracyMeters) / legSeconds, 5);
        var predicted = DeadReckon(previous, last, dt);
        double deviation = _plane.DistanceMeters(predicted, position) - accuracies - speedError * dt;
        // Turning or braking bends the path by at most a few seconds of hard manoeuvre plus half the distance the
        // person covers at their usual pace; a reflection sideways or a sudden departure goes beyond that.
        double manoeuvre = Math.Min(dt, 10);
        double allowed = 10 + 0.5 * TypicalSpeed() * dt + 0.5 * _options.TurnAccelerationMetersPerSecondSquared * manoeuvre * manoeuvre;
        return deviation > allowed ? Jump.Abrupt : Jump.None;
    }

    /// <summary>
    /// Whether a fix suspect against the last trusted one continues the run of suspect fixes before it: it stays near
    /// the newest of them at the person's usual pace (a relocation that stops), or it goes on along the run's own
    /// motion (a car pulling away from where it was parked outruns the parked person's pace at every fix, and each of
    /// its fixes follows from the one before at the car's speed). Reflections jump about and do neither for long.
    /// </summary>
    private bool ContinuesChain(in PositionFix fix, PlanePoint position)
    {
        ref readonly var newest = ref _ring[Index(0)];
        if (Judge(newest, fix, position) != Jump.Implausible) return true;
        ref readonly var before = ref _chainLength >= 2 && _count >= 2 ? ref _ring[Index(1)] : ref _ring[_lastTrusted];
        double legSeconds = (newest.At - before.At).TotalSeconds, dt = (fix.Timestamp - newest.At).TotalSeconds;
        if (legSeconds <= 0 || dt <= 0) return false;
        double accuracies = newest.AccuracyMeters + fix.AccuracyMeters;
        if ((_plane.DistanceMeters(newest.Position, position) - accuracies) / dt > _options.ImpossibleSpeedMetersPerSecond) return false;
        var predicted = DeadReckon(before, newest, dt);
        double speedError = (newest.AccuracyMeters + before.AccuracyMeters) / legSeconds;
        double deviation = _plane.DistanceMeters(predicted, position) - accuracies - speedError * dt;
        return deviation <= 10 + 0.5 * _options.PlausibleAccelerationMetersPerSecondSquared * dt * dt;
    }

    /// <summary>Where the leg from <paramref name="previous"/> to <paramref name="last"/> leads <paramref name="seconds"/> after it, at its speed.</summary>
    private static PlanePoint DeadReckon(in TrackPoint previous, in TrackPoint last, double seconds)
    {
        double legSeconds = (last.At - previous.At).TotalSeconds;
        return new PlanePoint(last.Position.X + (last.Position.X - previous.Position.X) / legSeconds * seconds,
            last.Position.Y + (last.Position.Y - previous.Position.Y) / legSeconds * seconds);
    }

    /// <summary>Ring index of the i-th newest point (0 = newest).</summary>
    private int Index(int i) => (_head - i + Capacity) % Capacity;
}
