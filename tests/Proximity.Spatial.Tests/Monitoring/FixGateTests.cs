using System.Text.Json;
using Proximity.Spatial.Monitoring;

namespace Proximity.Spatial.Tests.Monitoring;

public class FixGateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Drops_repeats_and_holds_back_fixes_older_than_the_newest_evaluated()
    {
        var gate = new FixGate();
        Assert.Equal(FixAdmission.Accepted, gate.Admit("a", 1, T0));
        Assert.Equal(FixAdmission.Accepted, gate.Admit("a", 3, T0.AddSeconds(30)));
        Assert.Equal(FixAdmission.Duplicate, gate.Admit("a", 1, T0));
        Assert.Equal(FixAdmission.Stale, gate.Admit("a", 2, T0.AddSeconds(15)));
        Assert.Equal(FixAdmission.Duplicate, gate.Admit("a", 2, T0.AddSeconds(15)));
    }

    [Fact]
    public void A_restored_gate_still_knows_every_number_it_had_seen_not_only_the_newest()
    {
        var gate = new FixGate();
        for (int seq = 1; seq <= 10; seq++) gate.Admit("a", seq, T0.AddSeconds(seq));
        gate.Admit("a", 20, T0.AddSeconds(20)); // 11–19 never came (yet)
        gate.Admit("b", 7, T0.AddSeconds(21));

        var restored = new FixGate();
        restored.Restore(JsonSerializer.Deserialize<FixGateState>(JsonSerializer.Serialize(gate.Save()))!);

        Assert.Equal(gate.NewestEvaluated, restored.NewestEvaluated);
        // A message delivered again after a restart: every fix of it is a repeat.
        for (int seq = 1; seq <= 10; seq++) Assert.Equal(FixAdmission.Duplicate, restored.Admit("a", seq, T0.AddSeconds(seq)));
        Assert.Equal(FixAdmission.Duplicate, restored.Admit("a", 20, T0.AddSeconds(20)));
        Assert.Equal(FixAdmission.Duplicate, restored.Admit("b", 7, T0.AddSeconds(21)));
        // What never came is history when it does; newer fixes go on.
        Assert.Equal(FixAdmission.Stale, restored.Admit("a", 15, T0.AddSeconds(15)));
        Assert.Equal(FixAdmission.Accepted, restored.Admit("a", 21, T0.AddSeconds(22)));
        Assert.Equal([new SeqRange(1, 10), new SeqRange(15, 15), new SeqRange(20, 21)], restored.Save().Seen["a"]);
    }

    [Fact]
    public void Only_the_window_is_kept()
    {
        var gate = new FixGate();
        for (int seq = 0; seq < 10_000; seq++) gate.Admit("a", seq, T0.AddSeconds(seq));
        Assert.Equal([new SeqRange(10_000 - 4096, 9_999)], gate.Save().Seen["a"]);
    }
}
