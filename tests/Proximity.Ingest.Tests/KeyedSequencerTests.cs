namespace Proximity.Ingest.Tests;

public sealed class KeyedSequencerTests
{
    [Fact]
    public async Task Work_for_one_key_runs_in_order_while_other_keys_go_ahead()
    {
        var sequencer = new KeyedSequencer();
        var firstOfA = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var order = new List<string>();
        var a1 = sequencer.Run("a", async () => { int v = await firstOfA.Task; lock (order) order.Add("a1"); return v; });
        var a2 = sequencer.Run("a", () => { lock (order) order.Add("a2"); return Task.FromResult(2); });
        var b1 = sequencer.Run("b", () => { lock (order) order.Add("b1"); return Task.FromResult(3); });

        // b does not wait for a; a2 waits for a1 however long a1 takes.
        Assert.Equal(3, await b1.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        Assert.False(a2.IsCompleted);
        firstOfA.SetResult(1);
        int[] results = await Task.WhenAll(a1, a2).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        Assert.Equal([1, 2], results);
        Assert.Equal(["b1", "a1", "a2"], order);
    }

    [Fact]
    public async Task A_failed_item_does_not_stop_the_next_one_of_its_key()
    {
        var sequencer = new KeyedSequencer();
        var failed = sequencer.Run<int>("a", () => throw new InvalidOperationException("boom"));
        var next = sequencer.Run("a", () => Task.FromResult(7));
        await Assert.ThrowsAsync<InvalidOperationException>(() => failed);
        Assert.Equal(7, await next.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
    }
}
