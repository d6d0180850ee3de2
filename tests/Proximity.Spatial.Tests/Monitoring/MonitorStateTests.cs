using System.Text.Json;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Monitoring;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests.Monitoring;

public class MonitorStateTests
{
    private static readonly Ban[] Bans =
    [
        new ZoneBan { Id = "ban-z", OffenderId = "off-1", Kind = ZoneKind.Exclusion, Area = ZoneArea.Circle(Track.Utrecht, 300) },
        new ContactBan { Id = "ban-c", OffenderId = "off-1", VictimId = "vic-1", MinDistanceMeters = 500, WarningDistanceMeters = 1000 },
    ];

    [Fact]
    public void A_restarted_monitor_continues_the_open_episode_without_a_second_alert()
    {
        var offender = new Track("dev-o", Track.Utrecht);
        var victim = new Track("dev-v", Track.Utrecht);
        var original = new OffenderMonitor("off-1", Bans);
        var events = new List<MonitorEvent>();
        events.AddRange(original.Victim("vic-1", victim.At(0, -200, 0)));
        for (int t = 0; t <= 60; t += 5) events.AddRange(original.Offender(offender.At(t, 0, 0)));
        Assert.Equal(2, events.Count(e => e.Kind == MonitorEventKind.Raised && e.Alert.Type != AlertType.ProximityWarning));

        string json = JsonSerializer.Serialize(original.Save());
        var restored = new OffenderMonitor("off-1", Bans);
        restored.Restore(JsonSerializer.Deserialize<MonitorState>(json)!);
        Assert.Equal(original.OpenAlerts.Select(a => a.Id).Order(), restored.OpenAlerts.Select(a => a.Id).Order());

        var after = new List<MonitorEvent>();
        for (int t = 65; t <= 120; t += 5) after.AddRange(restored.Offender(offender.At(t, 0, 0)));
        Assert.DoesNotContain(after, e => e.Kind == MonitorEventKind.Raised);
        for (int t = 125; t <= 400; t += 5) after.AddRange(restored.Offender(offender.At(t, 3000, 0)));
        var cleared = after.Where(e => e.Kind == MonitorEventKind.Cleared).Select(e => e.Alert.Id).ToList();
        Assert.Equal(original.OpenAlerts.Select(a => a.Id).Order(), cleared.Order());
    }

    [Fact]
    public void A_restarted_monitor_remembers_the_episodes_it_alerted_so_a_backlog_from_then_raises_nothing_new()
    {
        var bans = new Ban[] { Bans[0] };
        var offender = new Track("dev-o", Track.Utrecht);
        var original = new OffenderMonitor("off-1", bans);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 60; t += 5) events.AddRange(original.Offender(offender.At(t, 0, 0)));
        for (int t = 125; t <= 400; t += 5) events.AddRange(original.Offender(offender.At(t, 3000, 0)));
        Assert.Single(events, e => e.Kind == MonitorEventKind.Cleared && e.Alert.Type == AlertType.ExclusionZoneBreach);

        var restored = new OffenderMonitor("off-1", bans);
        restored.Restore(JsonSerializer.Deserialize<MonitorState>(JsonSerializer.Serialize(original.Save()))!);
        // Another device of the offender uploads fixes from inside the zone during that episode.
        var other = new Track("dev-o2", Track.Utrecht);
        var late = new List<MonitorEvent>();
        for (int t = 2; t <= 62; t += 10) restored.OnOffenderBackfill(other.At(t, 0, 0), late);
        Assert.Empty(late);
    }

    [Fact]
    public void Restored_tracks_keep_judging_suspect_jumps()
    {
        var bans = new Ban[] { Bans[0] };
        var offender = new Track("dev-o", Track.Utrecht);
        var original = new OffenderMonitor("off-1", bans);
        for (int t = 0; t <= 30; t += 5) original.Offender(offender.At(t, 2000, 0));
        var restored = new OffenderMonitor("off-1", bans);
        restored.Restore(JsonSerializer.Deserialize<MonitorState>(JsonSerializer.Serialize(original.Save()))!);
        // 2 km in 5 s right after the restart is still impossible: no breach from it alone.
        Assert.Empty(restored.Offender(offender.At(35, 0, 0)));
    }
}
