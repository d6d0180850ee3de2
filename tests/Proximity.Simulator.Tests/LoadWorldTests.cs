using System.Text;
using System.Text.Json;
using Proximity.Protocol;
using Proximity.Replay;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Load;
using Proximity.Simulator.Models;

namespace Proximity.Simulator.Tests;

/// <summary>The load world judged by the project's own decision core: the alerts a load run should cause.</summary>
public class LoadWorldTests
{
    [Fact]
    public void Breaching_offenders_and_only_they_raise_exclusion_zone_alerts()
    {
        var layout = new LoadLayout { Seed = 12, BreachFraction = 0.3 };
        const int devices = 40, pairs = 20;
        using var caseJson = new MemoryStream();
        CaseGenerator.Write(caseJson, layout, devices);
        var caseFile = CaseFile.Parse(Encoding.UTF8.GetString(caseJson.ToArray()));

        // What load mode would publish over 400 s at one fix per device per second, in arrival order.
        var t0 = new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);
        var random = new Random(4);
        var gps = Enumerable.Range(0, devices).Select(_ => new GpsErrorModel(new GpsErrorOptions { MultipathPerHour = 0 }, random)).ToArray();
        var fixes = new StringBuilder();
        for (int t = 0; t < 400; t++)
            for (int i = 0; i < devices; i++)
            {
                var (truth, speed, heading) = layout.TruePosition(i, pairs, t);
                gps[i].Advance(1, SkyView.Open);
                var m = gps[i].Measure(truth, SkyView.Open)!.Value;
                var geo = layout.Plane.Unproject(m.Position);
                var payload = DevicePayload.Position(LoadLayout.DeviceId(i),
                    new FixRecord(t + 1, t0.AddSeconds(t), geo.Latitude, geo.Longitude, m.AccuracyMeters, speed, heading, 80, "gps")).Payload;
                fixes.Append("{\"device\":\"").Append(LoadLayout.DeviceId(i)).Append("\",").Append(Encoding.UTF8.GetString(payload)[1..]).Append('\n');
            }

        var alertsOut = new StringWriter();
        var errors = new StringWriter();
        var summary = new ReplayRunner(caseFile).Run(new StringReader(fixes.ToString()), alertsOut, errors);
        Assert.Equal(0, summary.Rejected);

        var alerts = alertsOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement)
            .Select(a => (Type: a.GetProperty("type").GetString(), Offender: a.GetProperty("offenderId").GetString()))
            .ToList();
        var breachers = Enumerable.Range(0, pairs).Where(layout.IsBreacher).Select(LoadLayout.OffenderId).ToHashSet();
        Assert.NotEmpty(breachers);
        Assert.Equal(breachers, alerts.Where(a => a.Type == "ExclusionZoneBreach").Select(a => a.Offender!).ToHashSet());
        Assert.DoesNotContain(alerts, a => a.Type == "ContactBanBreach");
    }
}
