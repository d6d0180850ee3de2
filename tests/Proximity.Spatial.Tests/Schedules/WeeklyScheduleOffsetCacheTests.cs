using CsCheck;
using Proximity.Spatial.Schedules;

namespace Proximity.Spatial.Tests.Schedules;

/// <summary>IsActive keeps the zone offset per UTC hour and its last answer per UTC minute; it must agree with a plain
/// conversion at every instant.</summary>
public class WeeklyScheduleOffsetCacheTests
{
    private static readonly DayOfWeek[] Weekdays = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    private static bool Reference(WeeklySchedule schedule, TimeZoneInfo zone, DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant.UtcDateTime, TimeZoneInfo.Utc, zone);
        var time = local.TimeOfDay;
        var today = local.DayOfWeek;
        var yesterday = today == DayOfWeek.Sunday ? DayOfWeek.Saturday : today - 1;
        return schedule.Windows.Any(w => w.CrossesMidnight
            ? (w.Days.Contains(today) && time >= w.From) || (w.Days.Contains(yesterday) && time < w.To)
            : w.Days.Contains(today) && time >= w.From && time < w.To);
    }

    [Fact]
    public void Agrees_with_a_plain_conversion_at_random_instants_in_several_zones()
    {
        var zones = new[] { WeeklySchedule.Amsterdam, TimeZoneInfo.FindSystemTimeZoneById("America/St_Johns"),
            TimeZoneInfo.FindSystemTimeZoneById("Asia/Kathmandu"), TimeZoneInfo.FindSystemTimeZoneById("Australia/Lord_Howe") };
        Gen.Select(Gen.Int[0, zones.Length - 1], Gen.Int[0, 6], Gen.Int[0, 95], Gen.Int[0, 96], Gen.Long[0, 40L * 365 * 86400], Gen.Int[1, 400])
            .Sample((z, day, from, to, seconds, step) =>
            {
                var schedule = new WeeklySchedule(
                    [ScheduleWindow.Create([(DayOfWeek)day, DayOfWeek.Saturday], TimeSpan.FromMinutes(15 * from), TimeSpan.FromMinutes(15 * to))], zones[z]);
                // A burst of nearby instants, as fixes come, exercises the cached hour and its edges.
                var t = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(seconds);
                for (int i = 0; i < 50; i++, t = t.AddSeconds(step))
                    if (schedule.IsActive(t) != Reference(schedule, zones[z], t)) return false;
                return true;
            }, iter: 3000);
    }

    [Theory]
    // Spring forward in Amsterdam: 29 March 2026, 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    [InlineData("2026-03-29T00:59:59Z", true)]   // 01:59:59 CET
    [InlineData("2026-03-29T01:00:00Z", true)]   // 03:00 CEST
    [InlineData("2026-03-29T04:00:00Z", false)]  // 06:00 CEST: the window has ended by the wall clock
    [InlineData("2026-03-29T03:59:59Z", true)]   // 05:59:59 CEST
    // Fall back: 25 October 2026, 03:00 CEST becomes 02:00 CET at 01:00 UTC.
    [InlineData("2026-10-25T04:59:59Z", true)]   // 05:59:59 CET
    [InlineData("2026-10-25T05:00:00Z", false)]  // 06:00 CET
    [InlineData("2026-10-24T19:59:59Z", false)]  // 21:59:59 CEST on Saturday
    [InlineData("2026-10-24T20:00:00Z", true)]   // 22:00 CEST on Saturday
    public void Night_window_follows_the_Amsterdam_wall_clock_across_DST(string utc, bool active)
    {
        var schedule = new WeeklySchedule([ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), TimeSpan.FromHours(22), TimeSpan.FromHours(6))]);
        var instant = DateTimeOffset.Parse(utc, System.Globalization.CultureInfo.InvariantCulture);
        // Ask an hour earlier first so the cached hour is a different one.
        schedule.IsActive(instant.AddHours(-1));
        Assert.Equal(active, schedule.IsActive(instant));
        Assert.Equal(active, Reference(schedule, WeeklySchedule.Amsterdam, instant));
    }

    [Fact]
    public void Extreme_instants_do_not_throw()
    {
        var schedule = new WeeklySchedule([ScheduleWindow.Create(Weekdays, TimeSpan.FromHours(8), TimeSpan.FromHours(17))]);
        _ = schedule.IsActive(DateTimeOffset.MinValue);
        _ = schedule.IsActive(DateTimeOffset.MaxValue);
    }
}
