using Npgsql;
using Polly.CircuitBreaker;
using Proximity.Storage.Positions;
using Proximity.Storage.Resilience;

namespace Proximity.Storage.Tests;

/// <summary>Runs against a PostgreSQL server of its own, so it can be stopped mid-stream.</summary>
public sealed class PositionWriteBufferTests : IAsyncLifetime
{
    private PostgresServer? _server;

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }

    [Fact]
    public async Task Fixes_accepted_while_the_database_is_away_are_written_when_it_returns()
    {
        var server = _server!;
        string cs = await server.CreateDatabaseAsync();
        await using var db = ProximityDatabase.Open(cs);
        var store = new PositionStore(db);
        await store.EnsurePartitionsAheadAsync(DateTimeOffset.UtcNow, 1, TestContext.Current.CancellationToken);
        await using var buffer = new PositionWriteBuffer(store, new PositionWriteBufferOptions
        {
            Capacity = 5_000, BatchSize = 500, FlushInterval = TimeSpan.FromMilliseconds(20),
            RetryDelay = TimeSpan.FromMilliseconds(100), MaxRetryDelay = TimeSpan.FromMilliseconds(500),
        });
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < 1_000; i++) Assert.True(buffer.TryAdd(Samples.Fix("dev-a", i, now.AddSeconds(i), now)));
        await buffer.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        await server.StopAsync();
        for (int i = 1_000; i < 4_000; i++) Assert.True(buffer.TryAdd(Samples.Fix("dev-a", i, now.AddSeconds(i), now)));
        // Beyond capacity the buffer refuses at once instead of blocking the caller.
        await WaitUntil(() => buffer.FailedAttempts > 0);
        int refusedFrom = 4_000;
        while (buffer.TryAdd(Samples.Fix("dev-a", refusedFrom, now.AddSeconds(refusedFrom), now))) refusedFrom++;
        Assert.Equal(1, buffer.Refused);
        Assert.True(buffer.Pending <= 5_000 + 500, $"{buffer.Pending} pending");

        await server.StartAgainAsync();
        await buffer.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(2), TestContext.Current.CancellationToken);

        Assert.Equal(0, buffer.Pending);
        var stored = await store.ReadDeviceAsync("dev-a", now.AddDays(-1), now.AddDays(1), TestContext.Current.CancellationToken);
        Assert.Equal(Enumerable.Range(0, refusedFrom).Select(i => (long)i), stored.Select(f => f.Fix.Seq));
    }

    [Fact]
    public async Task Someone_waiting_for_a_flush_has_the_batch_written_at_once_instead_of_after_the_flush_interval()
    {
        var written = new List<long>();
        await using var buffer = new PositionWriteBuffer((batch, _) =>
        {
            lock (written) written.AddRange(batch.Select(f => f.Fix.Seq));
            return Task.CompletedTask;
        }, new PositionWriteBufferOptions { BatchSize = 1_000, FlushInterval = TimeSpan.FromHours(1) });
        var now = DateTimeOffset.UtcNow;
        for (int round = 0; round < 3; round++)
        {
            // The writer sleeps on the interval (an hour) until someone waits for what was accepted.
            for (int i = 0; i < 10; i++) Assert.True(buffer.TryAdd(Samples.Fix("dev-a", round * 10 + i, now.AddSeconds(i), now)));
            await buffer.FlushAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
            lock (written) Assert.Equal(Enumerable.Range(0, (round + 1) * 10).Select(i => (long)i), written);
        }
    }

    [Fact]
    public async Task While_the_database_is_away_acknowledgements_stop_waiting_for_the_write_but_a_flush_still_waits()
    {
        var ct = TestContext.Current.CancellationToken;
        var away = true;
        var written = new List<long>();
        await using var buffer = new PositionWriteBuffer((batch, _) =>
        {
            if (Volatile.Read(ref away)) throw new NpgsqlException("the database is away");
            lock (written) written.AddRange(batch.Select(f => f.Fix.Seq));
            return Task.CompletedTask;
        }, new PositionWriteBufferOptions
        {
            BatchSize = 100, FlushInterval = TimeSpan.FromMilliseconds(10),
            RetryDelay = TimeSpan.FromMilliseconds(20), MaxRetryDelay = TimeSpan.FromMilliseconds(50),
        });
        var now = DateTimeOffset.UtcNow;
        Assert.True(buffer.TryAdd(Samples.Fix("dev-a", 1, now, now)));
        // Waiting for the write: let go once the write fails, not when it succeeds.
        await buffer.WhenWrittenUnlessAwayAsync().WaitAsync(TimeSpan.FromMinutes(1), ct);
        Assert.True(buffer.DatabaseAway);
        var flush = buffer.FlushAsync(ct);
        Assert.True(buffer.TryAdd(Samples.Fix("dev-a", 2, now, now)));
        Assert.True(buffer.WhenWrittenUnlessAwayAsync().IsCompleted);
        // A further failed attempt after the flush began: the flush is still waiting for the write.
        long failed = buffer.FailedAttempts;
        await WaitUntil(() => buffer.FailedAttempts > failed);
        Assert.False(flush.IsCompleted);
        lock (written) Assert.Empty(written);

        Volatile.Write(ref away, false);
        await flush.WaitAsync(TimeSpan.FromMinutes(1), ct);
        await buffer.FlushAsync(ct).WaitAsync(TimeSpan.FromMinutes(1), ct);
        Assert.False(buffer.DatabaseAway);
        lock (written) Assert.Equal([1L, 2L], written);
    }

    [Fact]
    public async Task Database_calls_retry_transient_failures_and_fail_fast_while_the_circuit_is_open()
    {
        var server = _server!;
        string cs = await server.CreateDatabaseAsync(migrate: false);
        await using var db = ProximityDatabase.Open(cs, new DatabaseResilienceOptions
        {
            MaxRetryAttempts = 2, BaseDelay = TimeSpan.FromMilliseconds(10),
            FailureRatio = 0.5, MinimumThroughput = 3, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = TimeSpan.FromSeconds(1),
        });
        var ct = TestContext.Current.CancellationToken;
        int attempts = 0;
        async ValueTask<int> SelectOne(CancellationToken c)
        {
            Interlocked.Increment(ref attempts);
            await using var cmd = db.DataSource.CreateCommand("SELECT 1");
            return (int)(await cmd.ExecuteScalarAsync(c))!;
        }

        // A bad statement is not transient: one attempt, no retry.
        await Assert.ThrowsAsync<PostgresException>(async () => await db.RunAsync(async c =>
        {
            Interlocked.Increment(ref attempts);
            await using var cmd = db.DataSource.CreateCommand("SELEC 1");
            return await cmd.ExecuteScalarAsync(c);
        }, ct));
        Assert.Equal(1, attempts);

        await server.StopAsync();
        attempts = 0;
        var first = await Assert.ThrowsAnyAsync<Exception>(async () => await db.RunAsync(SelectOne, ct));
        Assert.True(first is NpgsqlException or BrokenCircuitException, first.GetType().Name);
        Assert.True(attempts >= 2, $"{attempts} attempts: transient failures are retried");
        // The circuit is open now: calls fail at once without touching the database.
        attempts = 0;
        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await db.RunAsync(SelectOne, ct));
        Assert.Equal(0, attempts);

        await server.StartAgainAsync();
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try { Assert.Equal(1, await db.RunAsync(SelectOne, ct)); break; }
            catch (BrokenCircuitException) when (DateTime.UtcNow < deadline) { await Task.Delay(100, ct); }
        }
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached within a minute");
            await Task.Delay(20);
        }
    }
}
