using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Proximity.Spatial.Schedules;

namespace Proximity.Benchmarks;

/// <summary>
/// <see cref="WeeklySchedule.IsActive"/> for a schedule of weekday nights (22:00–06:00) and whole weekends in
/// Europe/Amsterdam time, for fixes one second apart (the live pattern) and for instants scattered over a year
/// (replays, registry queries). The naive row looks the time zone up and converts on every call.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class ScheduleBenchmarks
{
    private const int Count = 1024;
    private readonly DateTimeOffset[] _scattered = new DateTimeOffset[Count];
    private WeeklySchedule _schedule = null!;
    private DateTimeOffset _now;
    private int _i;

    [GlobalSetup]
    public void Setup()
    {
        DayOfWeek[] weekdays = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];
        _schedule = new WeeklySchedule(
        [
            ScheduleWindow.Create(weekdays, TimeSpan.FromHours(22), TimeSpan.FromHours(6)),
            ScheduleWindow.Create([DayOfWeek.Saturday, DayOfWeek.Sunday], TimeSpan.Zero, TimeSpan.Zero),
        ]);
        var rnd = new Random(3);
        for (int i = 0; i < Count; i++) _scattered[i] = Scenario.Start.AddSeconds(rnd.NextDouble() * 365 * 86400);
        _now = Scenario.Start;
    }

    [Benchmark(Description = "WeeklySchedule.IsActive, fixes 1 s apart")]
    [BenchmarkCategory("Fixes 1 s apart")]
    public bool Sequential() => _schedule.IsActive(_now = _now.AddSeconds(1));

    [Benchmark(Baseline = true, Description = "Naive: zone lookup + ConvertTime per call, fixes 1 s apart")]
    [BenchmarkCategory("Fixes 1 s apart")]
    public bool NaiveSequential() => NaiveIsActive(_now = _now.AddSeconds(1));

    [Benchmark(Description = "WeeklySchedule.IsActive, instants across a year")]
    [BenchmarkCategory("Instants across a year")]
    public bool Scattered() => _schedule.IsActive(_scattered[_i++ & (Count - 1)]);

    [Benchmark(Baseline = true, Description = "Naive: zone lookup + ConvertTime per call, instants across a year")]
    [BenchmarkCategory("Instants across a year")]
    public bool NaiveScattered() => NaiveIsActive(_scattered[_i++ & (Count - 1)]);

    private bool NaiveIsActive(DateTimeOffset instant)
    {
        var local = TimeZoneInfo.ConvertTimeBySystemTimeZoneId(instant, "Europe/Amsterdam");
        var time = local.TimeOfDay;
        var today = local.DayOfWeek;
        var yesterday = today == DayOfWeek.Sunday ? DayOfWeek.Saturday : today - 1;
        foreach (var w in _schedule.Windows)
        {
            if (!w.CrossesMidnight ? w.Days.Contains(today) && time >= w.From && time < w.To
                : (w.Days.Contains(today) && time >= w.From) || (w.Days.Contains(yesterday) && time < w.To))
                return true;
        }
        return false;
    }
}
