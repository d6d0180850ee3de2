using CsCheck;
using Proximity.Spatial.Schedules;

namespace Proximity.Spatial.Tests.Schedules;

public class WeeklyScheduleTests
{
    private static WeeklySchedule Nights(params DayOfWeek[] days) =>
        new([ScheduleWindow.Create(days, new TimeSpan(22, 0, 0), new TimeSpan(6, 0, 0))]);

    private static DateTimeOffset Utc(string s) => DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture);

    [Theory]
    [InlineData("2026-01-13T20:59:00Z", false)] // Tue 21:59 CET
    [InlineData("2026-01-13T21:00:00Z", true)]  // Tue 22:00 CET
    [InlineData("2026-01-14T04:59:00Z", true)]  // Wed 05:59 CET, window started Tuesday
    [InlineData("2026-01-14T05:00:00Z", false)] // Wed 06:00 CET
    [InlineData("2026-07-14T19:59:00Z", false)] // Tue 21:59 CEST
    [InlineData("2026-07-14T20:00:00Z", true)]  // Tue 22:00 CEST: the wall clock decides, not UTC
    [InlineData("2026-07-15T03:59:00Z", true)]  // Wed 05:59 CEST
    [InlineData("2026-07-15T04:00:00Z", false)] // Wed 06:00 CEST
    public void Overnight_window_follows_local_time_in_winter_and_summer(string utc, bool expected) =>
        Assert.Equal(expected, Nights(DayOfWeek.Tuesday).IsActive(Utc(utc)));

    [Fact]
    public void Days_name_the_day_a_window_starts()
    {
        var friday = Nights(DayOfWeek.Friday);
        Assert.True(friday.IsActive(Utc("2026-01-17T02:00:00Z")));  // Saturday 03:00, started Friday
        Assert.False(friday.IsActive(Utc("2026-01-16T02:00:00Z"))); // Friday 03:00 belongs to Thursday's night
    }

    [Fact]
    public void Windows_around_the_spring_and_autumn_clock_changes_keep_their_wall_clock_hours()
    {
        var saturday = Nights(DayOfWeek.Saturday);
        // Night of Sat 28 → Sun 29 March 2026: clocks go 02:00 CET → 03:00 CEST; 06:00 CEST = 04:00 UTC.
        Assert.True(saturday.IsActive(Utc("2026-03-29T03:59:00Z")));
        Assert.False(saturday.IsActive(Utc("2026-03-29T04:00:00Z")));
        // Night of Sat 24 → Sun 25 October 2026: 03:00 CEST → 02:00 CET; 06:00 CET = 05:00 UTC.
        Assert.True(saturday.IsActive(Utc("2026-10-25T04:59:00Z")));
        Assert.False(saturday.IsActive(Utc("2026-10-25T05:00:00Z")));
        Assert.True(saturday.IsActive(Utc("2026-10-24T20:00:00Z")));  // 22:00 CEST
        Assert.False(saturday.IsActive(Utc("2026-10-24T19:59:00Z")));
    }

    [Fact]
    public void A_same_day_window_and_the_whole_day_window()
    {
        var day = new WeeklySchedule([ScheduleWindow.Create([DayOfWeek.Monday], new TimeSpan(9, 0, 0), new TimeSpan(17, 0, 0))]);
        Assert.True(day.IsActive(Utc("2026-01-12T08:00:00Z")));   // Mon 09:00 CET
        Assert.False(day.IsActive(Utc("2026-01-12T16:00:00Z")));  // Mon 17:00 CET
        var allDay = new WeeklySchedule([ScheduleWindow.Create([DayOfWeek.Sunday], TimeSpan.Zero, TimeSpan.Zero)]);
        Assert.True(allDay.IsActive(Utc("2026-01-11T12:00:00Z")));
        Assert.True(allDay.IsActive(Utc("2026-01-11T22:59:00Z")));  // Sunday 23:59 CET
        Assert.False(allDay.IsActive(Utc("2026-01-11T23:00:00Z"))); // Monday 00:00 CET
    }

    [Fact]
    public void Schedule_matches_a_direct_local_time_check_for_random_instants()
    {
        var tz = WeeklySchedule.Amsterdam;
        var schedule = Nights(DayOfWeek.Monday, DayOfWeek.Wednesday, DayOfWeek.Saturday);
        Gen.Long[new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds(), new DateTimeOffset(2028, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds()]
            .Sample(seconds =>
            {
                var instant = DateTimeOffset.FromUnixTimeSeconds(seconds);
                var local = TimeZoneInfo.ConvertTime(instant, tz);
                var startDay = local.Hour < 6 ? local.AddDays(-1).DayOfWeek : local.DayOfWeek;
                bool inWindow = local.Hour >= 22 || local.Hour < 6;
                bool expected = inWindow && startDay is DayOfWeek.Monday or DayOfWeek.Wednesday or DayOfWeek.Saturday;
                return schedule.IsActive(instant) == expected;
            }, iter: 5000);
    }
}
