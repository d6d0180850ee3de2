using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Runtime;
using Proximity.Grains.Durability;
using Proximity.Grains.Outputs;
using Proximity.Grains.Tests;
using Proximity.Protocol;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;
using Proximity.Storage.Tests;
using static Proximity.Grains.Tests.Fixes;

namespace Proximity.Grains.Durable.Tests;

/// <summary>Two silos on one database; one is killed mid-stream; the other takes its grains over.</summary>
public sealed class TwoSiloTests(PostgresFixture fixture) : IAsyncLifetime
{
    private const int Steps = 30, KillAfter = 12;
    private readonly ManualTime _time = new();
    private string _cs = "";

    public async ValueTask InitializeAsync() => _cs = await fixture.Server.CreateDatabaseAsync(migrate: false);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>O1, O2 are next to their victims from the start; O3, O4 come close only after the kill.</summary>
    private static double OffenderEast(int offender, int step) => offender <= 2 ? 100 : step > KillAfter + 5 ? 150 : 5000;

    [Fact]
    public async Task Killing_one_of_two_silos_mid_stream_loses_no_fix_and_no_alert_and_duplicates_no_alert()
    {
        var mqttA = new RecordingMqtt();
        var mqttB = new RecordingMqtt();
        var a = await DurableSilo.StartAsync(_cs, _time, mqttA, Ct, preferLocal: true);
        await using var b = await DurableSilo.StartAsync(_cs, _time, mqttB, Ct, preferLocal: true);
        var start = _time.GetUtcNow();
        TimeSpan? recovery = null;
        var killedAt = Stopwatch.StartNew();

        for (int step = 1; step <= Steps; step++)
        {
            // The first steps go in through A, so the grains are placed there; the rest through B.
            var node = step <= KillAfter ? a : b;
            if (step == KillAfter + 1)
            {
                // A holds the decision state that must move.
                var stats = await a.Grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics(Ct);
                var siloA = a.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
                Assert.True(stats.Any(g => g.SiloAddress.Equals(siloA) && g.GrainType.Contains(nameof(OffenderGrain), StringComparison.Ordinal) && g.ActivationCount > 0),
                    $"no offender grain on A ({siloA}): {string.Join("; ", stats.Select(g => $"{g.SiloAddress} {g.GrainType} {g.ActivationCount}"))}");
                await a.CrashAsync(); // B has to find out by itself
                killedAt.Restart();
            }
            var ts = start.AddSeconds(5 * step);
            for (int i = 1; i <= 4; i++)
            {
                await DeliverAsync(node, $"p{i}", At($"p{i}", step, ts, 0));
                await DeliverAsync(node, $"a{i}", At($"a{i}", step, ts, OffenderEast(i, step)));
            }
            // Every offender and victim judged again, wherever its grains were.
            if (step == KillAfter + 1) recovery = killedAt.Elapsed;
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"two-silo kill: every person judged again {recovery?.TotalSeconds:F1} s after the kill");

        // Every accepted fix is in the position history (a redelivered one may be there twice: counted once).
        await b.Services.GetRequiredService<Storage.Positions.PositionWriteBuffer>().FlushAsync(Ct);
        for (int i = 1; i <= 4; i++)
        {
            foreach (string device in new[] { $"a{i}", $"p{i}" })
            {
                Assert.Equal(Steps, await ScalarAsync($"SELECT count(DISTINCT seq) FROM position_fix WHERE device_id = '{device}'"));
                Assert.Equal(Steps, (await b.Grains.DeviceGrain(device).GetStatus()).LastSeq);
            }
            // One breach episode per offender: raised once, never again after the handover.
            Assert.Equal(1L, await ScalarAsync($"SELECT count(*) FROM alert WHERE offender_id = 'O{i}' AND type = 'ContactBanBreach'"));
            var open = await b.Grains.OffenderGrain($"O{i}").GetOpenAlertIds();
            Assert.Single(open, id => id.StartsWith($"ban{i}:ContactBanBreach", StringComparison.Ordinal));
        }

        // Nothing recorded stays unpublished: what A could not deliver, B's outbox relay does.
        await b.Services.GetRequiredService<OutboxRelay>().RelayOnceAsync(Ct);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await ScalarAsync("SELECT count(*) FROM alert WHERE published_at IS NULL") > 0)
            await Task.Delay(100, timeout.Token); // polling the database: no signal for a row changing
        var breaches = await AlertIdsAsync("SELECT id FROM alert WHERE type = 'ContactBanBreach'");
        var sent = mqttA.Messages.Concat(mqttB.Messages).Where(m => m.Topic.StartsWith(Topics.AlertsPrefix, StringComparison.Ordinal))
            .Select(m => AlertJson.Deserialize(m.Payload)!).Where(x => x.Type == AlertType.ContactBanBreach && x.ClearedAt is null).Select(x => x.Id).ToHashSet();
        Assert.Equal(breaches.Order(), sent.Order());
    }

    /// <summary>Delivers one message as the broker does with QoS 1: again until a node takes it.</summary>
    private static async Task DeliverAsync(DurableSilo node, string device, PositionFix fix)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await node.Report(device, fix).WaitAsync(TimeSpan.FromSeconds(45), Ct);
                return;
            }
            catch (Exception) when (deadline.Elapsed < TimeSpan.FromMinutes(3))
            {
                await Task.Delay(250, Ct); // the broker's redelivery pause
            }
        }
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_cs);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private async Task<List<string>> AlertIdsAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_cs);
        await connection.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var r = await cmd.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await r.ReadAsync()) ids.Add(r.GetString(0));
        return ids;
    }
}
