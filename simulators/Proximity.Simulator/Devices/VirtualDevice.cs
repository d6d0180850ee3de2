using System.Text.Json;
using Proximity.Simulator.Models;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Devices;

public enum DeviceRole { Offender, Victim }

/// <summary>How one virtual device is put together.</summary>
public sealed record VirtualDeviceOptions
{
    public required string Id { get; init; }
    public DeviceRole Role { get; init; }
    public double IntervalSeconds { get; init; } = 10;
    public GpsErrorOptions Gps { get; init; } = new();
    public BatteryOptions Battery { get; init; } = new();
    public UplinkOptions Uplink { get; init; } = new();
    public double ClockOffsetSeconds { get; init; }
    public double ClockDriftPpm { get; init; }
    public IReadOnlyList<ScriptedEvent> Events { get; init; } = [];
    /// <summary>The first sequence number. Runners start at the run's Unix milliseconds, so a later run against the
    /// same server continues above the last one's numbers instead of being dropped as duplicates.</summary>
    public long FirstSeq { get; init; } = 1;
}

/// <summary>
/// A virtual ankle monitor or victim device, without any I/O: it is advanced through (simulated) time and
/// hands back the MQTT messages it would publish. Movement, GPS error, battery, clock, coverage and the
/// uplink's imperfections are its parts; scripted events and server commands steer it.
/// </summary>
public sealed class VirtualDevice
{
    private readonly VirtualDeviceOptions _options;
    private readonly IMovement _movement;
    private readonly GpsErrorModel _gps;
    private readonly Battery _battery;
    private readonly DeviceClock _clock;
    private readonly StoreAndForwardQueue _store;
    private readonly UplinkShaper _shaper;
    private readonly Random _random;
    private readonly List<ScriptedEvent> _script;
    private readonly List<(DateTimeOffset At, Action End)> _endings = [];
    // Endings run without Advance's record list; the events they announce are sent on the same call.
    private readonly List<string> _pending = [];
    private readonly DateTimeOffset _start;
    private int _nextScripted;
    private DateTimeOffset _now;
    private DateTimeOffset _nextReport;
    private DateTimeOffset _lastReport;
    private long _seq;
    private int _indoor, _urban, _gaps, _silent;
    private bool _poweredOff;
    private bool _duplicateNext;

    public VirtualDevice(VirtualDeviceOptions options, IMovement movement, DateTimeOffset start, Random random)
    {
        _options = options;
        _movement = movement;
        _random = random;
        _gps = new GpsErrorModel(options.Gps, random);
        _battery = new Battery(options.Battery);
        _clock = new DeviceClock(options.ClockOffsetSeconds, options.ClockDriftPpm);
        _store = new StoreAndForwardQueue(options.Uplink.StoreCapacity, options.Uplink.BatchSize);
        _shaper = new UplinkShaper(options.Uplink, random);
        _script = [.. options.Events.OrderBy(e => e.AtSeconds)];
        _start = _now = _lastReport = start;
        _nextReport = start;
        IntervalSeconds = options.IntervalSeconds;
        _seq = options.FirstSeq - 1;
    }

    public string Id => _options.Id;
    public DeviceRole Role => _options.Role;
    public double IntervalSeconds { get; private set; }
    public DateTimeOffset Now => _now;
    public DeviceStats Stats { get; } = new();
    public bool InCoverage => _gaps == 0;
    public int Stored => _store.Count;
    public double BatteryPercent => _battery.Percent;
    public MovementState Truth => _movement.Current;
    public GeoPoint TruePoint => _movement.Plane.Unproject(_movement.Current.Position);

    /// <summary>When this device next has something to do.</summary>
    public DateTimeOffset NextWakeAt
    {
        get
        {
            var next = _nextReport;
            if (_nextScripted < _script.Count) next = Min(next, _start.AddSeconds(_script[_nextScripted].AtSeconds));
            foreach (var (at, _) in _endings) next = Min(next, at);
            return next;
        }
    }

    /// <summary>Moves the device to <paramref name="now"/> and returns what it publishes, in order.</summary>
    public List<DeviceMessage> Advance(DateTimeOffset now)
    {
        var records = new List<Recorded>();
        double dt = (now - _now).TotalSeconds;
        if (dt > 0)
        {
            _movement.Advance(dt);
            _gps.Advance(dt, View);
            _clock.Advance(dt);
            OnBattery(_battery.Advance(dt), records);
            _now = now;
        }

        for (int i = _endings.Count - 1; i >= 0; i--)
            if (_endings[i].At <= now)
            {
                var end = _endings[i].End;
                _endings.RemoveAt(i);
                end();
            }
        while (_nextScripted < _script.Count && _start.AddSeconds(_script[_nextScripted].AtSeconds) <= now)
            Apply(_script[_nextScripted++], records);

        if (now >= _nextReport)
        {
            if (Active) Report(records);
            _lastReport = now;
            _nextReport = now.AddSeconds(IntervalSeconds);
        }
        return Send(records);
    }

    /// <summary>A server command (<c>{"type":"set_interval","seconds":5}</c>); returns what was done.</summary>
    public string ApplyCommand(ReadOnlySpan<byte> payload)
    {
        Stats.Commands++;
        try
        {
            using var doc = JsonDocument.Parse(payload.ToArray());
            var root = doc.RootElement;
            string? type = root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "set_interval" && root.TryGetProperty("seconds", out var s) && s.ValueKind == JsonValueKind.Number
                && s.GetDouble() is >= 1 and <= 86_400 and var seconds)
            {
                SetInterval(seconds);
                return $"set_interval {seconds:0.###} s";
            }
            Stats.CommandsRejected++;
            return $"ignored command {payload.Length} bytes: unknown type or bad value";
        }
        catch (JsonException)
        {
            Stats.CommandsRejected++;
            return "ignored command: not JSON";
        }
    }

    /// <summary>Anything held back by the uplink (a reordered message), for the end of a run.</summary>
    public List<DeviceMessage> Finish()
    {
        var list = _shaper.Flush().ToList();
        if (InCoverage && !IsSilent) list.InsertRange(0, _store.Drain(Id));
        return list;
    }

    private bool IsSilent => _silent > 0;
    private bool Active => !_poweredOff && !IsSilent;
    private SkyView View => _indoor > 0 ? SkyView.Indoor : _urban > 0 ? SkyView.UrbanCanyon : _movement.Current.View;

    private void SetInterval(double seconds)
    {
        IntervalSeconds = seconds;
        // The new interval counts from the last report, but never schedules a report in the past.
        var next = _lastReport.AddSeconds(seconds);
        _nextReport = next < _now ? _now : next;
    }

    private void Report(List<Recorded> records)
    {
        var truth = _movement.Current;
        var measured = _gps.Measure(truth.Position, View);
        var ts = _clock.Read(_now);
        int bat = (int)Math.Round(_battery.Percent);
        if (measured is not { } m)
        {
            // No position at all: the device still says it is alive.
            records.Add(new Recorded(null, new EventRecord(++_seq, ts, "heartbeat", bat)));
            Stats.NoFix++;
            return;
        }
        var geo = _movement.Plane.Unproject(m.Position);
        bool gnss = m.Source == "gps";
        double? speed = gnss ? Math.Max(0, truth.SpeedMetersPerSecond + 0.1 * _random.NextGaussian()) : null;
        double? heading = gnss && truth.SpeedMetersPerSecond > 0.5 ? (truth.HeadingDegrees + 3 * _random.NextGaussian() + 360) % 360 : null;
        records.Add(new Recorded(new FixRecord(++_seq, ts, geo.Latitude, geo.Longitude, m.AccuracyMeters, speed, heading, bat, m.Source), null));
        Stats.Fixes++;
        Stats.LastErrorMeters = m.ErrorMeters;
        _battery.OnFixSent();
    }

    private void Apply(ScriptedEvent e, List<Recorded> records)
    {
        var end = e.DurationSeconds is { } d ? _now.AddSeconds(d) : (DateTimeOffset?)null;
        switch (e.Type)
        {
            case "strap_tamper":
                Event("strap_open", records);
                if (end is { } st) _endings.Add((st, () => _pending.Add("strap_closed")));
                break;
            case "indoor": Window(ref _indoor, end, () => _indoor--); break;
            case "urban_canyon": Window(ref _urban, end, () => _urban--); break;
            case "coverage_gap": Window(ref _gaps, end, () => _gaps--); break;
            case "silent": Window(ref _silent, end, () => _silent--); break;
            case "shutdown":
                Event("power_off", records);
                _poweredOff = true;
                if (end is { } sd) _endings.Add((sd, () => { _poweredOff = false; _pending.Add("power_on"); }));
                break;
            case "charge":
                _battery.StartCharging();
                Event("charging_started", records);
                _endings.Add((end!.Value, () => { _battery.StopCharging(); _pending.Add("charging_stopped"); }));
                if (_poweredOff && !IsSilent) { _poweredOff = false; Event("power_on", records); }
                break;
            case "clock_step": _clock.Step(e.Value!.Value); break;
            case "multipath": _gps.StartMultipath(); break;
            case "set_interval": SetInterval(e.Value!.Value); break;
            case "duplicate": _duplicateNext = true; break;
            default:
                if (e.Type == "power_off") _poweredOff = true;
                if (e.Type == "power_on") _poweredOff = false;
                Event(e.Type, records, force: true);
                break;
        }
        FlushPending(records);
    }

    private void FlushPending(List<Recorded> records)
    {
        foreach (var type in _pending) Event(type, records);
        _pending.Clear();
    }

    private void Window(ref int counter, DateTimeOffset? end, Action close)
    {
        counter++;
        if (end is { } at) _endings.Add((at, close));
    }

    private void Event(string type, List<Recorded> records, bool force = false)
    {
        if (IsSilent || (_poweredOff && !force && type != "power_off")) return;
        records.Add(new Recorded(null, new EventRecord(++_seq, _clock.Read(_now), type, (int)Math.Round(_battery.Percent))));
        Stats.Events++;
    }

    private void OnBattery(BatteryEvent e, List<Recorded> records)
    {
        switch (e)
        {
            case BatteryEvent.LowBattery: Event("low_battery", records); break;
            case BatteryEvent.Empty:
                Event("power_off", records);
                _poweredOff = true;
                break;
        }
    }

    private List<DeviceMessage> Send(List<Recorded> records)
    {
        FlushPending(records);
        var messages = new List<DeviceMessage>();
        if (IsSilent) return messages;
        if (!InCoverage)
        {
            foreach (var r in records) _store.Add(r);
            Stats.StoredPeak = Math.Max(Stats.StoredPeak, _store.Count);
            return messages;
        }
        var outgoing = _store.Count > 0 ? _store.Drain(Id) : [];
        if (outgoing.Count > 0) Stats.Uploads++;
        foreach (var r in records)
            outgoing.Add(r.Fix is { } f ? DevicePayload.Position(Id, f) : DevicePayload.Event(Id, r.Event!.Value));
        foreach (var m in outgoing)
            foreach (var shaped in _shaper.Shape(m))
            {
                messages.Add(shaped);
                if (_duplicateNext) { messages.Add(shaped); _duplicateNext = false; }
            }
        Stats.Duplicates = _shaper.Duplicates;
        Stats.Reordered = _shaper.Reordered;
        Stats.DroppedFromStore = _store.Dropped;
        return messages;
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}

/// <summary>What a device has done so far.</summary>
public sealed class DeviceStats
{
    public long Fixes { get; set; }
    public long Events { get; set; }
    public long NoFix { get; set; }
    public long Uploads { get; set; }
    public long Duplicates { get; set; }
    public long Reordered { get; set; }
    public long DroppedFromStore { get; set; }
    public int StoredPeak { get; set; }
    public long Commands { get; set; }
    public long CommandsRejected { get; set; }
    public double LastErrorMeters { get; set; }
}
