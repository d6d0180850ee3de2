using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using Proximity.Storage.Orleans;

namespace Proximity.Storage.Tests;

public sealed record EpisodeState
{
    public string? OpenAlertId { get; init; }
    public List<long> Seqs { get; init; } = [];
}

public sealed class GrainStorageTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    private static readonly GrainId Grain = GrainId.Create("offender", "off-1");

    private PostgresGrainStorage Storage(ProximityDatabase? db = null, string service = "svc") => new(
        "state", service, db ?? Database,
        new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions())));

    [Fact]
    public async Task State_round_trips_and_reading_nothing_is_not_an_error()
    {
        var storage = Storage();
        var empty = new GrainState<EpisodeState> { State = new EpisodeState() };
        await storage.ReadStateAsync("episodes", Grain, empty);
        Assert.False(empty.RecordExists);
        Assert.Null(empty.ETag);

        var s = new GrainState<EpisodeState> { State = new EpisodeState { OpenAlertId = "alert-9", Seqs = [1, 2, 3] } };
        await storage.WriteStateAsync("episodes", Grain, s);
        s.State = s.State with { Seqs = [1, 2, 3, 4] };
        await storage.WriteStateAsync("episodes", Grain, s);

        var back = new GrainState<EpisodeState>();
        await storage.ReadStateAsync("episodes", Grain, back);
        Assert.True(back.RecordExists);
        Assert.Equal(s.ETag, back.ETag);
        Assert.Equal("alert-9", back.State!.OpenAlertId);
        Assert.Equal([1L, 2, 3, 4], back.State!.Seqs);

        // Another service sharing the database does not see it.
        var other = new GrainState<EpisodeState>();
        await Storage(service: "other").ReadStateAsync("episodes", Grain, other);
        Assert.False(other.RecordExists);
    }

    [Fact]
    public async Task A_stale_etag_is_refused_with_InconsistentStateException_and_changes_nothing()
    {
        var storage = Storage();
        var a = new GrainState<EpisodeState> { State = new EpisodeState { OpenAlertId = "a" } };
        await storage.WriteStateAsync("episodes", Grain, a);
        var b = new GrainState<EpisodeState>();
        await storage.ReadStateAsync("episodes", Grain, b);
        a.State = new EpisodeState { OpenAlertId = "a2" };
        await storage.WriteStateAsync("episodes", Grain, a);

        b.State = new EpisodeState { OpenAlertId = "b" };
        var e = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("episodes", Grain, b));
        Assert.Equal(a.ETag, e.StoredEtag);
        // A writer that believes there is no state yet is refused too.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("episodes", Grain, new GrainState<EpisodeState> { State = new() }));

        var now = new GrainState<EpisodeState>();
        await storage.ReadStateAsync("episodes", Grain, now);
        Assert.Equal("a2", now.State!.OpenAlertId);
    }

    [Fact]
    public async Task Of_concurrent_writers_with_the_same_etag_exactly_one_wins()
    {
        var first = new GrainState<EpisodeState> { State = new EpisodeState() };
        await Storage().WriteStateAsync("episodes", Grain, first);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            await using var db = ProximityDatabase.Open(ConnectionString);
            var s = new GrainState<EpisodeState> { ETag = first.ETag, State = new EpisodeState { OpenAlertId = "writer-" + i } };
            try { await Storage(db).WriteStateAsync("episodes", Grain, s); return true; }
            catch (InconsistentStateException) { return false; }
        }));

        Assert.Single(outcomes, ok => ok);
        var now = new GrainState<EpisodeState>();
        await Storage().ReadStateAsync("episodes", Grain, now);
        Assert.Equal("writer-" + Array.IndexOf(outcomes, true), now.State!.OpenAlertId);
    }

    [Fact]
    public async Task Clearing_leaves_no_state_and_an_old_etag_cannot_come_back()
    {
        var storage = Storage();
        var s = new GrainState<EpisodeState> { State = new EpisodeState { OpenAlertId = "x" } };
        await storage.WriteStateAsync("episodes", Grain, s);
        string before = s.ETag!;

        await storage.ClearStateAsync("episodes", Grain, s);
        Assert.False(s.RecordExists);

        var read = new GrainState<EpisodeState> { State = new EpisodeState() };
        await storage.ReadStateAsync("episodes", Grain, read);
        Assert.False(read.RecordExists);
        Assert.Equal(s.ETag, read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync("episodes", Grain, new GrainState<EpisodeState> { ETag = before, State = new() }));

        read.State = new EpisodeState { OpenAlertId = "y" };
        await storage.WriteStateAsync("episodes", Grain, read);
        Assert.True(read.RecordExists);
    }
}
