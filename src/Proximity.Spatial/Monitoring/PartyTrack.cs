using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Monitoring;

/// <summary>A kept fix and whether it was judged suspect (the saved form of a track point).</summary>
public sealed record TrackedFix(PositionFix Fix, bool Suspect);

/// <summary>A fix placed in the monitor's plane, with its trust.</summary>
public readonly record struct TrackPoint(PositionFix Fix, PlanePoint Position, bool Suspect)
{
    public DateTimeOffset At => Fix.Timestamp;
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
    private DateTimeOffset _chainStart;

    public PartyTrack(PlaneProjection plane, DecisionOptions options)
    {
        _plane = plane;
        _options = options;
    }

    public int Count => _count;

    public bool TryGetLastTrusted(out TrackPoint point)
    {
        if (_lastTrusted < 0) { point = default; return false; }
        point = _ring[_lastTrusted];
        return true;
    }

    /// <summary>The trusted point before the last trusted one (the start of the last leg).</summary>
    public bool TryGetPreviousTrusted(out TrackPoint point)
    {
        bool seenLast = false;
        for (int i = 0; i < _count; i++)
        {
            ref var p = ref _ring[Index(i)];
            if (p.Suspect) continue;
            if (!seenLast) { seenLast = true; continue; }
            point = p;
            return true;
        }
        point = default;
        return false;
    }

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
        bool suspect = false;
        StartedImpossibleJump = false;
        if (TryGetLastTrusted(out var trusted) && !Consistent(trusted, fix, position, out bool impossible))
        {
            suspect = true;
            if (_chainLength > 0 && _count > 0 && _ring[Index(0)].Suspect && Consistent(_ring[Index(0)], fix, position, out _))
            {
                _chainLength++;
            }
            else
            {
                _chainLength = 1;
                _chainStart = fix.Timestamp;
                StartedImpossibleJump = impossible;
            }
            if (_chainLength >= _options.SuspectChainFixesToConfirm ||
                (_chainLength >= 2 && fix.Timestamp - _chainStart >= _options.SuspectChainTimeToConfirm))
            {
                for (int i = 0; i < _chainLength - 1 && i < _count; i++) _ring[Index(i)] = _ring[Index(i)] with { Suspect = false };
                suspect = false;
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
        if (!suspect) _lastTrusted = _head;
        return point;
    }

    /// <summary>The kept points, oldest first (to save and restore the track).</summary>
    public IReadOnlyList<TrackedFix> Save()
    {
        var list = new TrackedFix[_count];
        for (int i = 0; i < _count; i++)
        {
            var p = _ring[Index(_count - 1 - i)];
            list[i] = new TrackedFix(p.Fix, p.Suspect);
        }
        return list;
    }

    public void Restore(IEnumerable<TrackedFix> points)
    {
        _count = 0;
        _lastTrusted = -1;
        _chainLength = 0;
        foreach (var p in points)
        {
            _head = (_head + 1) % Capacity;
            _ring[_head] = new TrackPoint(p.Fix, _plane.Project(p.Fix.Latitude, p.Fix.Longitude), p.Suspect);
            if (_count < Capacity) _count++;
            if (!p.Suspect) _lastTrusted = _head;
        }
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

    /// <summary>How fast the person moved over the last leg (a floor of walking speed).</summary>
    public double TypicalSpeed()
    {
        double floor = _options.TypicalSpeedFloorMetersPerSecond;
        if (!TryGetLastTrusted(out var last) || !TryGetPreviousTrusted(out var previous)) return floor;
        double dt = (last.At - previous.At).TotalSeconds;
        if (dt <= 0) return floor;
        double moved = Math.Max(0, _plane.DistanceMeters(last.Position, previous.Position) - last.Fix.AccuracyMeters - previous.Fix.AccuracyMeters);
        return Math.Clamp(moved / dt, floor, _options.AgingSpeedMetersPerSecond);
    }

    /// <summary>Can the move from one fix to the next be explained by the accuracies and the recent motion
    /// (speed of the last leg plus a car's acceleration), never faster than humanly possible?</summary>
    private bool Consistent(in TrackPoint from, in PositionFix fix, PlanePoint position, out bool impossible)
    {
        impossible = false;
        double dt = (fix.Timestamp - from.At).TotalSeconds;
        double gap = _plane.DistanceMeters(from.Position, position) - from.Fix.AccuracyMeters - fix.AccuracyMeters;
        if (gap <= 0) return true;
        if (dt <= 0) { impossible = true; return false; }
        impossible = gap / dt > _options.ImpossibleSpeedMetersPerSecond;
        double reach = TypicalSpeed() * dt + 0.5 * _options.PlausibleAccelerationMetersPerSecondSquared * dt * dt;
        return !impossible && gap <= reach;
    }

    /// <summary>Ring index of the i-th newest point (0 = newest).</summary>
    private int Index(int i) => (_head - i + Capacity) % Capacity;
}
