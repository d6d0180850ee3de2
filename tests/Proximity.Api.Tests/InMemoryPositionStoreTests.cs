using Proximity.Api.Positions;
using Proximity.Spatial.Decisions;

namespace Proximity.Api.Tests;

public sealed class InMemoryPositionStoreTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_person_keeps_the_newest_fixes_up_to_the_cap_and_the_oldest_go_first()
    {
        var store = new InMemoryPositionStore(maxPerPerson: 80);
        for (int i = 0; i < 1000; i++)
            store.Record("O1", new PositionFix("d1", i, T0.AddSeconds(i), 52.09, 5.12, 5), T0.AddSeconds(i));

        var kept = await store.TrackAsync("O1", T0, T0.AddDays(1), 10_000);
        Assert.InRange(kept.Count, 80, 90);
        Assert.Equal(999, kept[^1].Seq);
        Assert.Equal(Enumerable.Range(1000 - kept.Count, kept.Count).Select(i => (long)i), kept.Select(p => p.Seq));
        Assert.Equal(999, (await store.LastAsync("O1"))!.Seq);
    }
}
