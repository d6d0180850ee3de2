using CsCheck;
using Proximity.Spatial.Decisions;

namespace Proximity.Spatial.Tests.Decisions;

public class EpisodeTrackerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    private static Observation Obs(double t, double depth, double radius = 10, bool suspect = false) =>
        new(Observation.Classify(depth, radius), depth, radius, radius * Observation.SigmaPer95Radius, T0.AddSeconds(t), suspect);

    [Fact]
    public void Classification_uses_the_whole_uncertainty_region()
    {
        Assert.Equal(Certainty.Certain, Observation.Classify(10, 10));
        Assert.Equal(Certainty.Possible, Observation.Classify(9.9, 10));
        Assert.Equal(Certainty.Possible, Observation.Classify(-9.9, 10));
        Assert.Equal(Certainty.None, Observation.Classify(-10, 10));
    }

    [Fact]
    public void A_certain_breach_raises_at_once_and_only_once()
    {
        var t = new EpisodeTracker(DecisionOptions.Default);
        Assert.Equal(EpisodeStep.Raised, t.Observe(Obs(0, 30)));
        for (int i = 1; i < 50; i++) Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(i * 5, 30)));
        Assert.True(t.IsOpen);
    }

    [Fact]
    public void A_suspect_certain_fix_does_not_raise_on_its_own()
    {
        var t = new EpisodeTracker(DecisionOptions.Default);
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(0, 300, suspect: true)));
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(5, -50)));
        Assert.False(t.IsOpen);
    }

    [Fact]
    public void Persistent_possible_breaches_leaning_inside_raise_and_those_leaning_outside_do_not()
    {
        var inside = new EpisodeTracker(DecisionOptions.Default);
        var outside = new EpisodeTracker(DecisionOptions.Default);
        var raisedInside = Enumerable.Range(0, 40).Select(i => inside.Observe(Obs(i * 10, 12, 40))).ToList();
        var raisedOutside = Enumerable.Range(0, 60).Select(i => outside.Observe(Obs(i * 10, -12, 40))).ToList();
        Assert.Contains(EpisodeStep.Raised, raisedInside);
        Assert.DoesNotContain(EpisodeStep.Raised, raisedOutside);
    }

    [Fact]
    public void An_episode_ends_only_after_the_hold_time_clearly_out()
    {
        var t = new EpisodeTracker(DecisionOptions.Default);
        t.Observe(Obs(0, 30));
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(10, -30)));
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(40, -30)));
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(50, 2)));   // back near the edge: hold restarts
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(60, -30)));
        Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(100, -30)));
        Assert.Equal(EpisodeStep.Cleared, t.Observe(Obs(120, -30)));
        Assert.False(t.IsOpen);
    }

    [Fact]
    public void Suspect_fixes_cannot_clear_an_episode()
    {
        var t = new EpisodeTracker(DecisionOptions.Default);
        t.Observe(Obs(0, 30));
        for (int i = 1; i < 40; i++) Assert.Equal(EpisodeStep.Nothing, t.Observe(Obs(i * 10, -500, suspect: true)));
        Assert.True(t.IsOpen);
    }

    [Fact]
    public void Flapping_at_the_edge_gives_one_episode()
    {
        // Property: whatever the order of depths within ±radius after a raise, the episode never ends
        // while fixes keep landing within the uncertainty of the limit.
        Gen.Double[-3, 10].Array[5, 60].Sample(depths =>
        {
            var t = new EpisodeTracker(DecisionOptions.Default);
            t.Observe(Obs(0, 30));
            int raised = 0, cleared = 0;
            for (int i = 0; i < depths.Length; i++)
            {
                var step = t.Observe(Obs(5 + i * 5, depths[i], 10));
                if (step == EpisodeStep.Raised) raised++;
                if (step == EpisodeStep.Cleared) cleared++;
            }
            return raised == 0 && cleared == 0;
        });
    }
}
