using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;
using Proximity.Spatial.Schedules;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests.Monitoring;

public class AllocationTests
{
    [Fact]
    public void Judging_a_fix_allocates_nothing_when_no_alert_changes()
    {
        var nights = new WeeklySchedule([ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), new TimeSpan(22, 0, 0), new TimeSpan(6, 0, 0))]);
        var monitor = new OffenderMonitor("off-1",
        [
            new ContactBan { Id = "c", OffenderId = "off-1", VictimId = "vic-1", MinDistanceMeters = 500, WarningDistanceMeters = 1000 },
            new ZoneBan { Id = "z1", OffenderId = "off-1", Kind = ZoneKind.Exclusion, Area = TestData.Neighbourhood("Rivierenwijk"), WarningBufferMeters = 100 },
            new ZoneBan { Id = "z2", OffenderId = "off-1", Kind = ZoneKind.Exclusion, Area = ZoneArea.Circle(Track.Utrecht, 300), Schedule = nights },
            new ZoneBan { Id = "z3", OffenderId = "off-1", Kind = ZoneKind.Inclusion, Area = TestData.Neighbourhood("Lunetten-Zuid"), Schedule = nights },
        ]);
        var offender = new Track("dev-o", Track.Utrecht);
        var fixes = Enumerable.Range(0, 2000).Select(i => offender.At(i * 5, 5000 + (i % 7), 3000)).ToArray();
        var events = new List<MonitorEvent>(16);
        monitor.OnVictimFix("vic-1", new Track("dev-v", Track.Utrecht).At(0, 0, 0), false, events);
        for (int i = 0; i < 200; i++) monitor.OnOffenderFix(fixes[i], false, events);
        events.Clear();

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 200; i < fixes.Length; i++) monitor.OnOffenderFix(fixes[i], false, events);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Empty(events);
        Assert.Equal(0, allocated);
    }
}
