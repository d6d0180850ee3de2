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
    private const long NoHour = -1;
    private readonly ScheduleWindow[] _windows;
    private readonly int[] _dayMasks;
    private readonly TimeZoneInfo _zone;
    // The UTC hour last converted and the zone's offset during all of it, packed into one long so that
    // concurrent callers read and replace it atomically: (hour since 0001-01-01 UTC << 16) | (offset minutes + 32768).
    private long _cachedHour = NoHour;
    // Whether every window starts and ends on a whole minute: then the answer is the same for a whole UTC minute
    // (when the offset is a whole number of minutes, steady for the hour), and the last one is kept as
    // (minute since 0001-01-01 UTC << 1) | active, read and replaced atomically like the hour.
    private readonly bool _wholeMinutes;
    private long _cachedMinute = NoHour;

    public WeeklySchedule(IEnumerable<ScheduleWindow> windows, TimeZoneInfo? zone = null)
    {
        _windows = windows.ToArray();
        _dayMasks = Array.ConvertAll(_windows, w => w.Days.Aggregate(0, (mask, day) => mask | 1 << (int)day));
        _zone = zone ?? Amsterdam;
        _wholeMinutes = _windows.All(w => w.From.Ticks % TimeSpan.TicksPerMinute == 0 && w.To.Ticks % TimeSpan.TicksPerMinute == 0);
    }

    public static TimeZoneInfo Amsterdam { get; } = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    public IReadOnlyList<ScheduleWindow> Windows => _windows;

    public bool IsActive(DateTimeOffset instant)
    {
        long utcTicks = instant.UtcTicks;
        long minute = utcTicks / TimeSpan.TicksPerMinute;
        if (_wholeMinutes && Volatile.Read(ref _cachedMinute) is var cached && cached != NoHour && cached >> 1 == minute)
            return (cached & 1) != 0;
        bool steadyHour = false;
        long local = utcTicks is > TimeSpan.TicksPerDay and < 3155378975999999999 - TimeSpan.TicksPerDay // DateTime.MaxValue.Ticks
            ? utcTicks + LocalOffsetTicks(utcTicks, out steadyHour)
            : TimeZoneInfo.ConvertTime(instant.UtcDateTime, TimeZoneInfo.Utc, _zone).Ticks;
        bool active = IsActiveAtLocal(local);
        if (_wholeMinutes && steadyHour) Volatile.Write(ref _cachedMinute, minute << 1 | (active ? 1L : 0L));
        return active;
    }

    private bool IsActiveAtLocal(long local)
    {
        var time = new TimeSpan(local % TimeSpan.TicksPerDay);
        int today = (int)((local / TimeSpan.TicksPerDay + 1) % 7); // 0001-01-01 was a Monday
        int todayBit = 1 << today, yesterdayBit = 1 << (today == 0 ? 6 : today - 1);
        for (int i = 0; i < _windows.Length; i++)
        {
            var w = _windows[i];
            int days = _dayMasks[i];
            if (!w.CrossesMidnight)
            {
                if ((days & todayBit) != 0 && time >= w.From && time < w.To) return true;
            }
            else
            {
                if ((days & todayBit) != 0 && time >= w.From) return true;
                if ((days & yesterdayBit) != 0 && time < w.To) return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The zone's UTC offset at an instant. Time zone rules are costly to evaluate, and fixes of one person
    /// arrive seconds apart: the offset is kept for the whole UTC hour when it is the same at both ends of
    /// the hour (offsets never change twice within an hour).
    /// </summary>
    private long LocalOffsetTicks(long utcTicks, out bool steadyHour)
    {
        long hour = utcTicks / TimeSpan.TicksPerHour;
        long cached = Volatile.Read(ref _cachedHour);
        steadyHour = true;
        if (cached != NoHour && cached >> 16 == hour) return ((cached & 0xFFFF) - 32768) * TimeSpan.TicksPerMinute;

        var start = _zone.GetUtcOffset(new DateTime(hour * TimeSpan.TicksPerHour, DateTimeKind.Utc));
        var end = _zone.GetUtcOffset(new DateTime((hour + 1) * TimeSpan.TicksPerHour - 1, DateTimeKind.Utc));
        if (start != end || start.Ticks % TimeSpan.TicksPerMinute != 0)
        {
            steadyHour = false;
            return _zone.GetUtcOffset(new DateTime(utcTicks, DateTimeKind.Utc)).Ticks;
        }
        Volatile.Write(ref _cachedHour, hour << 16 | ((long)start.TotalMinutes + 32768));
        return start.Ticks;
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
