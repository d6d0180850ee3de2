using System.Diagnostics;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Registry;

namespace Proximity.Benchmarks;

/// <summary>
/// A quick loop (no BenchmarkDotNet) that reports time and allocated bytes per call for the monitor and its
/// parts, to find where time and allocations go: <c>dotnet run -c Release -- --profile</c>.
/// <c>--profile N --case far|edge</c> runs only that monitor case (with warnings): run it twice under
/// <c>valgrind --tool=callgrind</c> with different N and divide the difference in instructions by the
/// difference in N for a count per fix that a busy machine does not disturb.
/// </summary>
internal static class ProfileLoop
{
    public static int Run(string[] args)
    {
        if (args.Contains("--memory"))
        {
            // What one zone area costs on the heap before any index.
            long before = GC.GetTotalMemory(true);
            var areas = Enumerable.Range(0, 100_000).Select(i => Proximity.Spatial.Zones.ZoneArea.Circle(new GeoPoint(52 + i * 1e-6, 5), 100)).ToArray();
            long after = GC.GetTotalMemory(true);
            Console.WriteLine($"ZoneArea.Circle: {(after - before) / (double)areas.Length:F0} bytes each");
            GC.KeepAlive(areas);
            return 0;
        }

        int n = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1_000_000;
        if (Array.IndexOf(args, "--case") is var caseAt and >= 0 && caseAt + 1 < args.Length)
        {
            var bench = new OffenderFixBenchmarks();
            bench.Setup();
            Func<int> step = args[caseAt + 1] switch
            {
                "far" => bench.MonitorFar,
                "edge" => bench.MonitorEdge,
                var other => throw new ArgumentException($"unknown case '{other}' (far or edge)"),
            };
            Measure($"monitor, {args[caseAt + 1]}, with warnings", n, step);
            return 0;
        }
        foreach (bool warnings in new[] { true, false })
        {
            // A fresh monitor per case, as BenchmarkDotNet's per-case setup gives: one offender does not teleport between them.
            var b = new OffenderFixBenchmarks { Warnings = warnings, Trace = [] };
            b.Setup();
            string w = warnings ? "with warnings" : "no warning buffers/distances";
            Measure($"monitor, far, {w}", n, () => b.MonitorFar());
            b = new OffenderFixBenchmarks { Warnings = warnings, Trace = b.Trace };
            b.Setup();
            Measure($"monitor, edge, {w}", n, () => b.MonitorEdge());
            foreach (var e in b.Trace!.Take(4)) Console.WriteLine($"  event: {e.Kind} {e.Alert.Type} {e.Alert.BanId} at {e.Alert.RaisedAt:O}: {e.Alert.Evidence.Summary} {e.Alert.ClearReason}");
        }

        var bans = Scenario.OffenderBans(out var zones);
        {
            var track = new Proximity.Spatial.Monitoring.PartyTrack(PlaneProjection.For(Scenario.FarFromZones), DecisionOptions.Default);
            var at = Scenario.Start;
            long sq = 0;
            var pts = Enumerable.Range(0, 8).Select(i => Scenario.Offset(Scenario.FarFromZones, i % 3, i)).ToArray();
            Measure("PartyTrack.Add", n, () => { sq++; at = at.AddSeconds(1); return track.Add(Scenario.Fix("o", sq, at, pts[sq & 7], 8)).Suspect ? 1 : 0; });
            Measure("PartyTrack.TypicalSpeed", n, () => track.TypicalSpeed() > 0 ? 1 : 0);
            Measure("PartyTrack.TryGetNearestTrusted", n, () => track.TryGetNearestTrusted(at, out _) ? 1 : 0);
            var dict = new Dictionary<string, int>(StringComparer.Ordinal) { ["vic-1"] = 1 };
            string key = new string("vic-1".ToCharArray());
            Measure("Dictionary<string> lookup", n, () => dict.TryGetValue(key, out var v) ? v : 0);
            var t0 = Scenario.Start;
            Measure("DateTimeOffset difference .TotalSeconds", n, () => (at - t0).TotalSeconds > 0 ? 1 : 0);
            var tracker = new EpisodeTracker(DecisionOptions.Default);
            Measure("EpisodeTracker.Observe (None)", n, () => (int)tracker.Observe(new Observation(Certainty.None, -100, 10, 4, at, false)));
        }
        var noWarn = zones.Select(z => z with { WarningBufferMeters = 0 }).ToArray();
        var contactOnly = (Proximity.Spatial.Bans.ContactBan)bans[0] with { WarningDistanceMeters = 0 };
        MonitorOnly("monitor: contact only (no warning)", n, [contactOnly]);
        MonitorOnly("monitor: zone-64 only (no buffer)", n, [noWarn[0]]);
        MonitorOnly("monitor: zone-10000 only (no buffer)", n, [noWarn[2]]);
        MonitorOnly("monitor: 3 zones (no buffer)", n, noWarn);
        MonitorOnly("monitor: 3 zones + contact (no warnings)", n, [contactOnly, .. noWarn]);
        var edge = Scenario.NearEdge(zones[2]);
        var plane = zones[0].Area.HomePlane;
        var p = plane.Project(edge);
        Measure("PlaneProjection.Project", n, () => plane.Project(edge).X > 0 ? 1 : 0);
        foreach (var z in zones)
        {
            var prepared = z.Area.PreparedIn(plane);
            Measure($"{z.Id} Locate far (search 124 m)", n, () => prepared.Locate(plane.Project(Scenario.FarFromZones), 124).Inside ? 1 : 0);
            Measure($"{z.Id} Locate near edge (search 124 m)", n, () => prepared.Locate(p, 124).Inside ? 1 : 0);
        }
        var schedule = new Proximity.Spatial.Schedules.WeeklySchedule(
            [Proximity.Spatial.Schedules.ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), TimeSpan.FromHours(7), TimeSpan.FromHours(19))]);
        var t = Scenario.Start;
        Measure("WeeklySchedule.IsActive", n, () => schedule.IsActive(t = t.AddSeconds(1)) ? 1 : 0);

        int count = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 0;
        if (count > 0)
        {
            var clock = Stopwatch.StartNew();
            var national = Scenario.NationalZones(count);
            Console.WriteLine($"{count} zone bans made in {clock.ElapsedMilliseconds} ms");
            long before = GC.GetTotalMemory(true);
            clock.Restart();
            var index = new BanZoneIndex(national);
            Console.WriteLine($"index built in {clock.ElapsedMilliseconds} ms, {(GC.GetTotalMemory(true) - before) / 1_048_576} MB more");
            var rnd = new Random(5);
            var points = Enumerable.Range(0, 1024).Select(_ => Scenario.RandomPointInNetherlands(rnd)).ToArray();
            var hits = new BanHit[64];
            int i = 0;
            long total = 0;
            foreach (var q in points) total += index.Query(q, Scenario.Start, hits);
            Console.WriteLine($"mean hits per random point: {total / 1024.0:F2}");
            Measure($"BanZoneIndex.Query over {count}", n, () => index.Query(points[i++ & 1023], Scenario.Start, hits));
        }
        return 0;
    }

    private static void MonitorOnly(string name, int n, Proximity.Spatial.Bans.Ban[] bans)
    {
        var monitor = new Proximity.Spatial.Monitoring.OffenderMonitor(Scenario.OffenderId, bans);
        var events = new List<Proximity.Spatial.Monitoring.MonitorEvent>();
        var now = Scenario.Start;
        long seq = 0;
        var victim = Scenario.Offset(Scenario.FarFromZones, 1500, 0.3);
        monitor.OnVictimFix(Scenario.VictimId, Scenario.Fix("v", 1, now, victim, 10), false, events);
        Measure(name, n, () =>
        {
            seq++;
            now = now.AddSeconds(1);
            if (seq % 30 == 0) monitor.OnVictimFix(Scenario.VictimId, Scenario.Fix("v", seq, now, victim, 10), false, events);
            var p = Scenario.Offset(Scenario.FarFromZones, seq % 3, seq % 8);
            monitor.OnOffenderFix(Scenario.Fix("o", seq, now, p, 8), false, events);
            int c = events.Count;
            events.Clear();
            return c;
        });
    }

    private static void Measure(string name, int n, Func<int> step)
    {
        int sink = 0;
        for (int i = 0; i < Math.Min(n, 200_000); i++) sink += step();
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        TimeSpan cpu = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) sink += step();
        clock.Stop();
        cpu = Environment.CpuUsage.TotalTime - cpu;
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Console.WriteLine($"{name,-60} {clock.Elapsed.TotalNanoseconds / n,8:F1} ns/op (cpu {cpu.TotalNanoseconds / n,7:F1}) {allocated / (double)n,8:F1} B/op  ({sink})");
    }
}
