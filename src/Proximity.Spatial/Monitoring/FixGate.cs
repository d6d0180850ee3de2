namespace Proximity.Spatial.Monitoring;

public enum FixAdmission : byte
{
    /// <summary>New and newest: evaluate it.</summary>
    Accepted,
    /// <summary>Same device and sequence number as one already received: drop it.</summary>
    Duplicate,
    /// <summary>Older than the newest fix already evaluated for that person: keep as history, do not evaluate.</summary>
    Stale,
}

/// <summary>
/// Admits a person's fixes in time order: drops duplicates by sequence number (per device, over a sliding
/// window of 64) and holds back fixes older than the newest one already evaluated, so the current position
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

    private sealed class SequenceWindow
    {
        private long _max = long.MinValue;
        private ulong _seen;

        public bool TryMark(long seq)
        {
            if (_max == long.MinValue || seq > _max)
            {
                long shift = _max == long.MinValue ? 64 : seq - _max;
                _seen = shift >= 64 ? 0 : _seen << (int)shift;
                _seen |= 1;
                _max = seq;
                return true;
            }
            long back = _max - seq;
            if (back >= 64) return false; // too old to tell apart from a replay: treat as seen
            ulong bit = 1UL << (int)back;
            if ((_seen & bit) != 0) return false;
            _seen |= bit;
            return true;
        }
    }
}
