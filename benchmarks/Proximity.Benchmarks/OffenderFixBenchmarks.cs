using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Monitoring;
using Proximity.Spatial.Schedules;

namespace Proximity.Benchmarks;

/// <summary>
/// One offender fix judged against the offender's bans (1 contact ban with a victim fix present, 3 exclusion
/// zones of 64, 1 000 and 10 000 vertices with 50 m warning buffers, one with a daytime schedule), through
/// <see cref="OffenderMonitor.OnOffenderFix"/>; beside it the same judgement with unprepared NTS geometry.
/// Fixes come 1 s apart with a few metres of jitter; the victim reports every 30 s (included, amortised).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class OffenderFixBenchmarks
{
    private const double Accuracy = 8;
    private readonly List<MonitorEvent> _events = new(16);
    private OffenderMonitor _monitor = null!;
    private ZoneBan[] _zones = null!;
    private ContactBan _contact = null!;
    private GeoPoint[] _far = null!, _edge = null!;
    private GeoPoint _victimFar, _victimEdge;
    private DateTimeOffset _now;
    private long _seq, _victimSeq;

    /// <summary>Off: no warning buffers or warning distance (used by the profiling loop to find allocations).</summary>
    public bool Warnings { get; set; } = true;

    /// <summary>When set, collects the events the monitor raised (the profiling loop prints them).</summary>
    internal List<MonitorEvent>? Trace { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var bans = Scenario.OffenderBans(out _zones);
        if (!Warnings)
        {
            for (int i = 0; i < _zones.Length; i++) bans[i + 1] = _zones[i] = _zones[i] with { WarningBufferMeters = 0 };
            bans[0] = (ContactBan)bans[0] with { WarningDistanceMeters = 0 };
        }
        _contact = (ContactBan)bans[0];
        var daytime = new WeeklySchedule([ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), TimeSpan.FromHours(7), TimeSpan.FromHours(19))]);
        _zones[0] = _zones[0] with { Schedule = daytime };
        bans[1] = _zones[0];
        _monitor = new OffenderMonitor(Scenario.OffenderId, bans);

        var edge = Scenario.NearEdge(_zones[2]);
        _far = Jitter(Scenario.FarFromZones);
        _edge = Jitter(edge);
        _victimFar = Scenario.Offset(Scenario.FarFromZones, 1500, 0.3);
        _victimEdge = Scenario.Offset(edge, 1500, Math.PI);
        _now = Scenario.Start;
    }

    /// <summary>Eight positions within a few metres: a person standing or walking slowly.</summary>
    private static GeoPoint[] Jitter(GeoPoint p) =>
        Enumerable.Range(0, 8).Select(i => Scenario.Offset(p, 1 + i % 3, i * Math.PI / 4)).ToArray();

    [Benchmark(Description = "OffenderMonitor, fix far from zones")]
    [BenchmarkCategory("Fix far from zones")]
    public int MonitorFar() => Step(_far, _victimFar);

    [Benchmark(Baseline = true, Description = "Naive NTS, fix far from zones")]
    [BenchmarkCategory("Fix far from zones")]
    public int NaiveFar() => NaiveStep(_far, _victimFar);

    [Benchmark(Description = "OffenderMonitor, fix 80 m from a zone edge")]
    [BenchmarkCategory("Fix near a zone edge")]
    public int MonitorEdge() => Step(_edge, _victimEdge);

    [Benchmark(Baseline = true, Description = "Naive NTS, fix 80 m from a zone edge")]
    [BenchmarkCategory("Fix near a zone edge")]
    public int NaiveEdge() => NaiveStep(_edge, _victimEdge);

    private int Step(GeoPoint[] positions, GeoPoint victim)
    {
        _seq++;
        _now = _now.AddSeconds(1);
        var p = positions[_seq & 7];
        if (_seq % 30 == 1)
            _monitor.OnVictimFix(Scenario.VictimId, new PositionFix("dev-v1", ++_victimSeq, _now, victim.Latitude, victim.Longitude, 10), false, _events);
        _monitor.OnOffenderFix(new PositionFix("dev-o1", _seq, _now, p.Latitude, p.Longitude, Accuracy), false, _events);
        int n = _events.Count;
        Trace?.AddRange(_events);
        _events.Clear();
        return n;
    }

    private int NaiveStep(GeoPoint[] positions, GeoPoint victim)
    {
        _seq++;
        var p = positions[_seq & 7];
        int score = 0;
        foreach (var zone in _zones)
        {
            if (!zone.IsInForce(_now)) continue;
            var (breach, warning) = Naive.JudgeZone(zone.Area.Polygons[0], zone.WarningBufferMeters, p, Accuracy);
            score += (int)breach + (int)warning;
        }
        var (b, w) = Naive.JudgeContact(p, Accuracy, victim, 10, _contact.MinDistanceMeters, _contact.WarningDistanceMeters);
        return score + (int)b + (int)w;
    }
}
