using System.Net;
using Orleans;
using Orleans.Runtime;
using Proximity.Storage.Orleans;

namespace Proximity.Storage.Tests;

public sealed class MembershipTableTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    private static int _generation = 1000;

    private static MembershipEntry Entry(int port, SiloStatus status = SiloStatus.Joining, DateTime? alive = null)
    {
        var now = DateTime.UtcNow;
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), Interlocked.Increment(ref _generation)),
            Status = status,
            HostName = "node-" + port,
            SiloName = "silo-" + port,
            ProxyPort = port + 1,
            StartTime = now.AddMinutes(-1),
            IAmAliveTime = alive ?? now,
            SuspectTimes = [],
        };
    }

    private async Task<PostgresMembershipTable> TableAsync()
    {
        var table = new PostgresMembershipTable(Database, "cluster-a");
        await table.InitializeMembershipTable(true);
        return table;
    }

    [Fact]
    public async Task Insert_then_read_round_trips_the_entry_and_moves_the_version()
    {
        var table = await TableAsync();
        var empty = await table.ReadAll();
        var entry = Entry(11111);
        entry.AddSuspector(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 22222), 7), new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc));

        Assert.True(await table.InsertRow(entry, empty.Version.Next()));
        Assert.False(await table.InsertRow(entry, (await table.ReadAll()).Version.Next())); // already there

        var row = await table.ReadRow(entry.SiloAddress);
        var (read, etag) = row.Members.Single();
        Assert.Equal(1, row.Version.Version);
        Assert.Equal(entry.SiloAddress, read.SiloAddress);
        Assert.Equal((entry.HostName, entry.SiloName, entry.ProxyPort, entry.Status), (read.HostName, read.SiloName, read.ProxyPort, read.Status));
        Assert.Equal(entry.StartTime.Ticks / 10, read.StartTime.Ticks / 10);
        var suspect = Assert.Single(read.SuspectTimes!);
        Assert.Equal((entry.SuspectTimes![0].Item1, entry.SuspectTimes[0].Item2), (suspect.Item1, suspect.Item2));
        Assert.False(string.IsNullOrEmpty(etag));
    }

    [Fact]
    public async Task A_stale_table_version_or_row_etag_is_refused_and_changes_nothing()
    {
        var table = await TableAsync();
        var entry = Entry(11111);
        Assert.True(await table.InsertRow(entry, (await table.ReadAll()).Version.Next()));
        var snapshot = await table.ReadAll();
        string etag = snapshot.Members.Single().Item2;

        entry.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRow(entry, etag, snapshot.Version.Next()));

        entry.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRow(entry, etag, (await table.ReadAll()).Version.Next()));    // stale row etag
        var current = await table.ReadAll();
        Assert.False(await table.UpdateRow(entry, current.Members.Single().Item2, snapshot.Version.Next())); // stale table version
        Assert.False(await table.InsertRow(Entry(33333), snapshot.Version.Next()));                       // stale table version

        var after = await table.ReadAll();
        Assert.Equal(SiloStatus.Active, after.Members.Single().Item1.Status);
        Assert.Equal(2, after.Version.Version);
    }

    [Fact]
    public async Task Of_concurrent_updates_from_the_same_snapshot_exactly_one_wins()
    {
        var table = await TableAsync();
        var entry = Entry(11111);
        await table.InsertRow(entry, (await table.ReadAll()).Version.Next());
        var snapshot = await table.ReadAll();
        var (read, etag) = snapshot.Members.Single();

        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(async i =>
        {
            await using var db = ProximityDatabase.Open(ConnectionString); // a node of its own
            var other = new PostgresMembershipTable(db, "cluster-a");
            var mine = Entry(11111);
            mine.SiloAddress = read.SiloAddress;
            mine.Status = SiloStatus.Active;
            mine.HostName = "writer-" + i;
            return await other.UpdateRow(mine, etag, snapshot.Version.Next());
        }));

        Assert.Single(results, ok => ok);
        var after = await table.ReadAll();
        Assert.Equal("writer-" + Array.IndexOf(results, true), after.Members.Single().Item1.HostName);
    }

    [Fact]
    public async Task IAmAlive_moves_only_the_alive_time()
    {
        var table = await TableAsync();
        var entry = Entry(11111, SiloStatus.Active);
        await table.InsertRow(entry, (await table.ReadAll()).Version.Next());
        var before = await table.ReadAll();

        entry.IAmAliveTime = entry.IAmAliveTime.AddSeconds(30);
        entry.Status = SiloStatus.Dead; // must not be written by UpdateIAmAlive
        await table.UpdateIAmAlive(entry);

        var after = await table.ReadAll();
        var (read, etag) = after.Members.Single();
        Assert.Equal(entry.IAmAliveTime.Ticks / 10, read.IAmAliveTime.Ticks / 10);
        Assert.Equal(SiloStatus.Active, read.Status);
        Assert.Equal(before.Members.Single().Item2, etag);
        Assert.Equal(before.Version, after.Version);
    }

    [Fact]
    public async Task Cleanup_removes_old_dead_silos_only_and_clusters_are_separate()
    {
        var table = await TableAsync();
        var old = DateTime.UtcNow.AddHours(-2);
        var deadOld = Entry(1, SiloStatus.Dead, old);
        var activeOld = Entry(2, SiloStatus.Active, old);
        var deadNew = Entry(3, SiloStatus.Dead);
        foreach (var e in new[] { deadOld, activeOld, deadNew })
            Assert.True(await table.InsertRow(e, (await table.ReadAll()).Version.Next()));
        var otherCluster = new PostgresMembershipTable(Database, "cluster-b");
        await otherCluster.InitializeMembershipTable(true);
        await otherCluster.InsertRow(Entry(4, SiloStatus.Dead, old), (await otherCluster.ReadAll()).Version.Next());

        await table.CleanupDefunctSiloEntries(DateTimeOffset.UtcNow.AddHours(-1));

        Assert.Equal([activeOld.SiloAddress, deadNew.SiloAddress],
            (await table.ReadAll()).Members.Select(m => m.Item1.SiloAddress).OrderBy(a => a.Endpoint.Port));
        Assert.Single((await otherCluster.ReadAll()).Members);

        await table.DeleteMembershipTableEntries("cluster-a");
        Assert.Empty((await table.ReadAll()).Members);
        Assert.Single((await otherCluster.ReadAll()).Members);
    }
}
