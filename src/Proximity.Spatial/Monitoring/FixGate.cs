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

/// <summary>
/// Admits a person's fixes in time order: drops duplicates by sequence number (per device, over a sliding
/// window of 4 096) and holds back fixes older than the newest one already evaluated, so the current position
/// never moves backwards. Allocation-free per fix once a device is known.
/// </summary>
public sealed class FixGate
{
    private readonly Dictionary<string, SequenceWindow> _devices = new(StringComparer.Ordinal);

    public DateTimeOffset NewestEvaluated { get; private set; } = DateTimeOffset.MinValue;

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

        private static int Slot(long seq) => (int)((ulong)seq % Bits);
        private bool IsSet(long seq) => (_seen[Slot(seq) >> 6] & (1UL << (Slot(seq) & 63))) != 0;
        private void Set(long seq) => _seen[Slot(seq) >> 6] |= 1UL << (Slot(seq) & 63);
        private void Clear(long seq) => _seen[Slot(seq) >> 6] &= ~(1UL << (Slot(seq) & 63));
    }
}
