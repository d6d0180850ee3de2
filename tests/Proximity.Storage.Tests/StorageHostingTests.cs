using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Proximity.Storage.Alerts;
using Proximity.Storage.Positions;

namespace Proximity.Storage.Tests;

public sealed class StorageHostingTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    protected override bool Migrate => false;

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    [Fact]
    public async Task AddProximityStorage_migrates_at_start_and_the_buffer_writes_through_to_the_history()
    {
        using var host = Host.CreateDefaultBuilder()
            .ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning))
            .ConfigureServices(s => s.AddProximityStorage(ConnectionString, o =>
            {
                o.MigrateOnStart = true;
                o.PositionBuffer.FlushInterval = TimeSpan.FromMilliseconds(10);
            }))
            .Build();
        await host.StartAsync(Ct);

        var buffer = host.Services.GetRequiredService<PositionWriteBuffer>();
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < 300; i++) Assert.True(buffer.TryAdd(Samples.Fix("dev-h", i, now.AddSeconds(-i), now)));
        await buffer.FlushAsync(Ct).WaitAsync(TimeSpan.FromMinutes(1), Ct);

        Assert.Equal(300L, await ScalarAsync<long>("SELECT count(*) FROM position_fix WHERE device_id = 'dev-h'"));
        Assert.True(await ScalarAsync<long>("SELECT count(*) FROM schema_migrations") >= 5);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task The_maintenance_pass_creates_partitions_ahead_and_applies_retention()
    {
        await Migrations.Migrator.MigrateAsync(Database.DataSource, Ct);
        var store = new PositionStore(Database);
        var fixes = Enumerable.Range(0, 20).Select(i => Samples.Fix("dev-m", i, Samples.Day0.AddMinutes(i))).ToList();
        await store.AppendBatchAsync(fixes, Ct);
        await new AlertStore(Database).RecordAsync(Samples.Alert("alert-m", fixes[5]), "k-m", Ct);
        var service = new PositionMaintenanceService(store, new PositionRetention(Database, store),
            new PositionMaintenanceOptions { RetentionDays = 180, PartitionsAhead = 2 },
            NullLogger<PositionMaintenanceService>.Instance, new FixedTime(Samples.Day0.AddDays(200)));

        var result = await service.RunOnceAsync(Ct);

        Assert.Equal(["position_fix_20260310"], result!.DroppedPartitions);
        Assert.Equal([5L], (await store.ReadDeviceAsync("dev-m", Samples.Day0, Samples.Day0.AddDays(1), Ct)).Select(f => f.Fix.Seq));
        var day = DateOnly.FromDateTime(Samples.Day0.AddDays(200).UtcDateTime);
        foreach (int ahead in new[] { 0, 1, 2 })
            Assert.Equal(1L, await ScalarAsync<long>($"SELECT count(*) FROM pg_class WHERE relname = '{PositionStore.PartitionName(day.AddDays(ahead))}'"));
    }
}
