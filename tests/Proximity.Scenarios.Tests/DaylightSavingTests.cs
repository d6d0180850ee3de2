using Proximity.Scenarios.Generator;
using Proximity.Spatial.Monitoring;

namespace Proximity.Scenarios;

/// <summary>An inclusion zone "home 22:00–06:00" judged in Europe/Amsterdam time on the nights the clocks change.</summary>
public sealed class DaylightSavingTests
{
    private static readonly DailyWindow Night = new(TimeSpan.FromHours(22), TimeSpan.FromHours(6));

    /// <summary>The offender is out between the two UTC times; returns the breach alerts.</summary>
    private static (Scenario Scenario, List<DecidedAlert> Breaches) NightOut(string startUtc, string outUtc, string backUtc, string endUtc)
    {
        var (lat, lon) = CbsZones.Anchor(0);
        var plane = new LocalPlane(lat, lon);
        var home = new Vec(0, 0);
        var zone = TruthZone.Circle(plane, home, 150);
        var start = DateTimeOffset.Parse(startUtc, System.Globalization.CultureInfo.InvariantCulture);
        var leave = DateTimeOffset.Parse(outUtc, System.Globalization.CultureInfo.InvariantCulture);
        var back = DateTimeOffset.Parse(backUtc, System.Globalization.CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse(endUtc, System.Globalization.CultureInfo.InvariantCulture);
        var away = new Vec(800, 300);
        // Walk out so as to be just past the edge at `leave` and back in at `back`.
        double walkOut = 160 / 1.4;
        var t = new Trajectory(start, home).Stop(leave - start - TimeSpan.FromSeconds(walkOut)).To(new Vec(160, 0), 1.4).To(away, 1.4);
        var returnWalk = TimeSpan.FromSeconds(((away - new Vec(140, 0)).Length) / 1.4);
        if (back - returnWalk > t.End) t.Stop(back - returnWalk - t.End);
        t.To(new Vec(140, 0), 1.4).To(home, 1.4);
        if (end > t.End) t.Stop(end - t.End);
        var bans = new List<TruthBan>
        {
            new("home-1", "inclusion") { Zone = zone, Schedule = Night },
            new("contact-1", "contact") { MinDistance = 500, WarningDistance = 1000 },
        };
        var victim = new Trajectory(start, new Vec(5000, 5000)).Stop(t.End - start);
        var s = ScenarioGenerator.Assemble(1, ScenarioKind.InclusionNight, $"out {outUtc}–{backUtc}", plane, bans,
            t, new DeviceProfile { IntervalSeconds = 10, OpenAccuracy = 6, StationaryAccuracy = 15 },
            victim, new DeviceProfile { IntervalSeconds = 60 });
        return (s, new CoreDecider().Decide(s).Where(a => a.IsBreach).ToList());
    }

    [Fact]
    public void Autumn_night_schedule_ends_at_0600_CET_which_is_0500_UTC()
    {
        // 25 Oct 2026: 03:00 CEST becomes 02:00 CET. Out 04:20–05:40 UTC: in breach until 05:00 UTC only.
        var (s, breaches) = NightOut("2026-10-25T03:30:00Z", "2026-10-25T04:20:00Z", "2026-10-25T05:40:00Z", "2026-10-25T06:00:00Z");
        var episode = Assert.Single(s.Episodes);
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 5, 0, 0, TimeSpan.Zero), episode.End + TimeSpan.FromSeconds(1));
        ScenarioAssert.Episodes(s, breaches);
        Assert.True(breaches[0].ClearedAt <= new DateTimeOffset(2026, 10, 25, 5, 1, 0, TimeSpan.Zero), breaches[0].Line);
    }

    [Fact]
    public void Autumn_night_going_out_after_0600_CET_is_no_breach()
    {
        // 05:10 UTC is 06:10 CET: the schedule is over (a fixed UTC+1 would be right, UTC+2 from before the change wrong).
        var (s, breaches) = NightOut("2026-10-25T04:30:00Z", "2026-10-25T05:10:00Z", "2026-10-25T05:50:00Z", "2026-10-25T06:10:00Z");
        Assert.Empty(s.Episodes);
        Assert.Empty(breaches);
    }

    [Fact]
    public void Spring_night_schedule_ends_at_0600_CEST_which_is_0400_UTC()
    {
        // 29 Mar 2026: 02:00 CET becomes 03:00 CEST. Out 03:20–03:50 UTC (05:20–05:50 CEST): breach.
        var (s, breaches) = NightOut("2026-03-29T02:30:00Z", "2026-03-29T03:20:00Z", "2026-03-29T03:50:00Z", "2026-03-29T04:10:00Z");
        Assert.Single(s.Episodes);
        ScenarioAssert.Episodes(s, breaches);
        Assert.Equal(AlertType.InclusionZoneBreach, Assert.Single(breaches).Type);
    }

    [Fact]
    public void Spring_night_going_out_after_0600_CEST_is_no_breach()
    {
        // 04:10 UTC is 06:10 CEST (but 05:10 if one kept CET): no breach.
        var (s, breaches) = NightOut("2026-03-29T03:40:00Z", "2026-03-29T04:10:00Z", "2026-03-29T04:50:00Z", "2026-03-29T05:10:00Z");
        Assert.Empty(s.Episodes);
        Assert.Empty(breaches);
    }

    [Fact]
    public void Spring_evening_breach_starts_at_2200_CET()
    {
        // 28 Mar 2026 is still CET: out 20:40–21:30 UTC (21:40–22:30 local): breach from 21:00 UTC.
        var (s, breaches) = NightOut("2026-03-28T20:00:00Z", "2026-03-28T20:40:00Z", "2026-03-28T21:30:00Z", "2026-03-28T22:00:00Z");
        var episode = Assert.Single(s.Episodes);
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 21, 0, 0, TimeSpan.Zero), episode.Start);
        ScenarioAssert.Episodes(s, breaches);
        Assert.True(Assert.Single(breaches).RaisedAt >= episode.Start, breaches[0].Line);
    }
}
