namespace Proximity.Scenarios.Generator;

/// <summary>
/// Deterministic (per seed) generator of noisy monitoring scenarios around the real CBS neighbourhoods:
/// true trajectories, GPS fixes with correlated error, delivery imperfections and the true episodes.
/// </summary>
/// <summary>Which imperfections a scenario gets besides the always-present correlated GPS error.</summary>
public enum Noise
{
    /// <summary>Only the Gauss–Markov error with honest accuracies.</summary>
    Clean,
    /// <summary>Also canyons, losses, store-and-forward, duplicates and reordering at random.</summary>
    NoMultipath,
    /// <summary>Also rare multipath jumps.</summary>
    Full,
}

public static class ScenarioGenerator
{
    private static readonly (ScenarioKind Kind, int Weight)[] KindWeights =
    [
        (ScenarioKind.ExclusionVisit, 20), (ScenarioKind.ExclusionNearMiss, 15), (ScenarioKind.InclusionNight, 12),
        (ScenarioKind.InclusionStayHome, 8), (ScenarioKind.ContactMeet, 15), (ScenarioKind.ContactNearMiss, 10),
        (ScenarioKind.CornerCut, 8), (ScenarioKind.Multipath, 6), (ScenarioKind.StoreAndForward, 6),
    ];

    private static readonly (double Seconds, int Weight)[] IntervalWeights =
        [(1, 15), (2, 10), (5, 25), (10, 20), (15, 10), (30, 12), (60, 8)];

    /// <summary>A scenario of a kind drawn from the seed, with all random imperfections.</summary>
    public static Scenario Generate(int seed) => Generate(seed, Noise.Full);

    /// <summary>A scenario of a kind drawn from the seed (the same kind whatever the noise).</summary>
    public static Scenario Generate(int seed, Noise noise)
    {
        var rng = new Random(seed);
        return Generate(seed, Pick(rng, KindWeights), noise);
    }

    /// <param name="noise">How many imperfections beyond the correlated GPS error (kinds about one keep it).</param>
    public static Scenario Generate(int seed, ScenarioKind kind, Noise noise = Noise.Full, double? intervalSeconds = null)
    {
        bool clean = noise == Noise.Clean;
        var rng = new Random(unchecked(seed * 7919 + (int)kind * 104729));
        int zoneIndex = rng.Next(CbsZones.Count);
        var (anchorLat, anchorLon) = CbsZones.Anchor(zoneIndex);
        var plane = new LocalPlane(anchorLat, anchorLon);
        var b = new Builder(seed, kind, rng, plane, zoneIndex, clean, noise == Noise.Full, intervalSeconds);
        return b.Build();
    }

    /// <summary>A hand-made scenario: the given tracks sampled by the given devices, truth computed as usual.</summary>
    public static Scenario Assemble(int seed, ScenarioKind kind, string description, LocalPlane plane, IReadOnlyList<TruthBan> bans,
        Trajectory offender, DeviceProfile offenderProfile, Trajectory victim, DeviceProfile victimProfile)
    {
        var rng = new Random(seed);
        var fixes = GpsDevice.Sample(Scenario.OffenderDevice, offender, offenderProfile, plane, rng);
        fixes.AddRange(GpsDevice.Sample(Scenario.VictimDevice, victim, victimProfile, plane, rng, offender.Start, offender.End));
        fixes.Sort(ArrivalOrder);
        return new Scenario
        {
            Seed = seed, Kind = kind, Description = description, Plane = plane, Bans = bans,
            Offender = offender, Victim = victim, Fixes = fixes,
            Episodes = GroundTruth.Episodes(bans, offender, victim, fixes),
        };
    }

    public static int ArrivalOrder(SentFix x, SentFix y) => x.Arrival != y.Arrival ? x.Arrival.CompareTo(y.Arrival) : x.Ts.CompareTo(y.Ts);

    internal static T Pick<T>(Random rng, (T Item, int Weight)[] weighted)
    {
        int total = weighted.Sum(w => w.Weight);
        int x = rng.Next(total);
        foreach (var (item, weight) in weighted)
        {
            if (x < weight) return item;
            x -= weight;
        }
        return weighted[^1].Item;
    }

    private sealed class Builder(int seed, ScenarioKind kind, Random rng, LocalPlane plane, int zoneIndex, bool clean, bool multipath, double? interval)
    {
        private double U(double a, double b) => a + (b - a) * rng.NextDouble();
        private TimeSpan Seconds(double a, double b) => TimeSpan.FromSeconds(U(a, b));

        private Mode RandomMode() => Pick(rng, [(Mode.Walking, 5), (Mode.Cycling, 3), (Mode.Driving, 2)]);
        private double Speed(Mode mode) => Trajectory.NominalSpeed(mode) * U(0.85, 1.15);

        private DateTimeOffset DayStart() =>
            new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddDays(rng.Next(365)).AddHours(U(7, 17));

        private TruthZone CbsZone() => CbsZones.Zone(zoneIndex, plane);

        private TruthZone Circle(double r1, double r2) => TruthZone.Circle(plane, new Vec(U(-500, 500), U(-500, 500)), U(r1, r2));

        private TruthZone AnyZone() => rng.NextDouble() < 0.7 ? CbsZone() : Circle(150, 400);

        public Scenario Build()
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                var draft = Draft();
                if (draft is null) continue;
                var (bans, offender, victim, profile, description, mustBeQuiet) = draft.Value;
                if (mustBeQuiet && !Quiet(bans, offender, victim)) continue;
                var victimProfile = new DeviceProfile
                {
                    IntervalSeconds = Pick(rng, [(10.0, 2), (30.0, 3), (60.0, 3)]),
                    OpenAccuracy = U(5, 12),
                    StationaryAccuracy = U(12, 30),
                    CorrelationSeconds = U(10, 60),
                };
                var fixes = GpsDevice.Sample(Scenario.OffenderDevice, offender, profile, plane, rng);
                fixes.AddRange(GpsDevice.Sample(Scenario.VictimDevice, victim, victimProfile, plane, rng, offender.Start, offender.End));
                fixes.Sort(ArrivalOrder);
                return new Scenario
                {
                    Seed = seed, Kind = kind, Description = description, Plane = plane, Bans = bans,
                    Offender = offender, Victim = victim, Fixes = fixes,
                    Episodes = GroundTruth.Episodes(bans, offender, victim, fixes),
                };
            }
            throw new InvalidOperationException($"could not build a {kind} scenario for seed {seed}");
        }

        /// <summary>Near misses must stay clear of every ban by a margin, on the true positions.</summary>
        private static bool Quiet(IReadOnlyList<TruthBan> bans, Trajectory offender, Trajectory victim)
        {
            for (var t = offender.Start; t <= offender.End; t += TimeSpan.FromSeconds(2))
                foreach (var ban in bans)
                    if (ban.Depth(t, offender.At(t), victim.At(t)) > -8) return false;
            return true;
        }

        private DeviceProfile Profile(DateTimeOffset start, DateTimeOffset end)
        {
            double seconds = interval ?? Pick(rng, IntervalWeights);
            var profile = new DeviceProfile
            {
                IntervalSeconds = seconds,
                OpenAccuracy = U(4, 12),
                StationaryAccuracy = U(12, 35),
                CorrelationSeconds = U(10, 60),
            };
            if (clean) return profile;
            double span = (end - start).TotalSeconds;
            DateTimeOffset At() => start + TimeSpan.FromSeconds(U(0, span));
            var canyons = new List<Canyon>();
            if (rng.NextDouble() < 0.4)
                for (int i = rng.Next(1, 3); i > 0; i--)
                {
                    var from = At();
                    double acc = U(30, 80);
                    canyons.Add(new Canyon(from, from + Seconds(60, 300), acc, Vec.FromAngle(U(0, 2 * Math.PI), U(0.3, 0.6) * acc * GpsDevice.SigmaPer95)));
                }
            var losses = new List<(DateTimeOffset, DateTimeOffset)>();
            if (rng.NextDouble() < 0.3)
                for (int i = rng.Next(1, 3); i > 0; i--) { var from = At(); losses.Add((from, from + Seconds(30, 240))); }
            var stored = new List<(DateTimeOffset, DateTimeOffset)>();
            if (rng.NextDouble() < 0.2) { var from = At(); stored.Add((from, from + Seconds(120, 600))); }
            return profile with
            {
                Canyons = canyons,
                Losses = losses,
                StoreAndForward = stored,
                MultipathPerHour = rng.NextDouble() < 0.3 && multipath ? 2 : 0,
                DuplicateRate = rng.NextDouble() < 0.5 ? 0.01 : 0,
                ReorderRate = rng.NextDouble() < 0.5 ? 0.01 : 0,
            };
        }

        private TruthBan FarContactBan() => new("contact-1", "contact") { MinDistance = 500, WarningDistance = 1000 };

        /// <summary>A victim at home far from the offender's business.</summary>
        private Trajectory FarVictim(DateTimeOffset start, DateTimeOffset end) =>
            new Trajectory(start, Vec.FromAngle(U(0, 2 * Math.PI), U(5000, 7000))).Stop(end - start);

        private (List<TruthBan>, Trajectory, Trajectory, DeviceProfile, string, bool)? Draft() => kind switch
        {
            ScenarioKind.ExclusionVisit => ExclusionVisit(storeAndForward: false),
            ScenarioKind.StoreAndForward => ExclusionVisit(storeAndForward: true),
            ScenarioKind.ExclusionNearMiss => ExclusionNearMiss(multipath: false),
            ScenarioKind.Multipath => ExclusionNearMiss(multipath: true),
            ScenarioKind.InclusionNight => Inclusion(leave: true),
            ScenarioKind.InclusionStayHome => Inclusion(leave: false),
            ScenarioKind.ContactMeet => Contact(meet: true),
            ScenarioKind.ContactNearMiss => Contact(meet: false),
            ScenarioKind.CornerCut => CornerCut(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        private (List<TruthBan>, Trajectory, Trajectory, DeviceProfile, string, bool)? ExclusionVisit(bool storeAndForward)
        {
            var zone = AnyZone();
            var (edge, outward, along) = zone.BoundaryPoint(rng);
            double depth = U(storeAndForward ? 50 : 20, 150);
            var inside = edge - outward * depth;
            if (zone.SignedDepth(inside) < Math.Min(15, depth)) return null;
            var start = edge + outward * U(400, 1500) + along * U(-300, 300);
            var leaveTo = edge + outward * U(400, 1500) + along * U(-300, 300);
            if (zone.SignedDepth(start) > -100 || zone.SignedDepth(leaveTo) > -100) return null;
            var mode = storeAndForward ? Mode.Walking : RandomMode();
            double speed = Speed(mode);
            var t = new Trajectory(DayStart(), start).Stop(Seconds(0, 120)).Via(edge + outward * 40, speed, rng);
            var entering = t.End;
            t.To(inside, speed).Stop(Seconds(storeAndForward ? 180 : 0, 480)).To(edge + outward * 40, speed);
            var leaving = t.End;
            t.Via(leaveTo, speed, rng).Stop(Seconds(0, 120));
            var profile = Profile(t.Start, t.End);
            if (storeAndForward)
                profile = profile with
                {
                    StoreAndForward = [(entering - TimeSpan.FromSeconds(60), leaving + Seconds(60, 180))],
                    Losses = [], IntervalSeconds = interval ?? Pick(rng, [(1.0, 1), (5.0, 2), (10.0, 2)]),
                };
            var bans = new List<TruthBan>
            {
                new("zone-1", "exclusion") { Zone = zone, WarningBuffer = rng.NextDouble() < 0.5 ? 100 : 0 },
                FarContactBan(),
            };
            return (bans, t, FarVictim(t.Start, t.End),
                profile, $"{mode} into {zone.Name} {depth:F0} m deep, every {profile.IntervalSeconds} s", false);
        }

        private (List<TruthBan>, Trajectory, Trajectory, DeviceProfile, string, bool)? ExclusionNearMiss(bool multipath)
        {
            var zone = rng.NextDouble() < 0.7 ? CbsZone() : Circle(200, 500);
            var (edge, outward, along) = zone.BoundaryPoint(rng, minEdgeMeters: 250);
            double offset = multipath ? U(60, 150) : U(10, 40);
            var mode = multipath || rng.NextDouble() < 0.7 ? Mode.Walking : Mode.Cycling;
            double speed = Speed(mode);
            var p0 = edge + outward * offset - along * 100;
            var p1 = edge + outward * offset + along * 100;
            var t = new Trajectory(DayStart(), p0 + outward * U(300, 800)).To(p0, speed).To(p1, speed);
            if (rng.NextDouble() < 0.4) t.Stop(Seconds(60, 300));
            if (multipath) t.To(p0, speed);
            t.To(p1 + outward * U(300, 800), speed);
            var profile = Profile(t.Start, t.End);
            if (multipath)
                profile = profile with { MultipathPerHour = 30, IntervalSeconds = interval ?? Pick(rng, [(1.0, 2), (2.0, 1), (5.0, 1)]) };
            var bans = new List<TruthBan> { new("zone-1", "exclusion") { Zone = zone, WarningBuffer = 100 }, FarContactBan() };
            return (bans, t, FarVictim(t.Start, t.End), profile,
                $"{mode} along {zone.Name} {offset:F0} m outside{(multipath ? " with multipath" : "")}, every {profile.IntervalSeconds} s", true);
        }

        private (List<TruthBan>, Trajectory, Trajectory, DeviceProfile, string, bool)? Inclusion(bool leave)
        {
            var zone = rng.NextDouble() < 0.6 ? Circle(100, 250) : CbsZone();
            var (edge, outward, _) = zone.BoundaryPoint(rng);
            var home = edge - outward * (zone.IsCircle ? U(0.5, 0.9) * 100 : U(60, 200));
            if (zone.SignedDepth(home) < 50) return null;
            // A quarter of the nights are the DST changes, when a UTC+1/UTC+2 mistake shows.
            var date = rng.Next(4) switch
            {
                0 => new DateTime(2026, 3, 28),
                1 => new DateTime(2026, 10, 24),
                _ => new DateTime(2026, 1, 1).AddDays(rng.Next(364)),
            };
            bool morning = rng.Next(2) == 0;
            var localStart = morning ? date.AddDays(1).AddHours(4) : date.AddHours(21);
            var start = new DateTimeOffset(TimeZoneInfo.ConvertTimeToUtc(localStart, DailyWindow.Amsterdam), TimeSpan.Zero);
            double hours = morning ? 3 : 4.5;
            var mode = rng.NextDouble() < 0.6 ? Mode.Walking : Mode.Cycling;
            double speed = Speed(mode);
            var t = new Trajectory(start, home);
            string what = "stays home";
            if (leave)
            {
                var leaveAfter = morning ? Seconds(1800, 9000) : Seconds(900, 12600);
                var away = edge + outward * U(300, 1500) + outward.Left * U(-500, 500);
                if (zone.SignedDepth(away) > -200) return null;
                t.Stop(leaveAfter).To(edge - outward * 10, speed).Via(away, speed, rng).Stop(Seconds(300, 3000)).Via(edge + outward * 10, speed, rng).To(home, speed);
                what = $"{mode} out at {TimeZoneInfo.ConvertTime(start + leaveAfter, DailyWindow.Amsterdam):HH:mm} local";
            }
            else
            {
                // Moving about the house and garden now and then.
                for (int i = 0; i < 6; i++) t.Stop(Seconds(600, 2400)).To(home + Vec.FromAngle(U(0, 2 * Math.PI), U(0, 15)), 1);
            }
            var end = start + TimeSpan.FromHours(hours);
            if (t.End < end) t.Stop(end - t.End);
            var bans = new List<TruthBan>
            {
                new("home-1", "inclusion") { Zone = zone, Schedule = new DailyWindow(TimeSpan.FromHours(22), TimeSpan.FromHours(6)) },
                FarContactBan(),
            };
            return (bans, t, FarVictim(t.Start, t.End), Profile(t.Start, t.End), $"{zone.Name} 22:00-06:00 night of {date:yyyy-MM-dd}, {what}", !leave);
        }

        private (List<TruthBan>, Trajectory, Trajectory, DeviceProfile, string, bool)? Contact(bool meet)
        {
            var victimHome = new Vec(U(-1000, 1000), U(-1000, 1000));
            double min = meet ? Pick(rng, [(200.0, 1), (500.0, 3), (1000.0, 1)]) : 500;
            var start = DayStart();
            var dir = Vec.FromAngle(U(0, 2 * Math.PI), 1);
            var mode = RandomMode();
            double speed = Speed(mode);
            Trajectory t;
            string what;
            if (meet)
            {
                var near = victimHome + Vec.FromAngle(U(0, 2 * Math.PI), U(50, 0.8 * min));
                // Parking right on the edge of the victim's home zone is neither a breach nor a near miss.
                if (Math.Abs((near - victimHome).Length - 150) < 30) return null;
                t = new Trajectory(start, victimHome + dir * U(2000, 4000)).Via(near, speed, rng).Stop(Seconds(120, 900))
                    .Via(victimHome + Vec.FromAngle(U(0, 2 * Math.PI), U(2000, 4000)), speed, rng);
                what = $"{mode} to {(near - victimHome).Length:F0} m of the victim, minimum {min} m";
            }
            else
            {
                double closest = U(550, 700);
                var c = victimHome + dir * closest;
                t = new Trajectory(start, c - dir.Left * 2000).To(c, speed);
                if (rng.NextDouble() < 0.4) t.Stop(Seconds(120, 600));
                t.To(c + dir.Left * 2000, speed);
                what = $"{mode} passing at {closest:F0} m of the victim, minimum {min} m";
            }
            var victim = new Trajectory(start, victimHome);
            if (meet && rng.NextDouble() < 0.3)
                while (victim.End < t.End)
                    victim.Stop(Seconds(60, 600)).To(victimHome + Vec.FromAngle(U(0, 2 * Math.PI), U(20, 200)), U(0.8, 1.2));
            else victim.Stop(t.End - start);
            var bans = new List<TruthBan>
            {
                new("contact-1", "contact") { MinDistance = min, WarningDistance = 2 * min },
                new("victim-home", "exclusion") { Zone = TruthZone.Circle(plane, victimHome, 150), WarningBuffer = 50 },
            };
            return (bans, t, victim, Profile(t.Start, t.End), what, !meet);
        }

        private (List<TruthBan>, Trajectory, Trajectory, DeviceProfile, string, bool)? CornerCut()
        {
            // A road crossing the zone near its edge: a chord that dips 80–200 m in.
            var zone = rng.NextDouble() < 0.6 ? CbsZone() : Circle(300, 800);
            var (edge, outward, along) = zone.BoundaryPoint(rng, minEdgeMeters: 300);
            var mid = edge - outward * U(80, 200);
            var a = mid - along * 2000;
            var b = mid + along * 2000;
            if (zone.SignedDepth(a) > -50 || zone.SignedDepth(b) > -50) return null;
            // One crossing only, at least 80 m deep.
            int crossings = 0;
            double max = double.NegativeInfinity;
            bool inside = false;
            for (double u = 0; u <= 1; u += 0.001)
            {
                double d = zone.SignedDepth(Vec.Lerp(a, b, u));
                max = Math.Max(max, d);
                if (d > 0 && !inside) crossings++;
                inside = d > 0;
            }
            if (crossings != 1 || max < 80) return null;
            double speed = Speed(Mode.Driving);
            var t = new Trajectory(DayStart(), a).To(b, speed);
            var profile = Profile(t.Start, t.End) with { IntervalSeconds = interval ?? Pick(rng, [(30.0, 1), (45.0, 1), (60.0, 1)]) };
            var bans = new List<TruthBan> { new("zone-1", "exclusion") { Zone = zone }, FarContactBan() };
            return (bans, t, FarVictim(t.Start, t.End), profile, $"driving through {zone.Name} {max:F0} m deep, every {profile.IntervalSeconds} s", false);
        }
    }
}
