using System.Text.Json;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Replay;

/// <summary>What a replay read and decided.</summary>
public sealed record ReplaySummary(int Lines, int FixesEvaluated, int Duplicates, int Stale, int Rejected, int Alerts, int WithoutFix);

/// <summary>
/// Replays recorded fixes (NDJSON, arrival order) through the same decision code as the live service and
/// writes one line per alert episode. The clock is the fixes' own time, so the output is deterministic.
/// </summary>
public sealed class ReplayRunner
{
    private readonly CaseFile _case;
    private readonly DecisionOptions _options;
    private readonly Dictionary<string, (string PersonId, bool IsOffender)> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, OffenderMonitor> _monitors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<OffenderMonitor>> _protectedFrom = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FixGate> _gates = new(StringComparer.Ordinal);
    private readonly ArrivalLateness _lateness;

    public ReplayRunner(CaseFile caseFile, DecisionOptions? options = null)
    {
        _case = caseFile;
        _options = options ?? DecisionOptions.Default;
        _lateness = new ArrivalLateness(_options.LateAfter);
        foreach (var (device, person, isOffender, _) in caseFile.Devices()) _devices[device] = (person, isOffender);
        foreach (var offender in caseFile.Offenders)
            _monitors[offender.Id] = new OffenderMonitor(offender.Id, caseFile.Bans.Where(b => b.OffenderId == offender.Id), _options);
        foreach (var ban in caseFile.Bans.OfType<ContactBan>())
        {
            if (!_protectedFrom.TryGetValue(ban.VictimId, out var list)) _protectedFrom[ban.VictimId] = list = [];
            if (!list.Contains(_monitors[ban.OffenderId])) list.Add(_monitors[ban.OffenderId]);
        }
    }

    public ReplaySummary Run(TextReader fixes, TextWriter alertsOut, TextWriter errors)
    {
        var alerts = new List<Alert>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var events = new List<MonitorEvent>();
        var clock = new ArrivalClock();
        int lines = 0, evaluated = 0, duplicates = 0, stale = 0, rejected = 0, withoutFix = 0;

        string? line;
        while ((line = fixes.ReadLine()) is not null)
        {
            lines++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            List<(PositionFix Fix, DateTimeOffset? ReceivedAt)> parsed;
            try
            {
                using var doc = JsonDocument.Parse(line);
                parsed = ParseLine(doc.RootElement);
            }
            catch (Exception e) when (e is JsonException or MessageRejectedException)
            {
                rejected++;
                errors.WriteLine($"line {lines}: {(e is JsonException ? "not valid JSON: " : "")}{e.Message}");
                continue;
            }
            // A live node refuses a message (a whole upload) holding a fix stamped too far ahead of its clock; where the
            // recording gives the receive time, replay does the same. Taken as the newest, such a fix would make every
            // real fix after it "out of order".
            if (parsed.FirstOrDefault(p => p.ReceivedAt is { } at && p.Fix.Timestamp - at > FixJson.DefaultMaxClockAhead) is { ReceivedAt: { } received } ahead)
            {
                rejected++;
                errors.WriteLine($"line {lines}: fix seq {ahead.Fix.Seq} is stamped {ahead.Fix.Timestamp:O}, more than {FixJson.DefaultMaxClockAhead} ahead of its receive time {received:O}");
                continue;
            }
            // An upload of several fixes (store-and-forward) was sent after the newest of them: that is the earliest it
            // can have arrived, so all of them are judged as arrived then (late, as the live service would see them).
            if (parsed.Count > 1)
                foreach (var newest in parsed.Where(p => p.ReceivedAt is null && p.Fix.Source != FixSource.None && _devices.ContainsKey(p.Fix.DeviceId))
                             .GroupBy(p => p.Fix.DeviceId, p => p.Fix.Timestamp).Select(g => (Device: g.Key, At: g.Max())))
                    clock.Arrive(newest.Device, newest.At);
            foreach (var (fix, receivedAt) in parsed)
            {
                if (!_devices.TryGetValue(fix.DeviceId, out var owner))
                {
                    rejected++;
                    errors.WriteLine($"line {lines}: unknown device {fix.DeviceId}");
                    continue;
                }
                if (fix.Source == FixSource.None)
                {
                    withoutFix++; // the device was heard without a position: nothing to judge
                    continue;
                }
                var arrived = receivedAt is { } at ? clock.Received(at) : clock.Arrive(fix.DeviceId, fix.Timestamp);
                if (!_gates.TryGetValue(owner.PersonId, out var gate)) _gates[owner.PersonId] = gate = new FixGate();
                switch (gate.Admit(fix.DeviceId, fix.Seq, fix.Timestamp))
                {
                    case FixAdmission.Duplicate: duplicates++; continue;
                    case FixAdmission.Stale:
                        stale++;
                        events.Clear();
                        if (owner.IsOffender && _monitors.TryGetValue(owner.PersonId, out var m)) m.OnOffenderBackfill(fix, events);
                        Collect(events, alerts, index);
                        continue;
                }
                evaluated++;
                bool late = _lateness.IsLate(fix, arrived);
                events.Clear();
                if (owner.IsOffender)
                {
                    if (_monitors.TryGetValue(owner.PersonId, out var monitor)) monitor.OnOffenderFix(fix, late, events);
                }
                else if (_protectedFrom.TryGetValue(owner.PersonId, out var monitors))
                {
                    foreach (var monitor in monitors) monitor.OnVictimFix(owner.PersonId, fix, late, events);
                }
                Collect(events, alerts, index);
            }
        }

        foreach (var alert in alerts) alertsOut.WriteLine(AlertJson.Serialize(alert));
        return new ReplaySummary(lines, evaluated, duplicates, stale, rejected, alerts.Count, withoutFix);
    }

    private static void Collect(List<MonitorEvent> events, List<Alert> alerts, Dictionary<string, int> index)
    {
        foreach (var e in events)
        {
            if (e.Kind == MonitorEventKind.Raised) { index[e.Alert.Id] = alerts.Count; alerts.Add(e.Alert); }
            else if (index.TryGetValue(e.Alert.Id, out int i)) alerts[i] = e.Alert;
        }
    }

    /// <summary>A line holds one fix, or an array of fixes (a store-and-forward upload). A recording may add the
    /// server's receive time ("receivedAt"); without it, the arrival is estimated (<see cref="ArrivalClock"/>).</summary>
    private static List<(PositionFix, DateTimeOffset?)> ParseLine(JsonElement root)
    {
        var result = new List<(PositionFix, DateTimeOffset?)>();
        if (root.ValueKind != JsonValueKind.Array)
        {
            result.Add((FixJson.Parse(root, null), ReceivedAt(root)));
            return result;
        }
        foreach (var e in root.EnumerateArray()) result.Add((FixJson.Parse(e, null), ReceivedAt(e)));
        return [.. result.OrderBy(p => p.Item1.Timestamp)]; // oldest first, as the live service takes an upload
    }

    private static DateTimeOffset? ReceivedAt(JsonElement fix)
    {
        foreach (var name in ReceivedAtNames)
            if (fix.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String)
                return FixJson.Timestamp(v, name);
        return null;
    }

    private static readonly string[] ReceivedAtNames = ["receivedAt", "received_at", "rxTs", "serverTs", "arrivedAt"];
}
