using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Monitoring;
using Proximity.Spatial.Schedules;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests.Monitoring;

public class OffenderMonitorTests
{
    private static readonly GeoPoint Home = Track.Utrecht;

    private static ContactBan Contact(double min = 500, double warn = 1000) => new()
    {
        Id = "ban-c", OffenderId = "off-1", VictimId = "vic-1", MinDistanceMeters = min, WarningDistanceMeters = warn,
    };

    private static ZoneBan Circle(double radius = 300, double buffer = 0, ZoneKind kind = ZoneKind.Exclusion, WeeklySchedule? schedule = null,
        DateTimeOffset? until = null) => new()
    {
        Id = "ban-z", OffenderId = "off-1", Kind = kind, Area = ZoneArea.Circle(Home, radius), WarningBufferMeters = buffer,
        Schedule = schedule, ValidUntil = until,
    };

    [Fact]
    public void A_car_driving_past_the_victims_home_is_a_breach_though_her_phone_reports_once_a_minute()
    {
        // Her phone at home every 60 s (the victim default); he drives by at 50 km/h, 300 m from the house at the
        // closest (the limit is 500 m): 57 s inside the limit, up to 200 m too close. The aged position makes every fix
        // for kilometres around possible; only the fixes near her may be weighed, not the whole approach.
        var monitor = new OffenderMonitor("off-1", [Contact()]);
        var victim = new Track("dev-v", Home);
        var offender = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 420; t += 10)
        {
            if (t % 60 == 0) events.AddRange(monitor.Victim("vic-1", victim.At(t, 0, 0, acc: 15)));
            events.AddRange(monitor.Offender(offender.At(t + 5, -2900 + 14 * t, 300)));
        }
        var breach = Assert.Single(events, e => e.Kind == MonitorEventKind.Raised && e.Alert.Type == AlertType.ContactBanBreach).Alert;
        Assert.InRange(breach.Evidence.DistanceMeters!.Value, 250, 500);
    }

    [Fact]
    public void Two_cars_passing_each_other_between_their_fixes_are_a_breach()
    {
        // He drives east, she drives west on a road 100 m away, both at 50 km/h, a fix a minute each (hers 45 s after
        // his). They pass 100 m apart (limit 500 m) for 35 s, but every fix of either is over 600 m from where the other
        // was at that moment: only both ways, taken together, show it.
        var monitor = new OffenderMonitor("off-1", [Contact(500, 600)]);
        var victim = new Track("dev-v", Home);
        var offender = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 300; t += 15)
        {
            if (t % 60 == 0) events.AddRange(monitor.Offender(offender.At(t, -2000 + 14 * t, 0) with { SpeedMetersPerSecond = 14 }));
            if (t % 60 == 45) events.AddRange(monitor.Victim("vic-1", victim.At(t, 2000 - 14 * t, 100) with { SpeedMetersPerSecond = 14 }));
        }
        var breach = Assert.Single(events, e => e.Kind == MonitorEventKind.Raised && e.Alert.Type == AlertType.ContactBanBreach).Alert;
        Assert.Equal("Path", breach.Evidence.Rule);
        Assert.InRange((breach.RaisedAt - Track.T0).TotalSeconds, 125, 161);
    }

    [Fact]
    public void An_approach_to_the_victim_gives_one_warning_one_breach_and_both_clear_after_leaving()
    {
        var monitor = new OffenderMonitor("off-1", [Contact()]);
        var victim = new Track("dev-v", Home);
        var offender = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        events.AddRange(monitor.Victim("vic-1", victim.At(0, 0, 0)));
        double x = 2000;
        for (int t = 0; t <= 1800; t += 5)
        {
            if (t % 30 == 0) events.AddRange(monitor.Victim("vic-1", victim.At(t, 0, 0)));
            x = t < 600 ? 2000 - 3 * t : t < 900 ? 200 : 200 + 3 * (t - 900);
            events.AddRange(monitor.Offender(offender.At(t, x, 0)));
        }
        var raised = events.Where(e => e.Kind == MonitorEventKind.Raised).Select(e => e.Alert).ToList();
        Assert.Equal([AlertType.ProximityWarning, AlertType.ContactBanBreach], raised.Select(a => a.Type));
        var breach = raised[1];
        Assert.Equal(AlertSeverity.Critical, breach.Severity);
        Assert.Equal("vic-1", breach.VictimId);
        Assert.InRange(breach.Evidence.DistanceMeters!.Value, 0, 500);
        Assert.Contains(breach.Evidence.Fixes, f => f.Role == "victim");
        // The offender crosses 500 m at t = 500 s; the breach must not be raised before that.
        Assert.InRange((breach.RaisedAt - Track.T0).TotalSeconds, 480, 560);
        var cleared = events.Where(e => e.Kind == MonitorEventKind.Cleared).Select(e => e.Alert).ToList();
        Assert.Equal(2, cleared.Count);
        Assert.All(cleared, c => Assert.NotNull(c.ClearedAt));
    }

    [Fact]
    public void An_old_victim_position_is_aged_and_cannot_make_a_breach_certain()
    {
        var fresh = new OffenderMonitor("off-1", [Contact(warn: 0)]);
        var stale = new OffenderMonitor("off-1", [Contact(warn: 0)]);
        fresh.Victim("vic-1", new Track("dev-v", Home).At(299, 0, 0));
        stale.Victim("vic-1", new Track("dev-v", Home).At(0, 0, 0));
        var f = new Track("dev-o", Home).At(300, 400, 0);
        var freshEvents = fresh.Offender(f);
        var staleEvents = stale.Offender(f);
        Assert.Single(freshEvents);
        Assert.Equal("Certain", freshEvents[0].Alert.Evidence.Certainty);
        Assert.Empty(staleEvents); // 300 s old: the victim may have moved 12 km; possible, not certain
        var victimEvidence = freshEvents[0].Alert.Evidence.Fixes.Single(x => x.Role == "victim");
        Assert.Equal(1, victimEvidence.AgeSeconds, 0.001);
        Assert.True(victimEvidence.UncertaintyMeters > victimEvidence.AccuracyMeters);
    }

    [Fact]
    public void A_multipath_jump_into_a_zone_raises_no_breach()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t < 300; t += 5)
        {
            bool jump = t == 150;
            events.AddRange(monitor.Offender(jump ? track.At(t, 0, 0, acc: 5) : track.At(t, 800 + t, 0)));
        }
        Assert.DoesNotContain(events, e => e.Alert.Type == AlertType.ExclusionZoneBreach);
    }

    [Fact]
    public void A_real_jump_confirmed_by_fixes_that_last_is_trusted()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        monitor.Offender(track.At(0, 5000, 0));
        Assert.Empty(monitor.Offender(track.At(2, 0, 0)));      // 5 km in 2 s: suspect
        Assert.Empty(monitor.Offender(track.At(4, 5, 0)));      // agrees with the jump, but a reflection can last seconds
        Assert.Empty(monitor.Offender(track.At(6, 0, 5)));
        var events = monitor.Offender(track.At(8, 5, 5));        // four agreeing fixes: the old position was wrong
        Assert.Equal(AlertType.ExclusionZoneBreach, Assert.Single(events).Alert.Type);
    }

    // Standing 100 m outside; three reflections inside, agreeing with each other. A fix a second: impossible to reach
    // from the last trusted fix. A poor fix every 5 s: by the third reflection, 15 s on, a car could have covered the
    // distance from the last trusted fix, but that fix only agrees with the two suspect ones. A fix every 10 s: the
    // three last 20 s, but stay where they landed.
    [Theory]
    [InlineData(1, 20, 6, 6)]
    [InlineData(5, 240, 8, 30)]
    [InlineData(10, 100, 10, 10)] // 20 s from the first to the third: a run that moves on would be believed by then
    public void A_reflection_lasting_three_fixes_raises_no_breach(int interval, double reflectedEast, double reflectedAcc, double acc)
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int i = 0; i < 40; i++)
        {
            bool reflected = i is 12 or 13 or 14;
            events.AddRange(monitor.Offender(reflected ? track.At(i * interval, reflectedEast + i % 2, 0, acc: reflectedAcc) : track.At(i * interval, 400, 0, acc: acc)));
        }
        Assert.Empty(events);
    }

    [Theory]
    [InlineData(30, 400, 20)]
    [InlineData(60, 290, 5)] // the way back from the reflection is no path through the limit either
    public void A_reflection_of_two_fixes_is_doubted_again_when_the_next_fix_is_back_where_he_was(int interval, double reflectedEast, int victimAfter)
    {
        // He stands 800 m from her (limit 500 m), a fix every 30 or 60 s; two alike reflections towards her are believed
        // at the second (a move that stopped), but the next fix is back where he stood: her next fix must not be judged
        // against the reflection, nor the way back from it as a path through the limit.
        var monitor = new OffenderMonitor("off-1", [Contact()]);
        var victim = new Track("dev-v", Home);
        var offender = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 20 * interval; t += interval)
        {
            bool reflected = t == 10 * interval || t == 11 * interval;
            events.AddRange(monitor.Offender(offender.At(t, reflected ? reflectedEast : 800, 0)));
            if (t % 60 == 0) events.AddRange(monitor.Victim("vic-1", victim.At(t + victimAfter, 0, 0, acc: 30)));
        }
        Assert.DoesNotContain(events, e => e.Alert.Type == AlertType.ContactBanBreach);
    }

    [Theory]
    [InlineData(30, 300, 5)]
    [InlineData(30, 500, 15)]
    [InlineData(60, 500, 20)]
    [InlineData(10, 150, 5)]
    public void One_reflection_followed_by_a_fix_back_where_he_was_stays_doubted(int interval, double reflectedEast, int victimAfter)
    {
        // Her fix, made just after his reflection, arrives after his next fix (back at 800 m): it must be judged against
        // where he is, not against the reflection (the next fix is reachable from the reflection at a car's pace, but it
        // is back on his own track, so it does not confirm the reflection).
        var monitor = new OffenderMonitor("off-1", [Contact()]);
        var victim = new Track("dev-v", Home);
        var offender = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        events.AddRange(monitor.Victim("vic-1", victim.At(0, 0, 0, acc: 15)));
        for (int t = 0; t <= 20 * interval; t += interval)
        {
            events.AddRange(monitor.Offender(offender.At(t, t == 10 * interval ? reflectedEast : 800, 0, acc: 10)));
            if (t == 11 * interval) events.AddRange(monitor.Victim("vic-1", victim.At(10 * interval + victimAfter, 0, 0, acc: 15)));
        }
        Assert.DoesNotContain(events, e => e.Alert.Type == AlertType.ContactBanBreach);
    }

    [Theory]
    [InlineData(60, 1.0)]
    [InlineData(30, 0.5)]
    public void A_real_stop_then_a_drive_through_the_zone_ending_near_where_he_started_is_a_breach(int interval, double scale)
    {
        // Parked, then a drive that stops twice at one place (a believed run) and goes on through the zone to a place
        // nearer the start than the stop: that is not a reflection undone, and the way through the zone is judged.
        var monitor = new OffenderMonitor("off-1", [Circle(150 * scale)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        var path = Enumerable.Repeat((-200 * scale, -150 * scale), 10)
            .Concat([(0, 250 * scale), (0, 250 * scale), (0, -250 * scale), (0, -350 * scale), (0, -450 * scale), (0, -550 * scale)]).ToList();
        for (int i = 0; i < path.Count; i++) events.AddRange(monitor.Offender(track.At(i * interval, path[i].Item1, path[i].Item2)));
        Assert.Single(events, e => e.Kind == MonitorEventKind.Raised && e.Alert.Type == AlertType.ExclusionZoneBreach);
    }

    [Fact]
    public void One_precise_fix_just_inside_does_not_outweigh_poor_fixes_centred_outside()
    {
        // Walking up to a zone indoors (60 m accuracy) and stopping 50 m outside it: every fix is possibly inside.
        // The first such fix claims 6 m accuracy 5 m inside; weighed by accuracy it outweighs the poor fix after
        // it, but that fix, and every one after, is centred outside.
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        double[] east = [500, 450, 400, 362, 295, .. Enumerable.Repeat(350.0, 25)];
        for (int i = 0; i < east.Length; i++)
            events.AddRange(monitor.Offender(track.At(i * 30, east[i], 0, acc: east[i] == 295 ? 6 : 60)));
        Assert.Empty(events);
    }

    [Fact]
    public void A_reflection_arriving_out_of_order_among_live_fixes_raises_no_breach()
    {
        // Standing 60 m outside, a fix a second; now and then one arrives after the next. The late one at 60 s is a
        // reflection 50 m inside: judged against the live fixes around it, not the earlier out-of-order ones alone.
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var fixes = Enumerable.Range(0, 90).Select(t => t == 60 ? track.At(t, 250, 0, acc: 8) : track.At(t, 360, 0, acc: 25)).ToArray();
        var events = new List<MonitorEvent>();
        for (int t = 0; t < 90; t++)
        {
            if (t is 20 or 40 or 60) continue;
            events.AddRange(monitor.Offender(fixes[t]));
            if (t is 21 or 41 or 61) events.AddRange(monitor.OffenderBackfill(fixes[t - 1]));
        }
        Assert.Empty(events);
    }

    [Fact]
    public void A_jump_far_beyond_the_recent_walking_speed_cannot_raise_on_its_own()
    {
        // 250 m in 10 s is possible for a car, not for someone who was standing still: one such fix is no proof.
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t < 600; t += 10)
            events.AddRange(monitor.Offender(t == 300 ? track.At(t, 100, 0, acc: 5) : track.At(t, 350, 0, acc: 5)));
        Assert.Empty(events);
    }

    [Fact]
    public void A_corner_cut_between_sparse_fixes_is_judged_from_the_path()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        // Driving east at 15 m/s, 150 m north of the centre: the chord runs 150 m deep into a 300 m circle.
        Assert.Empty(monitor.Offender(track.At(0, -900, 150)));
        var events = monitor.Offender(track.At(120, 900, 150));
        var alert = Assert.Single(events).Alert;
        Assert.Equal(AlertType.ExclusionZoneBreach, alert.Type);
        Assert.Equal("Path", alert.Evidence.Rule);
        // How deep the path ran where it first went beyond its uncertainty (98 m): at most the chord's 150 m.
        Assert.InRange(alert.Evidence.DepthMeters, 98, 150);
        Assert.Equal(alert.Evidence.DepthMeters, alert.Evidence.BoundaryDistanceMeters);
        Assert.DoesNotContain("Infinity", alert.Evidence.Summary, StringComparison.Ordinal);
        Assert.InRange((alert.RaisedAt - Track.T0).TotalSeconds, 40, 80);
        Assert.Equal(Track.T0.AddSeconds(120), alert.DecidedAt);
    }

    [Fact]
    public void A_car_pulling_away_from_where_it_was_parked_is_followed_into_a_zone()
    {
        // Parked for ten minutes (the person's pace: nothing), then 2 m/s² up to 72 km/h, due east into a zone whose
        // edge is 1.5 km away. Every fix outruns the parked pace; each follows from the one before at the car's speed.
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 600; t += 10) events.AddRange(monitor.Offender(track.At(t, -1800 + (t / 10 % 3 - 1) * 3, 0)));
        for (int t = 10; t <= 150; t += 10)
        {
            double moved = t <= 10 ? t * t : 100 + 20 * (t - 10); // 2 m/s² for 10 s, then 20 m/s
            events.AddRange(monitor.Offender(track.At(600 + t, -1800 + moved, 0)));
        }
        var breach = Assert.Single(events, e => e.Alert.Type == AlertType.ExclusionZoneBreach).Alert;
        // The zone's edge (1 500 m on) is passed at about 84 s after pulling away: raised at the first fix inside.
        Assert.InRange((breach.RaisedAt - Track.T0).TotalSeconds, 680, 700);
    }

    [Fact]
    public void A_car_on_a_ring_road_round_a_zone_is_not_taken_for_one_cutting_across_it()
    {
        // 25 m outside a 300 m circle at 14 m/s, a fix every 30 s: each chord runs 40 m into the zone, but the
        // receiver's speed says the way was the longer arc. The same car driving across it raises the breach.
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 600; t += 30)
        {
            double angle = 14.0 * t / 325;
            events.AddRange(monitor.Offender(track.At(t, 325 * Math.Cos(angle), 325 * Math.Sin(angle)) with { SpeedMetersPerSecond = 14 }));
        }
        Assert.DoesNotContain(events, e => e.Alert.Type == AlertType.ExclusionZoneBreach);

        var across = new OffenderMonitor("off-1", [Circle(300)]);
        var straight = new Track("dev-o", Home);
        across.Offender(straight.At(0, -480, 150) with { SpeedMetersPerSecond = 14 });
        var breach = Assert.Single(across.Offender(straight.At(60, 360, 150) with { SpeedMetersPerSecond = 14 })).Alert;
        Assert.Equal(("ExclusionZoneBreach", "Path"), (breach.Type.ToString(), breach.Evidence.Rule));
    }

    [Fact]
    public void A_shallow_chord_across_a_corner_is_not_enough()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        monitor.Offender(track.At(0, -900, 290));
        Assert.Empty(monitor.Offender(track.At(120, 900, 290)));
    }

    [Fact]
    public void Late_fixes_raise_alerts_marked_late_with_the_time_they_happened()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        var alert = Assert.Single(monitor.Offender(track.At(10, 0, 0), late: true)).Alert;
        Assert.True(alert.Late);
        Assert.Equal(Track.T0.AddSeconds(10), alert.RaisedAt);
    }

    [Fact]
    public void Late_fixes_in_the_warning_buffer_raise_no_warning_but_the_first_live_one_there_does()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300, buffer: 200)]);
        var track = new Track("dev-o", Home);
        // Five minutes in the buffer, uploaded late: history, too late to warn about.
        for (int t = 0; t <= 300; t += 30) Assert.Empty(monitor.Offender(track.At(t, 400, 0), late: true));
        var live = monitor.Offender(track.At(330, 400, 0));
        Assert.Equal(AlertType.ProximityWarning, Assert.Single(live).Alert.Type);
        Assert.False(live[0].Alert.Late);
    }

    [Fact]
    public void An_episode_ends_when_the_ban_goes_out_of_force()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300, until: Track.T0.AddSeconds(60))]);
        var track = new Track("dev-o", Home);
        Assert.Single(monitor.Offender(track.At(0, 0, 0)));
        var events = monitor.Offender(track.At(65, 0, 0));
        var cleared = Assert.Single(events);
        Assert.Equal(MonitorEventKind.Cleared, cleared.Kind);
        Assert.Equal("ban no longer in force", cleared.Alert.ClearReason);
        Assert.Empty(monitor.OpenAlerts);
    }

    [Fact]
    public void Closing_speed_warns_before_the_warning_ring_is_reached()
    {
        var monitor = new OffenderMonitor("off-1", [Contact(500, 1000)]);
        var victim = new Track("dev-v", Home);
        var offender = new Track("dev-o", Home);
        monitor.Victim("vic-1", victim.At(0, 0, 0));
        MonitorEvent? warning = null;
        for (int t = 0; t <= 120 && warning is null; t += 5)
        {
            if (t % 30 == 0) monitor.Victim("vic-1", victim.At(t, 0, 0));
            var events = monitor.Offender(offender.At(t, 3000 - 15 * t, 0));
            warning = events.FirstOrDefault(e => e.Alert.Type == AlertType.ProximityWarning);
        }
        Assert.NotNull(warning);
        Assert.Equal("Approach", warning.Alert.Evidence.Rule);
        Assert.True(warning.Alert.Evidence.DistanceMeters > 1000);
        Assert.True(warning.Alert.Evidence.ClosingSpeedMetersPerSecond > 5);
    }

    [Fact]
    public void Inclusion_zone_is_enforced_only_during_its_schedule()
    {
        var nights = new WeeklySchedule([ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), new TimeSpan(22, 0, 0), new TimeSpan(6, 0, 0))]);
        var monitor = new OffenderMonitor("off-1", [Circle(200, kind: ZoneKind.Inclusion, schedule: nights)]);
        var track = new Track("dev-o", Home);
        // T0 is 13:00 Amsterdam time: away from home is allowed.
        Assert.Empty(monitor.Offender(track.At(0, 1000, 0)));
        // 21:30 UTC = 22:30 local, still 1 km from home: a curfew breach is confirmed by the next fix.
        Assert.Empty(monitor.Offender(track.At(9.5 * 3600, 1000, 0)));
        var events = monitor.Offender(track.At(9.5 * 3600 + 30, 1000, 0));
        Assert.Equal(AlertType.InclusionZoneBreach, Assert.Single(events).Alert.Type);
        Assert.Equal(AlertSeverity.High, events[0].Alert.Severity);
    }

    [Fact]
    public void A_curfew_breach_needs_two_fixes_centred_outside_home_not_a_reflection_after_a_poor_fix_inside()
    {
        var nights = new WeeklySchedule([ScheduleWindow.Create(Enum.GetValues<DayOfWeek>(), new TimeSpan(22, 0, 0), new TimeSpan(6, 0, 0))]);
        var monitor = new OffenderMonitor("off-1", [Circle(200, kind: ZoneKind.Inclusion, schedule: nights)]);
        var track = new Track("dev-o", Home);
        double night = 9.5 * 3600; // 22:30 in Amsterdam
        var events = new List<MonitorEvent>();
        // At home, 50 m from the edge, indoors (60 m accuracy: every fix possibly outside); one reflection 100 m out.
        for (int t = 0; t <= 600; t += 10)
            events.AddRange(monitor.Offender(t == 300 ? track.At(night + t, 300, 0, acc: 10) : track.At(night + t, 150, 0, acc: 60)));
        Assert.Empty(events);

        // Leaving for real: the first certain fix outside follows one centred at home, so the next one confirms it.
        var leaving = new OffenderMonitor("off-1", [Circle(200, kind: ZoneKind.Inclusion, schedule: nights)]);
        for (int t = 0; t <= 300; t += 10) Assert.Empty(leaving.Offender(track.At(night + t, 150, 0, acc: 60)));
        Assert.Empty(leaving.Offender(track.At(night + 310, 300, 0, acc: 10)));
        var breach = Assert.Single(leaving.Offender(track.At(night + 320, 320, 0, acc: 10))).Alert;
        Assert.Equal((AlertType.InclusionZoneBreach, "Certain"), (breach.Type, breach.Evidence.Rule));
    }

    [Fact]
    public void Warning_buffer_of_an_exclusion_zone_warns_before_the_breach()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300, buffer: 200)]);
        var track = new Track("dev-o", Home);
        var events = new List<MonitorEvent>();
        for (int t = 0; t <= 400; t += 5) events.AddRange(monitor.Offender(track.At(t, 1000 - 2 * t, 0)));
        Assert.Equal([AlertType.ProximityWarning, AlertType.ExclusionZoneBreach], events.Select(e => e.Alert.Type));
    }

    [Fact]
    public void A_ban_amended_to_a_new_version_keeps_its_open_episode()
    {
        var monitor = new OffenderMonitor("off-1", [Circle(300)]);
        var track = new Track("dev-o", Home);
        Assert.Single(monitor.Offender(track.At(0, 0, 0)));
        monitor.UpdateBans([Circle(400) with { Version = 2 }]);
        Assert.Empty(monitor.Offender(track.At(5, 10, 0)));
        Assert.Single(monitor.OpenAlerts);
    }
}
