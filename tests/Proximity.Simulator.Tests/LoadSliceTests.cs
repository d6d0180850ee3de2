using Proximity.Protocol;
using Proximity.Simulator.Cli;
using Proximity.Simulator.Load;

namespace Proximity.Simulator.Tests;

/// <summary><c>load --first-device K --devices N</c>: several load processes split one gen-case file between them.</summary>
public class LoadSliceTests
{
    private const int CaseDevices = 10;
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_slice_drives_only_its_devices_where_the_whole_case_places_them()
    {
        var layout = new LoadLayout { Seed = 5 };
        string casePath = await GenCaseAsync(layout.Seed);
        var secrets = Enumerable.Range(0, CaseDevices).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret);
        secrets[layout.IntegrationId] = layout.Secret(layout.IntegrationId);
        await using var broker = await EmbeddedBroker.StartAsync(secrets);
        try
        {
            int rc = await CommandLine.RunAsync(
                ["load", "--credentials-file", casePath, "--first-device", "4", "--devices", "3", "--broker", "127.0.0.1",
                 "--port", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 "--rate", "60", "--duration", "1", "--linger", "0", "--quiet"],
                new CancellationTokenSource(Generous).Token);

            Assert.Equal(0, rc);
            Assert.Empty(broker.RefusedConnections);
            var positions = broker.Messages.Where(m => m.Topic.EndsWith("/position", StringComparison.Ordinal)).ToList();
            // Devices 4, 5 and 6 of the case in load order: offender 2, victim 2, offender 3.
            Assert.Equal(["sim-o-000002", "sim-o-000003", "sim-v-000002"], positions.Select(m => m.ClientId).Distinct().Order());

            // Victims stand still beside their offender's zone: victim 2 reports where the 10-device case put
            // its zone (5 pairs on a 3 × 3 grid), not where a 3-device world would (2 pairs on a 2 × 2 grid).
            var victimFix = FixJson.ParsePayload(positions.First(m => m.ClientId == "sim-v-000002").Payload, "sim-v-000002")[0];
            var at = layout.Plane.Project(victimFix.Latitude, victimFix.Longitude);
            double fromWholeCase = at.DistanceTo(layout.TruePosition(5, pairs: 5, seconds: 0).Position);
            double fromSliceAlone = at.DistanceTo(layout.TruePosition(5, pairs: 2, seconds: 0).Position);
            Assert.True(fromWholeCase < 100, $"the victim reported {fromWholeCase:0} m from its place in the case");
            Assert.True(fromSliceAlone > 500, $"{fromSliceAlone:0} m");
        }
        finally
        {
            File.Delete(casePath);
        }
    }

    [Theory]
    [InlineData(new string[0], 60)]
    [InlineData(new[] { "--keep-alive", "0" }, 0)]
    [InlineData(new[] { "--keep-alive", "300" }, 300)]
    public async Task Devices_connect_with_the_keep_alive_asked_for(string[] option, int expected)
    {
        var layout = new LoadLayout { Seed = 5 };
        string casePath = await GenCaseAsync(layout.Seed);
        await using var broker = await EmbeddedBroker.StartAsync(
            Enumerable.Range(0, CaseDevices).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret));
        try
        {
            int rc = await CommandLine.RunAsync(
                ["load", "--credentials-file", casePath, "--devices", "2", "--broker", "127.0.0.1",
                 "--port", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 "--rate", "10", "--duration", "0.3", "--linger", "0", "--quiet", "--alerts-user", "nobody", .. option],
                new CancellationTokenSource(Generous).Token);

            Assert.Equal(0, rc);
            Assert.Equal(expected, broker.KeepAliveOf["sim-o-000000"]);
            Assert.Equal(expected, broker.KeepAliveOf["sim-v-000000"]);
        }
        finally
        {
            File.Delete(casePath);
        }
    }

    [Theory]
    [InlineData("--first-device", "-1")]
    [InlineData("--first-device", "four")]
    [InlineData("--first-device", "8", "--devices", "3")]
    [InlineData("--first-device", "10", "--devices", "1")]
    [InlineData("--devices", "11")]
    public async Task A_slice_outside_the_case_is_refused_before_connecting(params string[] slice)
    {
        string casePath = await GenCaseAsync(seed: 5);
        var layout = new LoadLayout { Seed = 5 };
        await using var broker = await EmbeddedBroker.StartAsync(
            Enumerable.Range(0, CaseDevices).Select(LoadLayout.DeviceId).ToDictionary(id => id, layout.Secret));
        try
        {
            int rc = await CommandLine.RunAsync(
                ["load", "--credentials-file", casePath, "--broker", "127.0.0.1",
                 "--port", broker.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--duration", "1", "--quiet", .. slice],
                new CancellationTokenSource(Generous).Token);

            Assert.Equal(2, rc);
            Assert.Empty(broker.ConnectedFrom);
            Assert.Empty(broker.Messages);
        }
        finally
        {
            File.Delete(casePath);
        }
    }

    [Fact]
    public void The_slice_problem_names_both_options()
    {
        var credentials = Enumerable.Range(0, CaseDevices).Select(i => (LoadLayout.DeviceId(i), (string?)"s")).ToList();
        var fits = new LoadOptions { Credentials = credentials, FirstDevice = 7, Devices = 3 };
        Assert.Null(fits.Problem());
        Assert.Equal((9, "sim-v-000004", "s"), fits.Device(2));
        Assert.Equal(CaseDevices, fits.WorldDevices);

        Assert.Equal("the credentials file has 10 devices, fewer than --first-device 8 + --devices 3",
            (fits with { FirstDevice = 8 }).Problem());
        Assert.Equal("--first-device must be at least 0", (fits with { FirstDevice = -1 }).Problem());
        // Without a file the world is the layout's first K + N devices.
        var generated = new LoadOptions { FirstDevice = 4, Devices = 2 };
        Assert.Equal(6, generated.WorldDevices);
        Assert.Equal((5, "sim-v-000002", generated.Layout.Secret("sim-v-000002")), generated.Device(1));
    }

    private static async Task<string> GenCaseAsync(int seed)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sim-slice-{Guid.NewGuid():N}.json");
        int rc = await CommandLine.RunAsync(["gen-case", "--devices", $"{CaseDevices}", "--seed", $"{seed}", "--out", path], CancellationToken.None);
        Assert.Equal(0, rc);
        return path;
    }
}
