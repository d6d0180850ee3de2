using System.Diagnostics;
using Proximity.Storage.Alerts;
using Proximity.Storage.Positions;

namespace Proximity.Storage.Tests;

public sealed class PositionStoreTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    [Fact]
    public async Task A_batch_lands_in_daily_partitions_and_reads_back_in_device_time_order()
    {
        var store = new PositionStore(Database);
        var batch = new List<StoredFix>();
        for (int i = 0; i < 500; i++)
        {
            // Half arrive on day 0, half on day 1 (a late upload of buffered fixes).
            var t = Samples.Day0.AddHours(20).AddSeconds(i * 10);
            batch.Add(Samples.Fix("dev-a", i, t, receivedAt: i < 250 ? t.AddSeconds(1) : Samples.Day0.AddDays(1).AddHours(3)));
        }
        batch.Reverse();

        await store.AppendBatchAsync(batch, Ct);

        var back = await store.ReadDeviceAsync("dev-a", Samples.Day0, Samples.Day0.AddDays(2), Ct);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => (long)i), back.Select(f => f.Fix.Seq));
        Assert.Equal(batch.Single(f => f.Fix.Seq == 42), back[42]);
        Assert.Equal(250L, await ScalarAsync<long>("SELECT count(*) FROM position_fix_20260310"));
        Assert.Equal(250L, await ScalarAsync<long>("SELECT count(*) FROM position_fix_20260311"));
    }

    [Fact]
    public async Task A_redelivered_fix_is_read_back_once()
    {
        var store = new PositionStore(Database);
        var fix = Samples.Fix("dev-a", 1, Samples.Day0.AddHours(1));
        await store.AppendBatchAsync([fix], Ct);
        await store.AppendBatchAsync([fix with { ReceivedAt = fix.ReceivedAt.AddSeconds(30) }], Ct);

        var back = await store.ReadDeviceAsync("dev-a", Samples.Day0, Samples.Day0.AddDays(1), Ct);

        Assert.Single(back);
        Assert.Equal(fix.ReceivedAt, back[0].ReceivedAt);
    }

    [Fact]
    public async Task An_invalid_fix_fails_the_whole_batch_and_nothing_is_written()
    {
        var store = new PositionStore(Database);
        var good = Samples.Fix("dev-a", 1, Samples.Day0.AddHours(1));
        var bad = good with { Fix = good.Fix with { Seq = 2, Latitude = 95 } };

        await Assert.ThrowsAsync<ArgumentException>(() => store.AppendBatchAsync([good, bad], Ct));

        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM position_fix"));
    }

    [Fact]
    public async Task Partitions_are_created_ahead_and_by_several_nodes_at_once()
    {
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            new PositionStore(Database).EnsurePartitionsAheadAsync(Samples.Day0, 3, Ct)));

        Assert.Equal(4L, await ScalarAsync<long>(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'position_fix'::regclass"));
    }

    [Fact]
    public async Task Retention_drops_old_days_but_keeps_fixes_used_as_alert_evidence()
    {
        var store = new PositionStore(Database);
        var old = Enumerable.Range(0, 100).Select(i => Samples.Fix("dev-a", i, Samples.Day0.AddHours(8).AddSeconds(i * 30))).ToList();
        var recent = Enumerable.Range(100, 50).Select(i => Samples.Fix("dev-a", i, Samples.Day0.AddDays(40).AddSeconds(i))).ToList();
        await store.AppendBatchAsync([.. old, .. recent], Ct);
        await new AlertStore(Database).RecordAsync(Samples.Alert("alert-1", old[10], old[11], old[12]), "episode-1", Ct);

        var result = await new PositionRetention(Database, store).PurgeAsync(Samples.Day0.AddDays(30), Ct);

        Assert.Equal(["position_fix_20260310"], result.DroppedPartitions);
        Assert.Equal(3, result.EvidenceFixesKept);
        var left = await store.ReadDeviceAsync("dev-a", Samples.Day0, Samples.Day0.AddDays(60), Ct);
        Assert.Equal([10L, 11L, 12L, .. Enumerable.Range(100, 50).Select(i => (long)i)], left.Select(f => f.Fix.Seq));
        Assert.Equal(old[11], left[1]);

        // Running it again drops nothing more and loses nothing.
        var again = await new PositionRetention(Database, store).PurgeAsync(Samples.Day0.AddDays(30), Ct);
        Assert.Empty(again.DroppedPartitions);
        Assert.Equal(53, (await store.ReadDeviceAsync("dev-a", Samples.Day0, Samples.Day0.AddDays(60), Ct)).Count);

        // New fixes for a dropped day still find a partition.
        await store.AppendBatchAsync([Samples.Fix("dev-a", 500, Samples.Day0.AddHours(9))], Ct);
    }

    [Fact]
    public async Task Binary_copy_throughput_is_reported()
    {
        var store = new PositionStore(Database);
        const int total = 100_000, batchSize = 5_000;
        var fixes = Enumerable.Range(0, total).Select(i => Samples.Fix($"dev-{i % 1000}", i / 1000, Samples.Day0.AddSeconds(i / 1000))).ToList();
        await store.EnsurePartitionsAheadAsync(Samples.Day0, 1, Ct);

        var sw = Stopwatch.StartNew();
        for (int i = 0; i < total; i += batchSize) await store.AppendBatchAsync(fixes.GetRange(i, batchSize), Ct);
        sw.Stop();

        Assert.Equal(total, await ScalarAsync<long>("SELECT count(*) FROM position_fix"));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"position history: {total} fixes in {sw.ElapsedMilliseconds} ms = {total / sw.Elapsed.TotalSeconds:F0} fixes/s (batches of {batchSize})");
    }
}
