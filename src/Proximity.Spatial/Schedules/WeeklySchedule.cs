namespace Proximity.Spatial.Schedules;

/// <summary>
/// One weekly window in local time. <see cref="Days"/> names the days the window starts on; a window whose
/// end is not after its start runs into the next day (22:00–06:00), and equal start and end mean 24 hours.
/// </summary>
public sealed record ScheduleWindow(IReadOnlySet<DayOfWeek> Days, TimeSpan From, TimeSpan To)
{
    public bool CrossesMidnight => To <= From;

    public static ScheduleWindow Create(IEnumerable<DayOfWeek> days, TimeSpan from, TimeSpan to)
    {
        var set = days.ToHashSet();
        if (set.Count == 0) throw new ArgumentException("a schedule window needs at least one day");
        if (from < TimeSpan.Zero || from >= TimeSpan.FromDays(1)) throw new ArgumentException($"window start {from} is not a time of day");
        if (to < TimeSpan.Zero || to > TimeSpan.FromDays(1)) throw new ArgumentException($"window end {to} is not a time of day");
        return new ScheduleWindow(set, from, to);
    }
}

/// <summary>
/// When a ban is in force within its validity: a set of weekly windows in local civil time (Europe/Amsterdam
/// by default, daylight saving aware: the wall clock decides, so 22:00 is 22:00 in winter and in summer).
/// </summary>
public sealed class WeeklySchedule
{
    private readonly ScheduleWindow[] _windows;
    private readonly TimeZoneInfo _zone;

    public WeeklySchedule(IEnumerable<ScheduleWindow> windows, TimeZoneInfo? zone = null)
    {
        _windows = windows.ToArray();
        _zone = zone ?? Amsterdam;
    }

    public static TimeZoneInfo Amsterdam { get; } = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    public IReadOnlyList<ScheduleWindow> Windows => _windows;

    public bool IsActive(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTime(instant.UtcDateTime, TimeZoneInfo.Utc, _zone);
        var time = local.TimeOfDay;
        var today = local.DayOfWeek;
        var yesterday = today == DayOfWeek.Sunday ? DayOfWeek.Saturday : today - 1;
        foreach (var w in _windows)
        {
            if (!w.CrossesMidnight)
            {
                if (w.Days.Contains(today) && time >= w.From && time < w.To) return true;
            }
            else
            {
                if (w.Days.Contains(today) && time >= w.From) return true;
                if (w.Days.Contains(yesterday) && time < w.To) return true;
            }
        }
        return false;
    }

    public static DayOfWeek ParseDay(string day) => day.Trim().ToLowerInvariant() switch
    {
        "mon" or "monday" or "ma" => DayOfWeek.Monday,
        "tue" or "tuesday" or "di" => DayOfWeek.Tuesday,
        "wed" or "wednesday" or "wo" => DayOfWeek.Wednesday,
        "thu" or "thursday" or "do" => DayOfWeek.Thursday,
        "fri" or "friday" or "vr" => DayOfWeek.Friday,
        "sat" or "saturday" or "za" => DayOfWeek.Saturday,
        "sun" or "sunday" or "zo" => DayOfWeek.Sunday,
        _ => throw new FormatException($"unknown day '{day}' (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)"),
    };

    public static TimeSpan ParseTime(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int h) || !int.TryParse(parts[1], out int m) ||
            h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
            throw new FormatException($"'{text}' is not a time of day (HH:mm)");
        return new TimeSpan(h, m, 0);
    }
}
