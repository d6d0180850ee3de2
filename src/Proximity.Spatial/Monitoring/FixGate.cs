namespace Proximity.Spatial.Monitoring;

public enum FixAdmission : byte
{
    /// <summary>New and newest: evaluate it.</summary>
    Accepted,
    /// <summary>Same device and sequence number as one already received: drop it.</summary>
    Duplicate,
    /// <summary>Older than the newest fix already evaluated for that person: history; it must not move the
    /// current position backwards (judge it with <c>OffenderMonitor.OnOffenderBackfill</c>).</summary>
    Stale,
}

/// <summary>Sequence numbers <see cref="From"/>..<see cref="To"/> (inclusive), all seen.</summary>
public readonly record struct SeqRange(long From, long To);

/// <summary>What a <see cref="FixGate"/> has seen, as plain data that serialises to JSON: per device the sequence
/// numbers seen within its window, as ranges (a device reporting in order has one), and the newest evaluated time.</summary>
public sealed record FixGateState(DateTimeOffset NewestEvaluated, IReadOnlyDictionary<string, IReadOnlyList<SeqRange>> Seen);

/// <summary>
/// Admits a person's fixes in time order: drops duplicates by sequence number (per device, over a sliding
/// window of 4 096) and holds back fixes older than the newest one already evaluated, so the current position
/// never moves backwards. Allocation-free per fix once a device is known. <see cref="Save"/> / <see cref="Restore"/>
/// carry it across a restart, so a message delivered again afterwards is still a duplicate.
/// </summary>
public sealed class FixGate
{
    private readonly Dictionary<string, SequenceWindow> _devices = new(StringComparer.Ordinal);

    public DateTimeOffset NewestEvaluated { get; private set; } = DateTimeOffset.MinValue;

    public FixGateState Save() => new(NewestEvaluated, _devices.ToDictionary(d => d.Key, d => (IReadOnlyList<SeqRange>)d.Value.Save(), StringComparer.Ordinal));

    /// <summary>Replaces what this gate has seen with a saved state.</summary>
    public void Restore(FixGateState state)
    {
        _devices.Clear();
        foreach (var (device, ranges) in state.Seen)
        {
            var window = new SequenceWindow();
            foreach (var range in ranges.OrderBy(r => r.From))
                for (long seq = range.From; seq <= range.To; seq++) window.TryMark(seq);
            _devices[device] = window;
        }
        NewestEvaluated = state.NewestEvaluated;
    }

    public FixAdmission Admit(string deviceId, long seq, DateTimeOffset timestamp)
    {
        if (!_devices.TryGetValue(deviceId, out var window)) _devices[deviceId] = window = new SequenceWindow();
        if (!window.TryMark(seq)) return FixAdmission.Duplicate;
        if (timestamp <= NewestEvaluated) return FixAdmission.Stale;
        NewestEvaluated = timestamp;
        return FixAdmission.Accepted;
    }

    /// <summary>Which of the last 4 096 sequence numbers of a device were seen (a 512-byte ring of bits).</summary>
    private sealed class SequenceWindow
    {
        private const int Bits = 4096;
        private readonly ulong[] _seen = new ulong[Bits / 64];
        private long _max = long.MinValue;

        public bool TryMark(long seq)
        {
            if (_max == long.MinValue || seq > _max)
            {
                long from = _max == long.MinValue ? seq - Bits : _max;
                if (seq - from >= Bits) Array.Clear(_seen);
                else for (long s = from + 1; s < seq; s++) Clear(s);
                Set(seq);
                _max = seq;
                return true;
            }
            if (_max - seq >= Bits) return true; // older than the window: cannot tell, judge it as history
            if (IsSet(seq)) return false;
            Set(seq);
            return true;
        }

        /// <summary>The seen numbers within the window, ascending, as ranges.</summary>
        public List<SeqRange> Save()
        {
            var ranges = new List<SeqRange>();
            if (_max == long.MinValue) return ranges;
            long first = _max < long.MinValue + Bits ? long.MinValue + 1 : _max - (Bits - 1);
            long? start = null;
            for (long seq = first; seq <= _max; seq++)
            {
                if (IsSet(seq)) start ??= seq;
                else if (start is { } s) { ranges.Add(new SeqRange(s, seq - 1)); start = null; }
            }
            ranges.Add(new SeqRange(start ?? _max, _max)); // _max itself is always seen
            return ranges;
        }

        private static int Slot(long seq) => (int)((ulong)seq % Bits);
        private bool IsSet(long seq) => (_seen[Slot(seq) >> 6] & (1UL << (Slot(seq) & 63))) != 0;
        private void Set(long seq) => _seen[Slot(seq) >> 6] |= 1UL << (Slot(seq) & 63);
        private void Clear(long seq) => _seen[Slot(seq) >> 6] &= ~(1UL << (Slot(seq) & 63));
    }
}
