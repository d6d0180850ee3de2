using Proximity.Protocol;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;
namespace Proximity.Scenarios;
public sealed class ScratchDebug
{
    [Fact]
    public void Debug()
    {
        var dir = Environment.GetEnvironmentVariable("DEBUG_DIR");
        if (dir is null) return;
        var c = CaseFile.Parse(File.ReadAllText(Path.Combine(dir, "case.json")));
        var m = new OffenderMonitor("o1", c.Bans.Where(b => b.OffenderId == "o1"));
        var ev = new List<MonitorEvent>();
        var log = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(dir, "fixes.ndjson")))
        {
            using var d = System.Text.Json.JsonDocument.Parse(line);
            var f = FixJson.Parse(d.RootElement, null);
            ev.Clear();
            if (f.DeviceId == "dev-o1") m.OnOffenderFix(f, false, ev); else m.OnVictimFix("v1", f, false, ev);
            foreach (var e in ev) log.Add($"{f.Timestamp:HH:mm:ss} {f.DeviceId} {e.Kind} {e.Alert.Type} {e.Alert.Evidence.Summary}");
            if (f.DeviceId == "dev-o1" && f.Timestamp.ToString("HH:mm:ss") is var s && string.CompareOrdinal(s, "11:45:40") > 0 && string.CompareOrdinal(s, "11:45:50") < 0)
                log.Add($"{f.Timestamp:HH:mm:ss.fff} {f.Seq} open={string.Join(",", m.OpenAlerts.Select(a => a.Type))}");
        }
        var runner = new Proximity.Replay.ReplayRunner(c);
        var o = new StringWriter(); var er = new StringWriter();
        var sum = runner.Run(new StringReader(File.ReadAllText(Path.Combine(dir, "fixes.ndjson"))), o, er);
        log.Add(sum.ToString());
        log.Add(er.ToString());
        File.WriteAllLines("/tmp/debug.log", log);
    }
}
