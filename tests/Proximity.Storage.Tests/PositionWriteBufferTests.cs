using Proximity.Storage.Positions;

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
