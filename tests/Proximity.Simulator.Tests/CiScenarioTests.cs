using System.Text;
using System.Text.Json;
using Proximity.Protocol;
using Proximity.Replay;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Models;
using Proximity.Simulator.Scenarios;

namespace Proximity.Simulator.Tests;

/// <summary>The CI example scenario judged offline by the decision core: what a live run must show.</summary>
public class CiScenarioTests
{
    [Fact]
    public void The_CI_scenario_breaches_its_zone_exactly_once_and_the_silent_device_stops_reporting()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Proximity.sln"))) dir = Path.GetDirectoryName(dir)!;
        var scenario = Scenario.Load(Path.Combine(dir, "simulators", "Proximity.Simulator", "examples", "ci-breach.json"));
        var start = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        var end = start.AddSeconds(scenario.DurationSeconds);

        var lines = new List<(DateTimeOffset At, string Line)>();
        var lastFix = new Dictionary<string, DateTimeOffset>();
        for (int i = 0; i < scenario.Devices.Count; i++)
        {
            var d = scenario.Devices[i];
            var device = new VirtualDevice(d.Options, d.Movement(new Random(Seeds.For(scenario.Seed, i))), start, new Random(Seeds.For(scenario.Seed, i, 1)));
            for (var t = start; t <= end; t = device.NextWakeAt)
                foreach (var m in device.Advance(t).Where(m => m.Kind == MessageKind.Position))
                    foreach (var fix in FixJson.ParsePayload(m.Payload, d.Options.Id))
                    {
                        lastFix[fix.DeviceId] = fix.Timestamp;
                        var json = JsonSerializer.Serialize(new
                        {
                            device = fix.DeviceId, seq = fix.Seq, ts = DevicePayload.Time(fix.Timestamp),
                            lat = fix.Latitude, lon = fix.Longitude, acc = fix.AccuracyMeters,
                        });
                        lines.Add((t, json));
                    }
        }

        var alertsOut = new StringWriter();
        var input = string.Join('\n', lines.OrderBy(l => l.At).Select(l => l.Line));
        var summary = new ReplayRunner(scenario.Case).Run(new StringReader(input), alertsOut, new StringWriter());
        Assert.Equal(0, summary.Rejected);

        var alerts = alertsOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(a => (Type: a.GetProperty("type").GetString(), Offender: a.GetProperty("offenderId").GetString()))
            .ToList();
        Assert.Single(alerts, a => a.Type == "ExclusionZoneBreach");
        Assert.Contains(("ExclusionZoneBreach", "off-a"), alerts);
        Assert.DoesNotContain(alerts, a => a.Type == "ContactBanBreach");
        // dev-b's last fix is from before it went silent at 5 s; the others report to the end.
        Assert.True(lastFix["dev-b"] < start.AddSeconds(5));
        Assert.True(lastFix["dev-a"] >= end.AddSeconds(-1));
    }
}
