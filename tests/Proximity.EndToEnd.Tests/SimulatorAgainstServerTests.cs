using Proximity.Simulator.Mqtt;
using Proximity.Simulator.Scenarios;

namespace Proximity.EndToEnd.Tests;

/// <summary>
/// The simulator's CI scenario (simulators/Proximity.Simulator/examples/ci-breach.json) against the real
/// service: one offender drives into its exclusion zone and stays there, another's ankle monitor goes silent
/// after 5 s. The offline judgement of the same file is CiScenarioTests; this is the live one.
/// </summary>
public class SimulatorAgainstServerTests
{
    // Generous: the machine running CI is shared and loaded.
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    // A short reporting profile so the silence rule (2 × interval + 5 s) fires within the run: an ankle
    // monitor silent for 2 × 3 + 5 s = 11 s is offline. Near and far intervals of 1 s keep the scripted
    // 1 s reporting of the ankle monitors (the server would otherwise command 5 s or 30 s).
    private static readonly Dictionary<string, string?> ShortProfile = new()
    {
        ["Proximity:OffenderReportingInterval"] = "00:00:03",
        ["Proximity:VictimReportingInterval"] = "00:00:10",
        ["Proximity:SilenceCheckPeriod"] = "00:00:00.500",
        ["Proximity:NearIntervalSeconds"] = "1",
        ["Proximity:FarIntervalSeconds"] = "1",
        ["Proximity:Integrations:0:Id"] = "e2e-observer",
        ["Proximity:Integrations:0:Secret"] = "observer-secret",
    };

    [Fact]
    public async Task The_CI_scenario_against_the_live_server_raises_its_breach_once_and_reports_the_silent_monitor_offline()
    {
        // 20 s of the scenario: the breach comes after about 6 s, dev-b's silence is reported after about 16 s.
        var scenario = Scenario.Load(ExamplePath("ci-breach.json")) with { DurationSeconds = 20 };
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var server = await LiveServer.StartAsync(scenario.Case, ShortProfile);
        await using var observer = await AlertObserver.ConnectAsync(server.MqttPort, "e2e-observer", "observer-secret", cts.Token);

        var log = new StringWriter();
        var summary = await new ScenarioRunner(scenario, new ScenarioRunOptions
        {
            Broker = new BrokerOptions { Host = "127.0.0.1", Port = server.MqttPort },
            Speed = 1,
            Progress = false,
            Log = TextWriter.Synchronized(log),
            Linger = TimeSpan.FromSeconds(1),
        }).RunAsync(cts.Token);
        var duringRun = observer.Alerts;

        // The silent monitor is reported (waited for: on a loaded machine the report may come after the run).
        var offline = await observer.WaitForAsync(a => a is { Type: "DeviceOffline", DeviceId: "dev-b", Cleared: false }, Generous);
        Assert.Equal("off-b", offline.OffenderId);

        Assert.Equal(0, summary.Errors);
        Assert.True(summary.Fixes > 20, $"only {summary.Fixes} fixes sent\n{log}");
        var breaches = duringRun.Where(a => a is { Type: "ExclusionZoneBreach", Cleared: false }).Select(a => (a.Id, a.OffenderId)).Distinct().ToList();
        Assert.True(breaches.Count == 1, $"expected one zone breach, got {breaches.Count}\n{Describe(observer.Alerts)}\n{log}");
        Assert.Equal("off-a", breaches[0].OffenderId);
        Assert.DoesNotContain(duringRun, a => a is { Type: "ExclusionZoneBreach", Cleared: true });
        Assert.DoesNotContain(duringRun, a => a.Type == "ContactBanBreach");
        // Only the silent monitor was offline while the devices ran (the others report every 1 s and 5 s).
        Assert.DoesNotContain(duringRun, a => a.Type == "DeviceOffline" && a.DeviceId != "dev-b");
        // The simulator's own control-room subscription (the case's integration) saw the breach too.
        Assert.Contains(summary.ReceivedAlerts, a => a is { Type: "ExclusionZoneBreach", OffenderId: "off-a", Cleared: false });
    }

    private static string Describe(IEnumerable<ObservedAlert> alerts) =>
        string.Join('\n', alerts.Select(a => $"{a.Type} {(a.Cleared ? "cleared" : "raised")} {a.Id} offender {a.OffenderId} device {a.DeviceId}"));

    private static string ExamplePath(string name)
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Proximity.sln"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("Proximity.sln not found above the test binaries");
        return Path.Combine(dir, "simulators", "Proximity.Simulator", "examples", name);
    }
}
