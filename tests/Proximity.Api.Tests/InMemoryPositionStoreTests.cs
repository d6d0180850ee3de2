using Proximity.Api.Positions;
using Proximity.Spatial.Decisions;

namespace Proximity.Api.Tests;

public sealed class InMemoryPositionStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_person_keeps_the_newest_fixes_up_to_the_cap_in_whole_chunks_and_the_oldest_go_first()
    {
        var store = new InMemoryPositionStore(maxPerPerson: 80);
        for (int i = 0; i < 1000; i++)
            store.Record("O1", new PositionFix("d1", i, T0.AddSeconds(i), 52.09, 5.12, 5), T0.AddSeconds(i));

        var kept = await store.TrackAsync("O1", T0, T0.AddDays(1), 10_000);
        Assert.InRange(kept.Count, 80, 80 + 128); // whole chunks of 128 are dropped
        Assert.Equal(999, kept[^1].Seq);
        Assert.Equal(Enumerable.Range(1000 - kept.Count, kept.Count).Select(i => (long)i), kept.Select(p => p.Seq));
        Assert.Equal(999, (await store.LastAsync("O1"))!.Seq);
    }

    [Fact]
    public async Task Fixes_arriving_in_any_order_are_kept_in_time_order_once_each()
    {
        // Store-and-forward uploads arrive late, devices resend, two devices of one person report the same second.
        var store = new InMemoryPositionStore();
        var random = new Random(20261124);
        var sent = Enumerable.Range(0, 3000)
            .Select(i => new PositionFix(i % 3 == 0 ? "d2" : "d1", i, T0.AddSeconds(i / 2), 52.09, 5.12, 5))
            .OrderBy(f => f.Seq + random.Next(-600, 600))
            .ToList();
        sent.AddRange(sent.Where((_, i) => i % 7 == 0).ToList()); // resent
        foreach (var fix in sent) store.Record("O1", fix, T0);

        var kept = await store.TrackAsync("O1", T0, T0.AddDays(1), 10_000);
        Assert.Equal(3000, kept.Count);
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), kept.Select(p => p.Seq).Order());
        Assert.True(kept.Zip(kept.Skip(1)).All(pair => pair.First.Timestamp <= pair.Second.Timestamp), "not in time order");
        Assert.Equal(T0.AddSeconds(1499), (await store.LastAsync("O1"))!.Timestamp);
        var window = await store.TrackAsync("O1", T0.AddSeconds(100), T0.AddSeconds(110), 5);
        Assert.Equal(5, window.Count);
        Assert.All(window, p => Assert.InRange(p.Timestamp, T0.AddSeconds(107), T0.AddSeconds(109)));
    }
}
