using Npgsql;
using Proximity.Storage.Migrations;

namespace Proximity.Storage.Tests;

public sealed class MigrationTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    protected override bool Migrate => false;

    [Fact]
    public async Task First_run_applies_every_migration_and_second_run_is_a_no_op()
    {
        var first = await Migrator.MigrateAsync(Database.DataSource, Ct);
        Assert.Equal(Migrator.Embedded.Select(m => m.Version), first.Applied.Select(m => m.Version));
        long tables = await ScalarAsync<long>("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'");

        var second = await Migrator.MigrateAsync(Database.DataSource, Ct);

        Assert.Empty(second.Applied);
        Assert.Equal(first.CurrentVersion, second.CurrentVersion);
        Assert.Equal(Migrator.Embedded.Count, await ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
        Assert.Equal(tables, await ScalarAsync<long>("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"));
    }

    [Fact]
    public async Task Nodes_migrating_together_apply_each_migration_once()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var db = ProximityDatabase.Open(ConnectionString);
            return await Migrator.MigrateAsync(db.DataSource, Ct);
        }));

        Assert.Equal(Migrator.Embedded.Count, results.Sum(r => r.Applied.Count));
        Assert.Single(results, r => r.Applied.Count > 0);
        Assert.Equal(Migrator.Embedded.Count, await ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task A_migration_changed_after_it_was_applied_is_refused_and_nothing_changes()
    {
        await Migrator.MigrateAsync(Database.DataSource, Ct);
        await using (var cmd = Database.DataSource.CreateCommand("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"))
            await cmd.ExecuteNonQueryAsync(Ct);

        var e = await Assert.ThrowsAsync<MigrationException>(() => Migrator.MigrateAsync(Database.DataSource, Ct));

        Assert.Contains("was changed after it was applied", e.Message, StringComparison.Ordinal);
        Assert.Equal("edited", await ScalarAsync<string>("SELECT checksum FROM schema_migrations WHERE version = 1"));
    }

    [Fact]
    public async Task A_failing_migration_run_leaves_no_partial_schema()
    {
        // A table in the way makes the first migration fail half-way: everything rolls back.
        await using (var cmd = Database.DataSource.CreateCommand("CREATE TABLE device (x int)"))
            await cmd.ExecuteNonQueryAsync(Ct);

        await Assert.ThrowsAsync<PostgresException>(() => Migrator.MigrateAsync(Database.DataSource, Ct));

        Assert.Equal(0L, await ScalarAsync<long>(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('person', 'schema_migrations')"));
    }
}
