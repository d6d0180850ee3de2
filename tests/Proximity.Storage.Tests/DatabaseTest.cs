using Npgsql;

namespace Proximity.Storage.Tests;

/// <summary>Gives each test its own migrated database on the shared private server.</summary>
public abstract class DatabaseTest(PostgresFixture fixture) : IAsyncLifetime
{
    private ProximityDatabase? _database;

    protected PostgresServer Server => fixture.Server;

    protected string ConnectionString { get; private set; } = "";

    protected ProximityDatabase Database => _database ?? throw new InvalidOperationException("not initialised");

    protected virtual bool Migrate => true;

    public virtual async ValueTask InitializeAsync()
    {
        ConnectionString = await fixture.Server.CreateDatabaseAsync(Migrate);
        _database = ProximityDatabase.Open(ConnectionString);
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (_database is not null) await _database.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected async Task<T> ScalarAsync<T>(string sql)
    {
        await using var cmd = Database.DataSource.CreateCommand(sql);
        return (T)(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>Runs SQL as the superuser with the append-only triggers off: what an intruder with database access could do.</summary>
    protected async Task TamperAsync(string table, string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand($"ALTER TABLE {table} DISABLE TRIGGER USER; {sql}; ALTER TABLE {table} ENABLE TRIGGER USER;", connection);
        await cmd.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
    }

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;
}
