using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Ingest;
using Proximity.Ingest.Tests;
using Proximity.Storage.Tests;
using static Proximity.Grains.Durable.Tests.LiveService;

namespace Proximity.Grains.Durable.Tests;

/// <summary>
/// Fault test: the external Mosquitto (persistence on) is restarted mid-stream while the service (production
/// mode: external broker, persistent session, shared subscription, PostgreSQL) and the devices keep going. The
/// devices follow the device protocol: a message not acknowledged, or answered "no matching subscribers" (Mosquitto
/// forgets shared subscriptions when it restarts, until the service subscribes again), is sent again.
/// </summary>
public sealed class BrokerRestartTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Steps = 60, StopAt = 16, StartAt = 28, SecondBreachFrom = 20;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);
    private static readonly string[] Pairs = ["1", "2"];
    private string _cs = "";

    public async ValueTask InitializeAsync() => _cs = await fixture.Server.CreateDatabaseAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>O1 is next to V1 from the start (its episode spans the restart); O2 comes close only while the broker is down.</summary>
    private static double OffenderEast(string pair, int step) => pair == "1" || step >= SecondBreachFrom ? 100 : 5000;

    [Fact]
    public async Task Restarting_the_broker_mid_stream_loses_no_acknowledged_fix_and_no_alert_and_duplicates_no_alert()
    {
        await using var broker = await MosquittoBroker.StartAsync(Users(Pairs), persistent: true);
        await using var service = await LiveService.StartAsync(ServiceHost.Case(Pairs), _cs, broker.ServiceIngest("proximity-fault-test"));
        var ingest = service.Services.GetRequiredService<IIngestStatus>();
        using var connects = new CounterReader(service.Services.GetRequiredService<IMeterFactory>(), IngestMetrics.BrokerConnectsCounter, "outcome");
        await using var controlRoom = await ControlRoomAsync(broker.Port);
        await using var devices = await DeviceFleet.ConnectAsync(broker.Port, Pairs);

        for (int step = 1; step <= Steps; step++)
        {
            if (step == StopAt)
            {
                // O1's breach is out before the broker goes: it must not come a second time after the restart.
                await controlRoom.WaitForAsync(m => m.Payload.Contains("\"banId\":\"ban1\"", StringComparison.Ordinal), "breach of ban1", TimeSpan.FromSeconds(60));
                await broker.StopAsync();
                await WaitAsync(() => !ingest.IsReady, "the service to notice the broker is gone");
            }
            if (step == StartAt) await broker.StartAgainAsync();
            var now = DateTimeOffset.UtcNow;
            foreach (var p in Pairs)
            {
                // Each device queues its fix; while the broker is down it keeps them and sends them afterwards, in order.
                devices["P" + p].Publish(step.ToString(), PositionTopic("P" + p), Fix(step, now, 0));
                devices["A" + p].Publish(step.ToString(), PositionTopic("A" + p), Fix(step, now.AddMilliseconds(1), OffenderEast(p, step)));
            }
            await Task.Delay(Step, Ct); // the devices' reporting rhythm, not an assertion
        }

        await devices.DrainAsync(TimeSpan.FromSeconds(90));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"broker restart: {devices.All.Values.Sum(d => d.Unheard)} publishes answered 'no matching subscribers' (sent again), {devices.All.Values.Sum(d => d.Connects)} device connections");
        // The service came back by itself (its reconnect pipeline) and took everything the broker held for it.
        Assert.True(ingest.IsReady, "the service is not connected to the broker again");
        await WaitUntilHandledAsync(service, devices.All.ToDictionary(d => d.Key, _ => (long)Steps), TimeSpan.FromSeconds(90));
        Assert.All(devices.All.Values, d => Assert.True(d.Connects >= 2, "a device did not have to reconnect: the broker was not restarted under it"));
        // Connected again, it stays so: the attempts that failed during the outage once made it go on connecting (and
        // failing, on a connected client) every few seconds.
        long attempts = connects.Total;
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        Assert.Equal(attempts, connects.Total);
        Assert.Equal(1, connects["connected"]); // once, after the restart (it connected before the counting began)
        Assert.True(connects["failed"] > 0, "no attempt failed: the service never saw the broker gone");

        // Every fix the broker acknowledged to a device is in the position history.
        await FlushHistoryAsync(service, Ct);
        await devices.AssertAcknowledgedFixesStoredAsync(_cs, Steps);
        // One breach per offender, recorded once and published once.
        await AssertEachBreachRecordedAndPublishedOnceAsync(_cs, controlRoom, "O1", "O2");
    }

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            try { await Task.Delay(50, cts.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"waited 30 s for {what}"); }
        }
    }
}
