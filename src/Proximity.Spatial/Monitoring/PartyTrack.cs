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
    private const int Capacity = 64;
    private readonly TrackPoint[] _ring = new TrackPoint[Capacity];
    private readonly PlaneProjection _plane;
    private readonly DecisionOptions _options;
    private int _count, _head;
    private int _lastTrusted = -1;

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

    /// <summary>Adds a fix newer than every fix so far and says whether it is suspect.</summary>
    public TrackPoint Add(in PositionFix fix)
    {
        var position = _plane.Project(fix.Latitude, fix.Longitude);
        bool suspect = false;
        if (TryGetLastTrusted(out var trusted) && !Plausible(trusted, fix, position))
        {
            suspect = true;
            // Two consecutive fixes that agree with each other and not with the old position: the jump was real.
            if (_count > 0 && _ring[Index(0)] is { Suspect: true } previous && Plausible(previous, fix, position))
            {
                _ring[Index(0)] = previous with { Suspect = false };
                suspect = false;
            }
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

    private bool Plausible(in TrackPoint from, in PositionFix fix, PlanePoint position)
    {
        double dt = (fix.Timestamp - from.At).TotalSeconds;
        double gap = _plane.DistanceMeters(from.Position, position) - from.Fix.AccuracyMeters - fix.AccuracyMeters;
        if (gap <= 0) return true;
        return dt > 0 && gap / dt <= _options.ImpossibleSpeedMetersPerSecond;
    }

    /// <summary>Ring index of the i-th newest point (0 = newest).</summary>
    private int Index(int i) => (_head - i + Capacity) % Capacity;
}
