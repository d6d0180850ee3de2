using Proximity.Protocol;
using Proximity.Simulator.Cli;
using Proximity.Simulator.Scenarios;

namespace Proximity.Simulator.Tests;

public class CommandLineTests
{
    [Fact]
    public async Task Gen_case_writes_a_case_file_the_server_format_accepts()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-case-{Guid.NewGuid():N}.json");
        try
        {
            int rc = await CommandLine.RunAsync(["gen-case", "--devices", "6", "--out", path, "--seed", "4"], CancellationToken.None);
            Assert.Equal(0, rc);
            var file = CaseFile.Load(path);
            Assert.Equal(6, file.Devices().Count());
            Assert.Equal(3 + 3, file.Bans.Count);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("load", "--devices", "0")]
    [InlineData("load", "--rate", "fast")]
    [InlineData("load", "--devcies", "10")]
    [InlineData("load", "--keep-alive", "-1")]
    [InlineData("load", "--keep-alive", "70000")]
    [InlineData("gen-case", "--out", "x.json")]
    [InlineData("scenario")]
    [InlineData("frobnicate")]
    public async Task Bad_arguments_fail_with_exit_code_2_before_connecting(params string[] args)
    {
        Assert.Equal(2, await CommandLine.RunAsync(args, CancellationToken.None));
    }

    [Theory]
    [InlineData("amsterdam.json", 2, 2)]
    [InlineData("ci-breach.json", 3, 2)]
    public void The_example_scenarios_parse(string name, int devices, int bans)
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Proximity.sln"))) dir = Path.GetDirectoryName(dir)!;
        var scenario = Scenario.Load(Path.Combine(dir, "simulators", "Proximity.Simulator", "examples", name));
        Assert.Equal(devices, scenario.Devices.Count);
        Assert.NotNull(scenario.AlertsUser);
        Assert.Equal(bans, scenario.Case.Bans.Count);
    }

    [Theory]
    [InlineData("\"route\": [[52.37, 4.89]], \"mode\": \"skate\"", "mode 'skate'")]
    [InlineData("\"route\": []", "needs a \\\"route\\\"")]
    [InlineData("\"route\": [[52.37, 4.89]], \"events\": [{\"at\": 5, \"type\": \"explode\"}]", "unknown event type 'explode'")]
    [InlineData("\"route\": [[52.37, 4.89]], \"intervalSecs\": 5", "intervalSecs")]
    [InlineData("\"route\": [[95, 4.89]]", "latitude 95")]
    public void A_bad_scenario_is_refused_with_a_clear_error(string deviceSpec, string expected)
    {
        string json = $$"""
            { "offenders": [ { "id": "o", "devices": [ { "id": "d", "secret": "s" } ] } ],
              "simulation": { "devices": { "d": { {{deviceSpec}} } } } }
            """;
        var e = Assert.Throws<ScenarioException>(() => Scenario.Parse(json, "."));
        Assert.Contains(expected.Replace("\\\"", "\"", StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void A_YAML_scenario_reads_like_the_same_JSON()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, """
            offenders:
              - id: off-1
                devices: [ { id: dev-o, secret: "0042" } ]
            victims:
              - id: vic-1
                devices: [ { id: dev-v, secret: sv } ]
            bans:
              - { id: b1, type: contact, offenderId: off-1, victimId: vic-1, minDistanceMeters: 500 }
            simulation:
              durationSeconds: 90
              devices:
                dev-o:
                  intervalSeconds: 5
                  mode: drive
                  route: [[52.37, 4.89], { lat: 52.38, lon: 4.90, stopSeconds: 30, env: urban_canyon }]
                  gps: { indoorFallback: cell }
                  events:
                    - { at: 10, type: coverage_gap, duration: 20 }
                dev-v:
                  route: [[52.40, 4.95]]
                  mode: stationary
            """);
        try
        {
            var scenario = Scenario.Load(path);
            Assert.Equal(90, scenario.DurationSeconds);
            var o = scenario.Devices.Single(d => d.Options.Id == "dev-o");
            Assert.Equal("0042", o.Secret);
            Assert.Equal(5, o.Options.IntervalSeconds);
            Assert.Equal(Models.IndoorFallback.Cell, o.Options.Gps.IndoorFallback);
            Assert.Equal(new Devices.ScriptedEvent(10, "coverage_gap", 20), o.Options.Events.Single());
            Assert.Equal(500, ((Proximity.Spatial.Bans.ContactBan)scenario.Case.Bans.Single()).MinDistanceMeters);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
