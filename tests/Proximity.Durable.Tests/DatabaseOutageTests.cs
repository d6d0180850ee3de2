using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using MQTTnet.Formatter;
using Proximity.Ingest;
using Proximity.Ingest.Tests;
using Proximity.Storage.Positions;
using Proximity.Storage.Tests;
using static Proximity.Grains.Durable.Tests.LiveService;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// Fault test: the database is stopped for 30 s under load while the live service (PostgreSQL storage; embedded
/// broker, or the production setup with an external Mosquitto) keeps taking fixes; a breach happens while it is
/// away, and the position history's bounded buffer runs full. Uses its own PostgreSQL server (the shared one serves
/// the other tests).
/// </summary>
public sealed class DatabaseOutageTests : IAsyncLifetime
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(500), Outage = TimeSpan.FromSeconds(30);
    private const int StepsBefore = 8, StepsAfter = 8;
    /// <summary>Smaller than what the devices send during the outage: the history buffer runs full.</summary>
    private const int BufferCapacity = 100;
    private static readonly string[] Pairs = ["1", "2"];
    private PostgresServer? _server;
    private string _cs = "";

    public async ValueTask InitializeAsync()
    {
        _server = await PostgresServer.StartAsync();
        _cs = await _server.CreateDatabaseAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(IngestMode.Embedded)]
    [InlineData(IngestMode.External)]
    public async Task Stopping_the_database_for_30_s_under_load_loses_no_acknowledged_fix_and_no_alert_and_duplicates_no_alert(IngestMode mode)
    {
        await using var mosquitto = mode == IngestMode.External ? await MosquittoBroker.StartAsync(Users(Pairs)) : null;
        await using var service = await LiveService.StartAsync(ServiceHost.Case(Pairs), _cs, mosquitto is null ? null : mosquitto.ServiceIngest("proximity-outage-test"),
            new Dictionary<string, string?>
            {
                ["Proximity:Storage:PositionBuffer:Capacity"] = BufferCapacity.ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
        int port = mosquitto?.Port ?? service.MqttPort;
        var ingest = service.Services.GetRequiredService<IIngestStatus>();
        var history = service.Services.GetRequiredService<PositionWriteBuffer>();
        await using var controlRoom = await ControlRoomAsync(port);
        // One phone speaks MQTT 3.1.1, whose PUBACK cannot say "send it again".
        await using var devices = await DeviceFleet.ConnectAsync(port, Pairs, p => p == "1" ? MqttProtocolVersion.V311 : MqttProtocolVersion.V500);

        // O2 is next to V2 from the start: its episode is open when the database goes. O1 comes close while it is away.
        var outage = new Stopwatch();
        DateTimeOffset outageFrom = default, outageTo = default;
        bool duringOutage = false;
        int step = 0, after = 0;
        while (after < StepsAfter)
        {
            step++;
            if (step == StepsBefore + 1)
            {
                await controlRoom.WaitForAsync(m => m.Payload.Contains("\"banId\":\"ban2\"", StringComparison.Ordinal), "breach of ban2", TimeSpan.FromSeconds(60));
                await _server!.StopAsync();
                outageFrom = DateTimeOffset.UtcNow;
                outage.Start();
                duringOutage = true;
            }
            else if (duringOutage && outage.Elapsed >= Outage)
            {
                Assert.True(ingest.IsReady, "ingest stopped while the database was away");
                outageTo = DateTimeOffset.UtcNow;
                await _server!.StartAgainAsync();
                duringOutage = false;
            }
            else if (!duringOutage && outage.IsRunning) after++;
            // O1 comes close 10 s into the outage (which lasts 30 s): its breach happens while the database is away.
            bool o1Near = duringOutage && outage.Elapsed >= TimeSpan.FromSeconds(10);
            var now = DateTimeOffset.UtcNow;
            foreach (var p in Pairs)
            {
                devices["P" + p].Publish(step.ToString(), PositionTopic("P" + p), Fix(step, now, 0));
                double east = p == "2" || o1Near || (!duringOutage && outage.IsRunning) ? 100 : 5000;
                devices["A" + p].Publish(step.ToString(), PositionTopic("A" + p), Fix(step, now.AddMilliseconds(1), east));
            }
            await Task.Delay(Step, Ct); // the devices' reporting rhythm, not an assertion
        }
        await devices.DrainAsync(TimeSpan.FromSeconds(120));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"database outage ({mode}): {history.Refused} fixes refused by the full history buffer, {devices.All.Values.Sum(d => d.Refusals)} publishes refused and sent again, {history.FailedAttempts} failed batch writes");

        // The service recovered by itself: everything it took is judged and written, and it stays ready.
        await WaitUntilHandledAsync(service, devices.All.ToDictionary(d => d.Key, _ => (long)step), TimeSpan.FromSeconds(90));
        await FlushHistoryAsync(service, Ct);
        Assert.True(ingest.IsReady);
        Assert.Equal(0, history.Pending);
        Assert.True(history.FailedAttempts > 0, "no history write failed: the database was not away under load");
        Assert.True(history.Refused > 0, "the history buffer never ran full: its bound was not tested");

        // Nothing acknowledged was dropped: every fix a device got a PUBACK for is in the position history.
        await devices.AssertAcknowledgedFixesStoredAsync(_cs, step);
        // Each breach recorded once (O1's raised while the database was away, once it is back) and published once.
        await AssertEachBreachRecordedAndPublishedOnceAsync(_cs, controlRoom, "O1", "O2");
        // O1's breach was decided while the database was away, from the fix that came close then (O1 stays close
        // afterwards: a breach noticed only once the database was back would pass everything above).
        var o1 = (await RowsAsync(_cs, "SELECT raised_at, decided_at FROM alert WHERE offender_id = 'O1' AND type = 'ContactBanBreach'")).Single();
        Assert.InRange(new DateTimeOffset((DateTime)o1[0]), outageFrom.AddSeconds(9), outageTo);
        Assert.InRange(new DateTimeOffset((DateTime)o1[1]), outageFrom.AddSeconds(9), outageTo);
    }
}
