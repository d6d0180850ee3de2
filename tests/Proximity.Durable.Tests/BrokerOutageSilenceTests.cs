using Microsoft.Extensions.DependencyInjection;
using Proximity.Ingest;
using Proximity.Ingest.Tests;
using Proximity.Storage.Tests;
using static Proximity.Grains.Durable.Tests.LiveService;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// Fault test: the external Mosquitto is down for longer than the devices' silence limit. The control room must not
/// get a DeviceOffline for every device (the service heard nobody; the devices kept their fixes and sent them
/// afterwards), but a device that stays silent once the broker is back is still reported.
/// </summary>
public sealed class BrokerOutageSilenceTests(PostgresFixture fixture) : IAsyncLifetime
{
    private static readonly string[] Pairs = ["1", "2"];
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1); // silence limit 2 × 1 s + 5 s
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(12);
    private string _cs = "";

    public async ValueTask InitializeAsync() => _cs = await fixture.Server.CreateDatabaseAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_broker_outage_longer_than_the_silence_limit_reports_only_the_device_that_stays_silent_afterwards()
    {
        await using var broker = await MosquittoBroker.StartAsync(Users(Pairs), persistent: true);
        await using var service = await LiveService.StartAsync(ServiceHost.Case(Pairs), _cs, broker.ServiceIngest("proximity-outage-test"),
            new Dictionary<string, string?>
            {
                ["Proximity:OffenderReportingInterval"] = Interval.ToString(),
                ["Proximity:VictimReportingInterval"] = Interval.ToString(),
                ["Proximity:SilenceCheckPeriod"] = "00:00:00.200",
            });
        var ingest = service.Services.GetRequiredService<IIngestStatus>();
        await using var controlRoom = await ControlRoomAsync(broker.Port);
        await using var devices = await DeviceFleet.ConnectAsync(broker.Port, Pairs);
        string[] reporting = ["P1", "A1", "P2"]; // A2 falls silent with the broker and stays so
        long seq = 0;
        void ReportAll(IEnumerable<string> ids)
        {
            seq++;
            var now = DateTimeOffset.UtcNow;
            foreach (string id in ids) devices[id].Publish(seq.ToString(), PositionTopic(id), Fix(seq, now, id.StartsWith('A') ? 5000 : 0));
        }

        for (int i = 0; i < 6; i++) { ReportAll(devices.All.Keys); await Task.Delay(500, Ct); }
        await broker.StopAsync();
        var down = DateTime.UtcNow;
        while (DateTime.UtcNow - down < Outage) { ReportAll(reporting); await Task.Delay(500, Ct); } // kept by the devices
        await broker.StartAgainAsync();
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!ingest.IsReady && DateTime.UtcNow < until) await Task.Delay(100, Ct);
        Assert.True(ingest.IsReady, "the service did not connect to the broker again");

        // The devices that report again are never offline; A2, silent, is reported once its limit after the outage passes.
        var heardAgain = DateTime.UtcNow;
        while (DateTime.UtcNow - heardAgain < TimeSpan.FromSeconds(12)) { ReportAll(reporting); await Task.Delay(500, Ct); }
        await controlRoom.WaitForAsync(m => m.Payload.Contains("DeviceOffline", StringComparison.Ordinal)
            && m.Payload.Contains("\"deviceId\":\"A2\"", StringComparison.Ordinal), "A2 offline", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(controlRoom.Received, m => m.Payload.Contains("DeviceOffline", StringComparison.Ordinal)
            && !m.Payload.Contains("\"deviceId\":\"A2\"", StringComparison.Ordinal));
        Assert.Equal(1, await ScalarAsync(_cs, "select count(*) from alert where type = 'DeviceOffline'"));
        Assert.Equal("A2", (await RowsAsync(_cs, "select device_id from alert where type = 'DeviceOffline'"))[0][0]);
    }
}
