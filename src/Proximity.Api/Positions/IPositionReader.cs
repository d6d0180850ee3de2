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

/// <summary>Position history in memory: a bounded, time-ordered track per person.</summary>
public sealed class InMemoryPositionStore(int maxPerPerson = 20_000) : IPositionReader
{
    private readonly ConcurrentDictionary<string, Track> _tracks = new(StringComparer.Ordinal);

    /// <summary>Stores a fix of <paramref name="personId"/>; invalid fixes are refused, duplicates (same device and seq) ignored.</summary>
    public void Record(string personId, in PositionFix fix, DateTimeOffset receivedAt)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(personId);
        if (fix.Problem() is { } problem) throw new ArgumentException($"fix refused: {problem}", nameof(fix));
        var track = _tracks.GetOrAdd(personId, _ => new Track());
        lock (track)
        {
            track.Insert(new Stored(fix.DeviceId, fix.Seq, fix.Timestamp, fix.Latitude, fix.Longitude,
                fix.AccuracyMeters, fix.SpeedMetersPerSecond, fix.Source, receivedAt));
            track.TrimTo(maxPerPerson);
        }
    }

    public Task<PositionRecord?> LastAsync(string personId)
    {
        if (!_tracks.TryGetValue(personId, out var track)) return Task.FromResult<PositionRecord?>(null);
        lock (track) return Task.FromResult(track.Last()?.ToRecord(personId));
    }

    public Task<IReadOnlyList<PositionRecord>> TrackAsync(string personId, DateTimeOffset from, DateTimeOffset to, int limit)
    {
        if (!_tracks.TryGetValue(personId, out var track)) return Task.FromResult<IReadOnlyList<PositionRecord>>([]);
        lock (track)
        {
            var hits = track.All().Where(p => p.Timestamp >= from && p.Timestamp < to).ToList();
            if (hits.Count > limit) hits = hits.GetRange(hits.Count - limit, limit);
            return Task.FromResult<IReadOnlyList<PositionRecord>>([.. hits.Select(h => h.ToRecord(personId))]);
        }
    }

    // Kept as structs that refer only to long-lived strings: a record object per fix, reachable from the long-lived
    // tracks, would make every garbage collection trace the newest fixes of every person.
    private readonly record struct Stored(string DeviceId, long Seq, DateTimeOffset Timestamp, double Latitude, double Longitude,
        double AccuracyMeters, double? SpeedMetersPerSecond, FixSource Source, DateTimeOffset ReceivedAt)
    {
        public PositionRecord ToRecord(string personId) =>
            new(personId, DeviceId, Seq, Timestamp, Latitude, Longitude, AccuracyMeters, SpeedMetersPerSecond, Source, ReceivedAt);
    }

    /// <summary>
    /// One person's fixes in time order, in chunks of at most <see cref="ChunkSize"/>. A full chunk is never copied
    /// again: a single growing list was copied whole at every doubling, and each copy of every person's list had to
    /// survive a garbage collection (a fifth of the pause at 10 000 devices: README, "Live pipeline").
    /// </summary>
    private sealed class Track
    {
        private const int ChunkSize = 128;
        private readonly List<Chunk> _chunks = [new Chunk(8)];
        private int _count;

        private sealed class Chunk(int capacity)
        {
            public Stored[] Items = NewItems(capacity);
            public int Count;

            public void Grow()
            {
                var larger = NewItems(Items.Length * 2);
                Array.Copy(Items, larger, Count);
                Items = larger;
            }

            // A full-size chunk lives as long as the person's history: it goes to the pinned object heap, which only
            // full collections visit. Allocated young, each person's current chunk was copied by a young collection
            // and again by a gen-1 one (25 MB of them at 2 000 devices, a 40-55 ms pause: README, "End to end").
            private static Stored[] NewItems(int capacity) => GC.AllocateArray<Stored>(capacity, pinned: capacity >= ChunkSize);
        }

        public Stored? Last()
        {
            var chunk = _chunks[^1];
            return chunk.Count == 0 ? null : chunk.Items[chunk.Count - 1];
        }

        public IEnumerable<Stored> All()
        {
            foreach (var chunk in _chunks)
                for (int i = 0; i < chunk.Count; i++) yield return chunk.Items[i];
        }

        /// <summary>After every fix of the same time or earlier; nothing when the same device and seq is stored.</summary>
        public void Insert(in Stored record)
        {
            // Almost always the newest: look from the end.
            int c = _chunks.Count - 1;
            while (c > 0 && _chunks[c].Count > 0 && _chunks[c].Items[0].Timestamp > record.Timestamp) c--;
            var chunk = _chunks[c];
            int i = chunk.Count;
            while (i > 0 && chunk.Items[i - 1].Timestamp > record.Timestamp) i--;
            if (IsStoredAt(c, i, record)) return;

            if (chunk.Count == chunk.Items.Length)
            {
                if (chunk.Items.Length < ChunkSize) chunk.Grow();
                else if (i == chunk.Count && c == _chunks.Count - 1)
                {
                    chunk = new Chunk(ChunkSize);
                    _chunks.Add(chunk);
                    i = 0;
                }
                else (chunk, i) = Split(c, i);
            }
            Array.Copy(chunk.Items, i, chunk.Items, i + 1, chunk.Count - i);
            chunk.Items[i] = record;
            chunk.Count++;
            _count++;
        }

        /// <summary>Drops the oldest chunks while more than <paramref name="max"/> fixes and a chunk stay.</summary>
        public void TrimTo(int max)
        {
            int drop = 0;
            while (drop < _chunks.Count - 1 && _count - _chunks[drop].Count >= max) _count -= _chunks[drop++].Count;
            if (drop > 0) _chunks.RemoveRange(0, drop);
        }

        // Same time, same device and seq: looked for backwards from position i of chunk c, across chunks.
        private bool IsStoredAt(int c, int i, in Stored record)
        {
            for (; c >= 0; c--, i = c >= 0 ? _chunks[c].Count : 0)
                for (int j = i - 1; j >= 0; j--)
                {
                    ref readonly var stored = ref _chunks[c].Items[j];
                    if (stored.Timestamp != record.Timestamp) return false;
                    if (stored.DeviceId == record.DeviceId && stored.Seq == record.Seq) return true;
                }
            return false;
        }

        // A full chunk's upper half moves to a new chunk after it; returns where position i of chunk c now is.
        private (Chunk Chunk, int Index) Split(int c, int i)
        {
            var full = _chunks[c];
            var upper = new Chunk(ChunkSize) { Count = full.Count / 2 };
            Array.Copy(full.Items, full.Count - upper.Count, upper.Items, 0, upper.Count);
            Array.Clear(full.Items, full.Count - upper.Count, upper.Count);
            full.Count -= upper.Count;
            _chunks.Insert(c + 1, upper);
            return i <= full.Count ? (full, i) : (upper, i - full.Count);
        }
    }
}
