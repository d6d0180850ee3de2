using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Storage;
using Proximity.Grains.Durability;

namespace Proximity.Grains.Tests.Durability;

public sealed class PersistentStateExtensionsTests
{
    [Fact]
    public async Task A_write_that_succeeds_is_stored()
    {
        var state = new StoredState { State = "v1" };
        Assert.True(await state.TryWriteStateAsync(NullLogger.Instance, "device", "d1"));
        Assert.Equal(("v1", "1"), (state.Stored, state.StoredEtag));
    }

    [Fact]
    public async Task A_stale_etag_is_refreshed_and_the_newer_state_in_memory_is_written_next()
    {
        var state = new StoredState { State = "v1" };
        await state.TryWriteStateAsync(NullLogger.Instance, "device", "d1");
        state.LoseNextReply = true; // the write lands, its reply does not: the grain still holds the old etag
        state.State = "v2";
        Assert.False(await state.TryWriteStateAsync(NullLogger.Instance, "device", "d1"));
        state.State = "v3";
        Assert.False(await state.TryWriteStateAsync(NullLogger.Instance, "device", "d1")); // stale etag: refused
        Assert.Equal("v3", state.State); // refreshing the etag did not bring back what storage holds
        Assert.Equal(state.StoredEtag, state.Etag);
        Assert.True(await state.TryWriteStateAsync(NullLogger.Instance, "device", "d1"));
        Assert.Equal("v3", state.Stored);
    }

    [Fact]
    public async Task Storage_away_keeps_the_state_in_memory_and_the_etag()
    {
        var state = new StoredState { State = "v1" };
        await state.TryWriteStateAsync(NullLogger.Instance, "offender", "o1");
        state.Away = true;
        state.State = "v2";
        Assert.False(await state.TryWriteStateAsync(NullLogger.Instance, "offender", "o1"));
        Assert.Equal(("v2", "1", 0), (state.State, state.Etag, state.Reads));
        state.Away = false;
        Assert.True(await state.TryWriteStateAsync(NullLogger.Instance, "offender", "o1"));
        Assert.Equal("v2", state.Stored);
    }

    [Fact]
    public async Task Cancellation_is_not_swallowed()
    {
        var state = new StoredState { State = "v1", Cancel = true };
        await Assert.ThrowsAsync<OperationCanceledException>(() => state.TryWriteStateAsync(NullLogger.Instance, "victim", "v1"));
    }

    /// <summary>One grain's state over a storage that checks etags as the Orleans providers do.</summary>
    private sealed class StoredState : IPersistentState<string>
    {
        public string State { get; set; } = "";
        public string? Etag { get; private set; }
        public bool RecordExists => Etag is not null;
        public string? Stored { get; private set; }
        public string? StoredEtag { get; private set; }
        public bool LoseNextReply { get; set; }
        public bool Away { get; set; }
        public bool Cancel { get; set; }
        public int Reads { get; private set; }

        public Task WriteStateAsync()
        {
            if (Cancel) throw new OperationCanceledException();
            if (Away) throw new TimeoutException("the database does not answer");
            if (Etag != StoredEtag) throw new InconsistentStateException("etag mismatch", StoredEtag ?? "", Etag ?? "");
            Stored = State;
            StoredEtag = ((StoredEtag is null ? 0 : int.Parse(StoredEtag)) + 1).ToString();
            if (LoseNextReply)
            {
                LoseNextReply = false;
                throw new TimeoutException("the reply was lost");
            }
            Etag = StoredEtag;
            return Task.CompletedTask;
        }

        public Task ReadStateAsync()
        {
            Reads++;
            State = Stored ?? "";
            Etag = StoredEtag;
            return Task.CompletedTask;
        }

        public Task ClearStateAsync() => throw new NotSupportedException();
    }
}
