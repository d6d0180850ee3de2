using System.Collections.Concurrent;
using Proximity.Spatial.Decisions;

namespace Proximity.Api.Positions;

/// <summary>One stored fix of a person's device.</summary>
public sealed record PositionRecord(
    string PersonId,
    string DeviceId,
    long Seq,
    DateTimeOffset Timestamp,
    double Latitude,
    double Longitude,
    double AccuracyMeters,
    double? SpeedMetersPerSecond,
    FixSource Source,
    DateTimeOffset ReceivedAt);

/// <summary>Reads stored positions. Callers must audit every read (the API does).</summary>
public interface IPositionReader
{
    /// <summary>The newest fix by device time.</summary>
    Task<PositionRecord?> LastAsync(string personId);
    /// <summary>Fixes with <paramref name="from"/> ≤ time &lt; <paramref name="to"/>, oldest first, at most <paramref name="limit"/> (the newest).</summary>
    Task<IReadOnlyList<PositionRecord>> TrackAsync(string personId, DateTimeOffset from, DateTimeOffset to, int limit);
}

/// <summary>Position history in memory: a bounded, time-ordered list per person.</summary>
public sealed class InMemoryPositionStore(int maxPerPerson = 20_000) : IPositionReader
{
    // Kept as structs that refer only to long-lived strings: a record object per fix, reachable from the long-lived
    // lists, would make every garbage collection trace the newest fixes of every person.
    private readonly record struct Stored(string DeviceId, long Seq, DateTimeOffset Timestamp, double Latitude, double Longitude,
        double AccuracyMeters, double? SpeedMetersPerSecond, FixSource Source, DateTimeOffset ReceivedAt)
    {
        public PositionRecord ToRecord(string personId) =>
            new(personId, DeviceId, Seq, Timestamp, Latitude, Longitude, AccuracyMeters, SpeedMetersPerSecond, Source, ReceivedAt);
    }

    private readonly ConcurrentDictionary<string, List<Stored>> _tracks = new(StringComparer.Ordinal);

    /// <summary>Stores a fix of <paramref name="personId"/>; invalid fixes are refused, duplicates (same device and seq) ignored.</summary>
    public void Record(string personId, in PositionFix fix, DateTimeOffset receivedAt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(personId);
        if (fix.Problem() is { } problem) throw new ArgumentException($"fix refused: {problem}", nameof(fix));
        var record = new Stored(fix.DeviceId, fix.Seq, fix.Timestamp, fix.Latitude, fix.Longitude,
            fix.AccuracyMeters, fix.SpeedMetersPerSecond, fix.Source, receivedAt);
        var list = _tracks.GetOrAdd(personId, _ => []);
        lock (list)
        {
            int i = list.Count;
            while (i > 0 && list[i - 1].Timestamp > record.Timestamp) i--;
            for (int j = i - 1; j >= 0 && list[j].Timestamp == record.Timestamp; j--)
                if (list[j].DeviceId == record.DeviceId && list[j].Seq == record.Seq) return;
            list.Insert(i, record);
            // Trimmed in chunks: removing one record from the front of a full list moves all the others.
            if (list.Count > maxPerPerson + maxPerPerson / 8) list.RemoveRange(0, list.Count - maxPerPerson);
        }
    }

    public Task<PositionRecord?> LastAsync(string personId)
    {
        if (!_tracks.TryGetValue(personId, out var list)) return Task.FromResult<PositionRecord?>(null);
        lock (list) return Task.FromResult(list.Count == 0 ? null : list[^1].ToRecord(personId));
    }

    public Task<IReadOnlyList<PositionRecord>> TrackAsync(string personId, DateTimeOffset from, DateTimeOffset to, int limit)
    {
        if (!_tracks.TryGetValue(personId, out var list)) return Task.FromResult<IReadOnlyList<PositionRecord>>([]);
        lock (list)
        {
            var hits = list.Where(p => p.Timestamp >= from && p.Timestamp < to).ToList();
            if (hits.Count > limit) hits = hits.GetRange(hits.Count - limit, limit);
            return Task.FromResult<IReadOnlyList<PositionRecord>>([.. hits.Select(h => h.ToRecord(personId))]);
        }
    }
}
