using System.Globalization;
using System.Runtime.CompilerServices;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Schedules;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Monitoring;

public readonly record struct PlaneKey(int OriginLatitude, int CentralMeridian);

public readonly record struct DistanceSample(DateTimeOffset At, double Distance, double Sigma);

/// <summary>A breach episode that was alerted, from its start to its end.</summary>
public readonly record struct AlertedEpisode(DateTimeOffset From, DateTimeOffset To);

/// <summary>The decision state of one ban: its two episode trackers, open alerts, and the recent alerted episodes
/// (a backlog from their time raises nothing new).</summary>
public sealed record BanMonitorState(
    string BanId,
    TrackerState Breach,
    TrackerState Warning,
    Alert? BreachAlert,
    Alert? WarningAlert,
    IReadOnlyList<DistanceSample> Distances,
    IReadOnlyList<AlertedEpisode>? Episodes = null);

/// <summary>An <see cref="OffenderMonitor"/>'s state, plain data that serialises to JSON.</summary>
public sealed record MonitorState(
    PlaneKey? Plane,
    IReadOnlyList<TrackedFix> Offender,
    IReadOnlyDictionary<string, IReadOnlyList<TrackedFix>> Victims,
    IReadOnlyList<BanMonitorState> Bans,
    IReadOnlyList<DateTimeOffset> SuspectTimes,
    Alert? Jamming);

/// <summary>
/// Judges one offender's bans against the offender's fixes and the fixes of the victims the offender must
/// keep away from. The same code runs in the live grains and in replay. Not thread-safe: one caller at a
/// time (the offender grain). Allocation-free unless an alert is raised or cleared.
/// </summary>
public sealed class OffenderMonitor
{
    private const double K = Observation.SigmaPer95Radius;

    private readonly DecisionOptions _options;
    // The options' time limits in seconds, as the per-fix checks compare them (TotalSeconds is a division).
    private readonly double _maxPartnerAgeSeconds, _maxPathGapSeconds, _approachHorizonSeconds;
    private readonly Dictionary<string, PartyTrack> _victims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BanState> _byId = new(StringComparer.Ordinal);
    private BanState[] _bans = [];
    private PlaneProjection? _plane;
    private PartyTrack? _offender;
    private PartyTrack? _backfill;
    private DateTimeOffset _backfillNewest;
    private readonly DateTimeOffset[] _suspectTimes = new DateTimeOffset[8];
    private int _suspectCount;
    private Alert? _jamming;

    public OffenderMonitor(string offenderId, IEnumerable<Ban> bans, DecisionOptions? options = null)
    {
        OffenderId = offenderId;
        _options = options ?? DecisionOptions.Default;
        _maxPartnerAgeSeconds = _options.MaxPartnerAge.TotalSeconds;
        _maxPathGapSeconds = _options.MaxPathGap.TotalSeconds;
        _approachHorizonSeconds = _options.ApproachHorizon.TotalSeconds;
        UpdateBans(bans);
    }

    public string OffenderId { get; }

    /// <summary>The alerts of episodes that are still open.</summary>
    public IEnumerable<Alert> OpenAlerts
    {
        get
        {
            foreach (var ban in _bans)
            {
                if (ban.BreachAlert is { } breach) yield return breach;
                if (ban.WarningAlert is { } warning) yield return warning;
            }
            if (_jamming is { } jamming) yield return jamming;
        }
    }

    /// <summary>Whether a ban has an open breach or warning episode: asked after every fix, so it allocates nothing.</summary>
    public bool AnyBanEpisodeOpen
    {
        get
        {
            foreach (var ban in _bans)
                if (ban.BreachAlert is not null || ban.WarningAlert is not null) return true;
            return false;
        }
    }

    /// <summary>Replaces the ban set; a ban whose id stays keeps its open episode across versions.</summary>
    public void UpdateBans(IEnumerable<Ban> bans)
    {
        var next = new List<BanState>();
        foreach (var ban in bans)
        {
            if (ban.OffenderId != OffenderId)
                throw new ArgumentException($"ban {ban.Id} belongs to offender {ban.OffenderId}, not {OffenderId}");
            if (_byId.TryGetValue(ban.Id, out var state)) state.Ban = ban;
            else state = new BanState(ban, _options);
            state.Zone = null;
            next.Add(state);
        }
        _byId.Clear();
        foreach (var s in next) _byId[s.Ban.Id] = s;
        _bans = next.ToArray();
        var firstZone = _bans.Select(b => b.Ban).OfType<ZoneBan>().FirstOrDefault();
        if (_plane is null && firstZone is not null) UsePlane(firstZone.Area.HomePlane);
        else if (_plane is not null) PrepareZones();
        LinkVictimTracks();
    }

    public void OnOffenderFix(in PositionFix fix, bool late, List<MonitorEvent> events)
    {
        EnsurePlane(fix);
        bool hasLeg = _offender!.TryGetLastTrusted(out var legStart);
        // The pace along the way: the receiver's own speed over ground when it reports one, else the pace before.
        double pace = fix.SpeedMetersPerSecond ?? _offender.TypicalSpeed();
        var point = _offender.Add(fix);
        // The path from the last trusted fix is the same for every ban: measure it once.
        var leg = hasLeg && !point.Suspect && !_offender.ReturnedFromReflection ? MeasureLeg(legStart, point, pace) : default;
        if (_offender.StartedImpossibleJump) NoteSuspect(point, late, events);
        else if (!point.Suspect) ExpireJamming(point.At, events);

        foreach (var state in _bans)
        {
            state.AdoptBackfillEpisode();
            if (!state.IsInForce(fix.Timestamp)) { EndOutOfForce(state, fix.Timestamp, events); continue; }
            if (state.ZoneBan is not null)
                JudgeZone(state, point, leg, legStart, late, events);
            else if (state.ContactBan is { } contact && state.VictimTrack is { } victim && victim.TryGetNearestTrusted(fix.Timestamp, out var v))
                JudgeContact(state, contact, point, v, point, leg, legStart, victim, late, events);
        }
    }

    public void OnVictimFix(string victimId, in PositionFix fix, bool late, List<MonitorEvent> events)
    {
        EnsurePlane(fix);
        if (!_victims.TryGetValue(victimId, out var track))
        {
            _victims[victimId] = track = new PartyTrack(_plane!, _options);
            LinkVictimTracks();
        }
        var point = track.Add(fix);
        if (!_offender!.TryGetNearestTrusted(fix.Timestamp, out var offender)) return;
        foreach (var state in _bans)
        {
            if (state.ContactBan is not { } contact || contact.VictimId != victimId) continue;
            if (!state.IsInForce(fix.Timestamp)) { EndOutOfForce(state, fix.Timestamp, events); continue; }
            JudgeContact(state, contact, offender, point, point, default, point, track, late, events);
            // Her way since her last fix, against his: both moving, they can have met between their fixes.
            if (!state.Breach.IsOpen && !point.Suspect && track.TryGetLastLeg(out var from, out var to) && // a trusted fix ends the last leg
                MeasureLeg(from, to, fix.SpeedMetersPerSecond ?? track.TypicalSpeed()) is { WorthJudging: true } leg)
                JudgeContactPath(state, contact, from, to, leg, offender, _offender, offenderMoves: false, late, events);
        }
    }

    /// <summary>
    /// Judges an offender fix older than the newest one already judged: a backlog the device sent after a live
    /// fix. It does not move the current position backwards; it runs through its own episode trackers, and a
    /// breach found there that no alerted episode covers is raised late, with the time it happened.
    /// </summary>
    public void OnOffenderBackfill(in PositionFix fix, List<MonitorEvent> events)
    {
        if (_plane is null || _offender is null) return;
        // The backlog's track goes on from its own newest fix unless the live track knows the person later than
        // that: a fix that merely arrived out of order among live ones is judged against the live fixes before it,
        // with their motion, or a reflection among them would pass for a move.
        var anchors = _offender.TrustedBefore(fix.Timestamp, 3);
        if (_backfill is null || fix.Timestamp <= _backfillNewest || fix.Timestamp - _backfillNewest > _options.MaxPathGap ||
            (anchors.Count > 0 && anchors[^1].Fix.Timestamp > _backfillNewest))
        {
            _backfill = new PartyTrack(_plane, _options);
            _backfill.Restore(anchors);
        }
        _backfillNewest = fix.Timestamp;
        var point = _backfill.Add(fix);
        foreach (var state in _bans)
        {
            if (!state.IsInForce(fix.Timestamp)) { state.Backfill.Close(); continue; }
            Observation observation;
            Witnesses witnesses;
            bool? inside = null;
            double? signed = null, distance = null;
            switch (state.Ban)
            {
                case ZoneBan:
                    observation = ZoneObservation(state, point, out var location, out double s);
                    witnesses = new Witnesses(point, point.AccuracyMeters, null, 0, point.At);
                    inside = location.Inside;
                    signed = s;
                    break;
                case ContactBan contact when state.VictimTrack is { } victimTrack &&
                                             victimTrack.TryGetNearestTrusted(fix.Timestamp, out var victim) &&
                                             Age(fix.Timestamp, victim) <= _maxPartnerAgeSeconds:
                    observation = ContactObservation(contact, point, _backfill, Age(point.At, point), victim, victimTrack, Age(point.At, victim), point,
                        out double d, out double pointRadius, out double victimRadius);
                    witnesses = new Witnesses(point, pointRadius, victim, victimRadius, point.At);
                    distance = d;
                    break;
                default:
                    continue;
            }
            var step = state.Backfill.Observe(observation);
            if (step == EpisodeStep.Raised && !state.Covers(point.At, _options.ClearHold + _options.ClearHold) &&
                !state.Breach.IsOpen && state.BackfillAlert is null)
            {
                var rule = observation.Certainty == Certainty.Certain ? RaiseRule.Certain : RaiseRule.Persistent;
                double limit = state.Ban is ContactBan c ? c.MinDistanceMeters : 0;
                var alert = BuildAlert(state, state.BreachType, rule, observation, point.At, point.At, true, witnesses.ToArray(),
                    inside, signed, distance, null, limit, state.Backfill);
                state.BackfillAlert = alert;
                events.Add(new MonitorEvent(MonitorEventKind.Raised, alert));
            }
            else if (step == EpisodeStep.Cleared && state.BackfillAlert is { } open)
            {
                state.BackfillAlert = null;
                state.RememberEpisode(open.RaisedAt, point.At);
                events.Add(new MonitorEvent(MonitorEventKind.Cleared, open with { ClearedAt = point.At, ClearReason = "backlog shows the offender clearly out for the hold time" }));
            }
        }
    }

    /// <summary>Everything the monitor must remember to go on deciding after a restart: the plane, recent tracks,
    /// open episodes with their alerts, and the evidence gathered so far.</summary>
    public MonitorState Save() => new(
        _plane is null ? null : new PlaneKey(_plane.OriginLatitude, _plane.CentralMeridian),
        _offender?.Save() ?? [],
        _victims.ToDictionary(v => v.Key, v => v.Value.Save()),
        _bans.Select(b => b.Save()).ToArray(),
        _suspectTimes.Take(_suspectCount).ToArray(),
        _jamming);

    /// <summary>Restores a saved state onto this monitor (built with the current bans); bans that no longer
    /// exist are dropped, new bans start fresh.</summary>
    public void Restore(MonitorState state)
    {
        if (state.Plane is { } key) UsePlane(PlaneProjection.For(key.OriginLatitude, key.CentralMeridian));
        _offender?.Restore(state.Offender);
        _victims.Clear();
        if (_plane is not null)
        {
            foreach (var (victimId, points) in state.Victims)
            {
                var track = new PartyTrack(_plane, _options);
                track.Restore(points);
                _victims[victimId] = track;
            }
        }
        LinkVictimTracks();
        foreach (var saved in state.Bans)
            if (_byId.TryGetValue(saved.BanId, out var ban)) ban.Restore(saved);
        _suspectCount = Math.Min(state.SuspectTimes.Count, _suspectTimes.Length);
        for (int i = 0; i < _suspectCount; i++) _suspectTimes[i] = state.SuspectTimes[i];
        _jamming = state.Jamming;
    }

    /// <summary>Ends episodes of bans that went out of force (schedule or validity) by this instant.</summary>
    public void OnClock(DateTimeOffset now, List<MonitorEvent> events)
    {
        foreach (var state in _bans)
            if (!state.IsInForce(now)) EndOutOfForce(state, now, events);
        ExpireJamming(now, events);
    }

    private void JudgeZone(BanState state, in TrackPoint point, in Leg leg, in TrackPoint legStart, bool late, List<MonitorEvent> events)
    {
        double acc = point.AccuracyMeters;
        double buffer = state.WarningBuffer;
        var observation = ZoneObservation(state, point, out var location, out double signed);
        double depth = observation.DepthMeters;

        var step = state.Breach.Observe(observation);
        if (step == EpisodeStep.Raised) RaiseZoneBreach(state, observation, point, late, events);
        else if (step == EpisodeStep.Cleared) Clear(state, isWarning: false, point.At, "offender clearly outside the violation for the hold time", events);
        else if (!state.Breach.IsOpen && state.Exclusion && leg.WorthJudging)
            JudgeZonePath(state, legStart, point, leg, late, events);

        if (buffer <= 0) return;
        // Built field by field rather than with `with`: copying the just-written observation whole stalls the
        // CPU's store-to-load forwarding, which showed as the hottest spot of the zone judgement.
        double warnDepth = depth + buffer;
        var warning = new Observation(Observation.Classify(warnDepth, acc), warnDepth, observation.RadiusMeters, observation.SigmaMeters,
            observation.At, observation.Suspect);
        if (ObserveWarning(state, warning, events) == EpisodeStep.Raised)
            RaiseZoneWarning(state, warning, point, location.Inside, signed, buffer, late, events);
    }

    // The raising paths run once per episode. They are kept out of the per-fix methods (NoInlining) because
    // the JIT zeroes every struct local of a method on each call: inlined, their evidence temporaries made the
    // frame of OnOffenderFix over 2 KB to clear per fix.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseZoneBreach(BanState state, in Observation observation, in TrackPoint point, bool late, List<MonitorEvent> events)
    {
        var rule = observation.Certainty == Certainty.Certain && !observation.Suspect ? RaiseRule.Certain : RaiseRule.Persistent;
        var exact = state.Zone!.Locate(point.Position, 100_000);
        Raise(state, state.BreachType, rule, observation with { DepthMeters = state.Exclusion ? exact.SignedDepth : -exact.SignedDepth },
            point.At, point.At, late, [Evidence("offender", point, point.At)], exact.Inside, exact.SignedDepth, null, null, events);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseZoneWarning(BanState state, in Observation warning, in TrackPoint point, bool inside, double signed, double buffer,
        bool late, List<MonitorEvent> events) =>
        RaiseWarning(state, warning, RaiseRule.Certain, late, new Witnesses(point, point.AccuracyMeters, null, 0, point.At),
            inside, signed, null, null, buffer, events);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseContactBreach(BanState state, in Observation observation, in TrackPoint offender, double offenderRadius,
        in TrackPoint victim, double victimRadius, double distance, bool late, List<MonitorEvent> events)
    {
        var rule = observation.Certainty == Certainty.Certain && !observation.Suspect ? RaiseRule.Certain : RaiseRule.Persistent;
        var at = observation.At;
        Raise(state, AlertType.ContactBanBreach, rule, observation, at, at, late,
            new Witnesses(offender, offenderRadius, victim, victimRadius, at).ToArray(), null, null, distance, null, events);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseContactWarning(BanState state, in Observation warning, RaiseRule rule, in TrackPoint offender, double offenderRadius,
        in TrackPoint victim, double victimRadius, double distance, double closing, double limit, bool late, List<MonitorEvent> events) =>
        RaiseWarning(state, warning, rule, late, new Witnesses(offender, offenderRadius, victim, victimRadius, warning.At), null, null, distance,
            double.IsNaN(closing) ? null : closing, limit, events);

    private static AlertType BreachTypeOf(Ban ban) => ban switch
    {
        ContactBan => AlertType.ContactBanBreach,
        ZoneBan { Kind: ZoneKind.Exclusion } => AlertType.ExclusionZoneBreach,
        _ => AlertType.InclusionZoneBreach,
    };

    /// <summary>Where a fix lies against a zone ban: depth on the violating side, uncertainty = its accuracy.</summary>
    private static Observation ZoneObservation(BanState state, in TrackPoint point, out ZoneLocation location, out double signed)
    {
        double acc = point.AccuracyMeters;
        // Beyond the accuracy (plus buffer) every depth classifies the same; evidence re-measures exactly.
        double search = acc + state.WarningBuffer + 1;
        location = state.Zone!.Locate(point.Position, search);
        signed = double.IsFinite(location.BoundaryDistanceMeters) ? location.SignedDepth : (location.Inside ? search : -search);
        double depth = state.Exclusion ? signed : -signed;
        return new Observation(Observation.Classify(depth, acc), depth, acc, acc * K, point.At, point.Suspect);
    }

    /// <summary>Seconds between a fix and the moment it is used at.</summary>
    private static double Age(DateTimeOffset at, in TrackPoint point) => Math.Abs((at - point.At).TotalSeconds);

    /// <summary>Offender against victim, each fix aged to the moment of the trigger fix (ages as <see cref="Age"/>).</summary>
    private Observation ContactObservation(ContactBan ban, in TrackPoint offender, PartyTrack offenderTrack, double offenderAge, in TrackPoint victim,
        PartyTrack victimTrack, double victimAge, in TrackPoint trigger, out double distance, out double offenderRadius, out double victimRadius)
    {
        var at = trigger.At;
        distance = _plane!.DistanceMeters(offender.Position, victim.Position);
        double aging = _options.AgingSpeedMetersPerSecond;
        offenderRadius = offender.AccuracyMeters + aging * offenderAge;
        victimRadius = victim.AccuracyMeters + aging * victimAge;
        double radius = offenderRadius + victimRadius;
        double offenderSigma = (offender.AccuracyMeters + offenderTrack.TypicalSpeed() * offenderAge) * K;
        double victimSigma = (victim.AccuracyMeters + victimTrack.TypicalSpeed() * victimAge) * K;
        double sigma = Math.Sqrt(offenderSigma * offenderSigma + victimSigma * victimSigma);
        double depth = ban.MinDistanceMeters - distance;
        return new Observation(Observation.Classify(depth, radius), depth, radius, sigma, at, trigger.Suspect);
    }

    private void JudgeZonePath(BanState state, in TrackPoint from, in TrackPoint to, in Leg leg, bool late, List<MonitorEvent> events)
    {
        double length = leg.Length, dt = leg.Seconds;
        int samples = Math.Clamp((int)(length / 10), 3, 63);
        double entryU = -1;
        for (int i = 1; i <= samples; i++)
        {
            double u = (double)i / (samples + 1);
            double allowed = from.AccuracyMeters + (to.AccuracyMeters - from.AccuracyMeters) * u + leg.Detour;
            var location = state.Zone!.Locate(PlanePoint.Lerp(from.Position, to.Position, u), allowed + 1);
            if (!location.Inside) { entryU = -1; continue; }
            if (entryU < 0) entryU = u;
            if (location.BoundaryDistanceMeters < allowed) continue;

            var entered = from.At + TimeSpan.FromSeconds(dt * entryU);
            // The search above looks no farther than the allowance: the evidence says how deep the path ran there.
            double depth = state.Zone.Locate(PlanePoint.Lerp(from.Position, to.Position, u), 100_000).BoundaryDistanceMeters;
            var observation = new Observation(Certainty.Certain, depth, allowed, allowed * K, to.At, false);
            state.Breach.ForceOpen(entered);
            Raise(state, AlertType.ExclusionZoneBreach, RaiseRule.Path, observation, entered, to.At, late,
                [Evidence("offender", from, to.At), Evidence("offender", to, to.At)], true, depth, null, null, events);
            state.Warning.ForceOpen(entered);
            return;
        }
    }

    private void JudgeContact(BanState state, ContactBan ban, in TrackPoint offender, in TrackPoint victim, in TrackPoint trigger,
        in Leg leg, in TrackPoint legStart, PartyTrack victimTrack, bool late, List<MonitorEvent> events)
    {
        var at = trigger.At;
        double offenderAge = Age(at, offender), victimAge = Age(at, victim);
        if (Math.Max(offenderAge, victimAge) > _maxPartnerAgeSeconds) return; // cannot judge: protection degraded

        var observation = ContactObservation(ban, offender, _offender!, offenderAge, victim, victimTrack, victimAge, trigger, out double distance,
            out double offenderRadius, out double victimRadius);
        double radius = observation.RadiusMeters, sigma = observation.SigmaMeters;

        var step = state.Breach.Observe(observation);
        if (step == EpisodeStep.Raised)
            RaiseContactBreach(state, observation, offender, offenderRadius, victim, victimRadius, distance, late, events);
        else if (step == EpisodeStep.Cleared) Clear(state, isWarning: false, at, "offender clearly beyond the minimum distance for the hold time", events);
        else if (!state.Breach.IsOpen && leg.WorthJudging) // only an offender fix that is not suspect has a leg
            JudgeContactPath(state, ban, legStart, offender, leg, victim, victimTrack, offenderMoves: true, late, events);

        // Closing speed only from the offender's own fixes against a fresh victim position: a stale position
        // replaced by a new one is a jump in distance, not a speed.
        double closing = double.NaN;
        bool measurable = !trigger.Suspect && trigger.DeviceId == offender.DeviceId && trigger.Seq == offender.Seq &&
                          victimAge <= 30;
        if (measurable)
        {
            closing = state.ClosingSpeed(at, distance, sigma);
            if (closing > _options.AgingSpeedMetersPerSecond) closing = double.NaN;
            state.RememberDistance(at, distance, sigma, false);
        }

        if (ban.WarningDistanceMeters <= ban.MinDistanceMeters) return;
        double warnDepth = ban.WarningDistanceMeters - distance;
        var warnCertainty = Observation.Classify(warnDepth, radius);
        var rule2 = RaiseRule.Certain;
        if (warnCertainty != Certainty.Certain && closing > 0 &&
            (distance - ban.MinDistanceMeters) / closing <= _approachHorizonSeconds)
        {
            warnCertainty = Certainty.Certain;
            rule2 = RaiseRule.Approach;
        }
        var warning = new Observation(warnCertainty, warnDepth, radius, sigma, at, observation.Suspect); // field by field, as for zones
        if (ObserveWarning(state, warning, events) == EpisodeStep.Raised)
            RaiseContactWarning(state, warning, rule2, offender, offenderRadius, victim, victimRadius, distance, closing, ban.WarningDistanceMeters,
                late, events);
    }

    /// <summary>
    /// Judges the straight path of one party's last leg against the other party: where the other's own last leg spans
    /// the instant, at its interpolated place (both moving: two cars crossing between their fixes), else at its nearest
    /// fix, aged at car speed.
    /// </summary>
    private void JudgeContactPath(BanState state, ContactBan ban, in TrackPoint from, in TrackPoint to, in Leg leg, in TrackPoint other,
        PartyTrack otherTrack, bool offenderMoves, bool late, List<MonitorEvent> events)
    {
        double length = leg.Length, dt = leg.Seconds;
        bool otherHasLeg = otherTrack.TryGetLastLeg(out var otherFrom, out var otherTo) && otherTo.At > otherFrom.At &&
                           (otherTo.At - otherFrom.At).TotalSeconds <= _maxPathGapSeconds;
        var otherLeg = otherHasLeg ? MeasureLeg(otherFrom, otherTo, otherTrack.TypicalSpeed()) : default;
        int samples = Math.Clamp((int)(length / 10), 3, 63);
        for (int i = 1; i <= samples; i++)
        {
            double u = (double)i / (samples + 1);
            var at = from.At + TimeSpan.FromSeconds(dt * u);
            PlanePoint otherPosition;
            double otherAllowed;
            bool interpolated = otherHasLeg && at >= otherFrom.At && at <= otherTo.At;
            if (interpolated)
            {
                double w = (at - otherFrom.At).TotalSeconds / (otherTo.At - otherFrom.At).TotalSeconds;
                otherPosition = PlanePoint.Lerp(otherFrom.Position, otherTo.Position, w);
                otherAllowed = otherFrom.AccuracyMeters + (otherTo.AccuracyMeters - otherFrom.AccuracyMeters) * w + otherLeg.Detour;
            }
            else
            {
                double otherAge = Math.Abs((at - other.At).TotalSeconds);
                if (otherAge > _maxPartnerAgeSeconds) continue;
                otherPosition = other.Position;
                otherAllowed = other.AccuracyMeters + _options.AgingSpeedMetersPerSecond * otherAge;
            }
            double allowed = from.AccuracyMeters + (to.AccuracyMeters - from.AccuracyMeters) * u + leg.Detour + otherAllowed;
            double distance = _plane!.DistanceMeters(PlanePoint.Lerp(from.Position, to.Position, u), otherPosition);
            double depth = ban.MinDistanceMeters - distance;
            if (depth < allowed) continue;
            var observation = new Observation(Certainty.Certain, depth, allowed, allowed * K, to.At, false);
            state.Breach.ForceOpen(at);
            string moving = offenderMoves ? "offender" : "victim", still = offenderMoves ? "victim" : "offender";
            FixEvidence[] fixes = interpolated
                ? [Evidence(moving, from, to.At), Evidence(moving, to, to.At), Evidence(still, otherFrom, at), Evidence(still, otherTo, at)]
                : [Evidence(moving, from, to.At), Evidence(moving, to, to.At), Evidence(still, other, at)];
            Raise(state, AlertType.ContactBanBreach, RaiseRule.Path, observation, at, to.At, late, fixes, null, null, distance, null, events);
            state.Warning.ForceOpen(at);
            return;
        }
    }

    /// <summary>The move between two trusted fixes; worth judging when it is recent and longer than their accuracies.</summary>
    private Leg MeasureLeg(in TrackPoint from, in TrackPoint to, double pace)
    {
        if (PlaneProjection.SurelyWithin(from.Position, to.Position, from.AccuracyMeters + to.AccuracyMeters)) return default; // not worth judging
        double seconds = (to.At - from.At).TotalSeconds;
        double length = _plane!.DistanceMeters(from.Position, to.Position);
        bool worth = seconds > 0 && seconds <= _maxPathGapSeconds && length > from.AccuracyMeters + to.AccuracyMeters;
        // How far the way taken can have strayed from the straight line: a route of length S between points L apart
        // stays within the ellipse around them, at most √(S² − L²) / 2 off the line (a road turning a corner or
        // curving round a zone at the same pace; a car that cuts straight across covers no more than L). The pace is
        // taken half a metre per second slower than measured: at walking pace its error alone would open the ellipse.
        double route = Math.Clamp(pace - 0.5, 0, _options.AgingSpeedMetersPerSecond) * seconds;
        double detour = route > length ? 0.5 * Math.Sqrt(route * route - length * length) : 0;
        return new Leg(worth, length, seconds, Math.Max(_options.PathDeviationPerMeter * length, detour));
    }

    /// <summary>The move between two trusted fixes, and how far off the straight line between them the way taken may have run.</summary>
    private readonly record struct Leg(bool WorthJudging, double Length, double Seconds, double Detour);

    /// <summary>Feeds the warning tracker and clears its episode when it ends; a raise is left to the caller, which
    /// gathers the evidence only then.</summary>
    private EpisodeStep ObserveWarning(BanState state, in Observation warning, List<MonitorEvent> events)
    {
        if (state.Breach.IsOpen) state.Warning.ForceOpen(warning.At);
        var step = state.Warning.Observe(warning);
        if (step == EpisodeStep.Cleared) Clear(state, isWarning: true, warning.At, "offender clearly outside the warning distance for the hold time", events);
        return step;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RaiseWarning(BanState state, in Observation warning, RaiseRule rule, bool late, in Witnesses witnesses,
        bool? inside, double? signed, double? distance, double? closing, double limit, List<MonitorEvent> events)
    {
        if (late)
        {
            // A warning is there to act before a breach; from a late fix (a store-and-forward backlog) it could
            // only tell the past, so none is raised (a breach still is, marked late). No episode is kept open
            // either: the first live fix inside the warning distance warns.
            state.Warning.Close();
            return;
        }
        if (warning.Certainty != Certainty.Certain || warning.Suspect) rule = RaiseRule.Persistent;
        var alert = BuildAlert(state, AlertType.ProximityWarning, rule, warning, warning.At, warning.At, late: false, witnesses.ToArray(),
            inside, signed, distance, closing, limit);
        state.WarningAlert = alert;
        events.Add(new MonitorEvent(MonitorEventKind.Raised, alert));
    }

    private void Raise(BanState state, AlertType type, RaiseRule rule, in Observation observation, DateTimeOffset raisedAt,
        DateTimeOffset decidedAt, bool late, FixEvidence[] fixes, bool? inside, double? signed, double? distance, double? closing,
        List<MonitorEvent> events)
    {
        double limit = state.Ban is ContactBan c ? c.MinDistanceMeters : 0;
        var alert = BuildAlert(state, type, rule, observation, raisedAt, decidedAt, late, fixes, inside, signed, distance, closing, limit);
        state.BreachAlert = alert;
        state.Warning.ForceOpen(raisedAt);
        events.Add(new MonitorEvent(MonitorEventKind.Raised, alert));
    }

    private Alert BuildAlert(BanState state, AlertType type, RaiseRule rule, in Observation o, DateTimeOffset raisedAt,
        DateTimeOffset decidedAt, bool late, FixEvidence[] fixes, bool? inside, double? signed, double? distance, double? closing, double limit,
        EpisodeTracker? tracker = null)
    {
        tracker ??= type == AlertType.ProximityWarning ? state.Warning : state.Breach;
        var (mean, se) = tracker.RunEvidence(o.At);
        bool hasRun = rule == RaiseRule.Persistent && tracker.RunLength > 0;
        var ban = state.Ban;
        return new Alert
        {
            Id = AlertId(type, ban.Id, raisedAt),
            Type = type,
            Severity = AlertTypes.DefaultSeverity(type),
            OffenderId = OffenderId,
            VictimId = (ban as ContactBan)?.VictimId,
            BanId = ban.Id,
            BanVersion = ban.Version,
            DeviceId = fixes.FirstOrDefault(f => f.Role == "offender")?.DeviceId,
            RaisedAt = raisedAt,
            DecidedAt = decidedAt,
            Late = late,
            Recipients = ban.Recipients,
            Evidence = new AlertEvidence
            {
                Rule = rule.ToString(),
                Summary = Explain(type, rule, ban, o, distance, signed, closing, limit, hasRun ? tracker.RunLength : 0, mean, se, fixes),
                Fixes = fixes,
                Certainty = o.Certainty.ToString(),
                DistanceMeters = Round(distance),
                LimitMeters = limit,
                BoundaryDistanceMeters = signed is { } s ? Round(Math.Abs(s)) : null,
                InsideZone = inside,
                DepthMeters = Round(o.DepthMeters) ?? 0,
                UncertaintyMeters = Round(o.RadiusMeters) ?? 0,
                RunFixes = hasRun ? tracker.RunLength : 0,
                RunMeanDepthMeters = hasRun ? Round(mean) : null,
                RunStandardErrorMeters = hasRun ? Round(se) : null,
                RunStartedAt = hasRun ? tracker.RunStart : null,
                ClosingSpeedMetersPerSecond = Round(closing),
                BanVersion = ban.Version,
            },
        };
    }

    private static string Explain(AlertType type, RaiseRule rule, Ban ban, in Observation o, double? distance, double? signed,
        double? closing, double limit, int runFixes, double mean, double se, FixEvidence[] fixes)
    {
        var ic = CultureInfo.InvariantCulture;
        string where = ban switch
        {
            ContactBan => string.Format(ic, "offender {0:F0} m from the victim (limit {1:F0} m)", distance, limit),
            ZoneBan { Kind: ZoneKind.Inclusion } => string.Format(ic, "offender {0:F0} m {1} the required zone", Math.Abs(signed ?? 0), signed > 0 ? "inside" : "outside"),
            _ => string.Format(ic, "offender {0:F0} m {1} the zone{2}", Math.Abs(signed ?? 0), signed > 0 ? "inside" : "outside",
                limit > 0 ? string.Format(ic, " (warning buffer {0:F0} m)", limit) : ""),
        };
        return rule switch
        {
            RaiseRule.Certain => string.Format(ic, "{0}: {1}; the whole uncertainty (±{2:F0} m) is on the violating side.", type, where, o.RadiusMeters),
            RaiseRule.Persistent => string.Format(ic, "{0}: {1}; {2} consecutive fixes were possibly {3}, on average {4:F0} m on the violating side (standard error {5:F0} m; the latest fix ±{6:F0} m{7}).",
                type, where, runFixes, type == AlertType.ProximityWarning ? (ban is ContactBan ? "within the warning distance" : "within the warning buffer") : "in breach",
                mean, se, Likely95(o), o.RadiusMeters > 1.5 * Likely95(o) ? string.Format(ic, ", at worst ±{0:F0} m if the other party moved at car speed", o.RadiusMeters) : ""),
            RaiseRule.Path => string.Format(ic, "{0}: the straight path between the fixes at {1:HH:mm:ss} and {2:HH:mm:ss} UTC ran {3:F0} m into the violation, more than its uncertainty of {4:F0} m.",
                type, fixes[0].Timestamp, fixes[1].Timestamp, o.DepthMeters, o.RadiusMeters),
            _ => string.Format(ic, "{0}: {1}; closing at {2:F1} m/s, the minimum distance would be reached within {3:F0} s.",
                type, where, closing, closing > 0 ? (distance - ((ContactBan)ban).MinDistanceMeters) / closing : 0),
        };
    }

    /// <summary>The 95 % radius behind the weighing of evidence (the worst-case radius ages the other party's old fix at
    /// car speed, which decides certainty but says little about where the person likely is).</summary>
    private static double Likely95(in Observation o) => o.SigmaMeters / Observation.SigmaPer95Radius;

    private void Clear(BanState state, bool isWarning, DateTimeOffset at, string reason, List<MonitorEvent> events)
    {
        var alert = isWarning ? state.WarningAlert : state.BreachAlert;
        if (!isWarning && alert is not null) state.RememberEpisode(alert.RaisedAt, at);
        if (isWarning) state.WarningAlert = null; else state.BreachAlert = null;
        if (alert is not null)
            events.Add(new MonitorEvent(MonitorEventKind.Cleared, alert with { ClearedAt = at, ClearReason = reason }));
    }

    private void EndOutOfForce(BanState state, DateTimeOffset at, List<MonitorEvent> events)
    {
        if (state.Breach.IsOpen) { state.Breach.Close(); Clear(state, false, at, "ban no longer in force", events); }
        if (state.Warning.IsOpen) { state.Warning.Close(); Clear(state, true, at, "ban no longer in force", events); }
        state.Breach.Close();
        state.Warning.Close();
    }

    private void NoteSuspect(in TrackPoint point, bool late, List<MonitorEvent> events)
    {
        Array.Copy(_suspectTimes, 0, _suspectTimes, 1, _suspectTimes.Length - 1);
        _suspectTimes[0] = point.At;
        _suspectCount = Math.Min(_suspectCount + 1, _suspectTimes.Length);
        int n = _options.SuspectFixesForJamming;
        if (_jamming is not null || _suspectCount < n || point.At - _suspectTimes[n - 1] > _options.JammingWindow) return;
        _jamming = new Alert
        {
            Id = AlertId(AlertType.SuspectedJamming, OffenderId, point.At),
            Type = AlertType.SuspectedJamming,
            Severity = AlertTypes.DefaultSeverity(AlertType.SuspectedJamming),
            OffenderId = OffenderId,
            DeviceId = point.DeviceId,
            RaisedAt = point.At,
            DecidedAt = point.At,
            Late = late,
            Evidence = new AlertEvidence
            {
                Rule = "ImpossibleJumps",
                Summary = string.Format(CultureInfo.InvariantCulture,
                    "{0} fixes within {1:F0} min implied speeds above {2:F0} km/h: possible jamming, spoofing or multipath.",
                    n, _options.JammingWindow.TotalMinutes, _options.ImpossibleSpeedMetersPerSecond * 3.6),
                Fixes = [Evidence("offender", point, point.At)],
            },
        };
        events.Add(new MonitorEvent(MonitorEventKind.Raised, _jamming));
    }

    private void ExpireJamming(DateTimeOffset now, List<MonitorEvent> events)
    {
        if (_jamming is null || now - _suspectTimes[0] < 3 * _options.JammingWindow) return;
        events.Add(new MonitorEvent(MonitorEventKind.Cleared, _jamming with { ClearedAt = now, ClearReason = "no impossible jumps since" }));
        _jamming = null;
        _suspectCount = 0;
    }

    private static FixEvidence Evidence(string role, in TrackPoint p, DateTimeOffset at, double? uncertainty = null)
    {
        return new FixEvidence(role, p.DeviceId, p.Seq, p.At, p.Latitude, p.Longitude, p.AccuracyMeters,
            Math.Round(Math.Abs((at - p.At).TotalSeconds), 3), Math.Round(uncertainty ?? p.AccuracyMeters, 2), p.Suspect);
    }

    private static string AlertId(AlertType type, string subject, DateTimeOffset at) =>
        string.Create(CultureInfo.InvariantCulture, $"{subject}:{type}:{at.UtcDateTime:yyyyMMdd'T'HHmmss.fff'Z'}");

    private static double? Round(double? value) => value is { } v && double.IsFinite(v) ? Math.Round(v, 2) : null;

    private void EnsurePlane(in PositionFix fix)
    {
        if (_plane is null) UsePlane(PlaneProjection.For(fix.Latitude, fix.Longitude));
    }

    private void UsePlane(PlaneProjection plane)
    {
        _plane = plane;
        _offender = new PartyTrack(plane, _options);
        PrepareZones();
    }

    /// <summary>Points each contact ban at its victim's track, so judging a fix needs no lookup by name.</summary>
    private void LinkVictimTracks()
    {
        foreach (var state in _bans)
            state.VictimTrack = state.ContactBan is { } contact && _victims.TryGetValue(contact.VictimId, out var track) ? track : null;
    }

    private void PrepareZones()
    {
        foreach (var state in _bans)
            if (state.Ban is ZoneBan z) state.Zone = z.Area.PreparedIn(_plane!);
    }

    /// <summary>The fixes a decision used; turned into evidence only when an alert is raised.</summary>
    private readonly record struct Witnesses(TrackPoint Offender, double OffenderRadius, TrackPoint? Victim, double VictimRadius, DateTimeOffset At)
    {
        public FixEvidence[] ToArray() => Victim is { } v
            ? [Evidence("offender", Offender, At, OffenderRadius), Evidence("victim", v, At, VictimRadius)]
            : [Evidence("offender", Offender, At, OffenderRadius)];
    }

    private sealed class BanState
    {
        private const int DistanceMemory = 16;
        private readonly (DateTimeOffset At, double Distance, double Sigma)[] _distances = new (DateTimeOffset, double, double)[DistanceMemory];
        // The samples' UTC ticks beside them: the closing-speed scan compares times as plain integers.
        private readonly long[] _distanceTicks = new long[DistanceMemory];
        private int _distanceCount, _distanceHead;

        private Ban _ban = null!;
        private long _validFromTicks, _validUntilTicks;
        private WeeklySchedule? _schedule;

        public BanState(Ban ban, DecisionOptions options)
        {
            Ban = ban;
            // A curfew breach (inclusion zone) is confirmed by a second fix: a minute's delay costs nothing there,
            // while a single reflected fix outside home at night would wake the control room for nothing.
            Breach = new(options, ban is ZoneBan { Kind: ZoneKind.Inclusion } ? 2 : 1);
            Warning = new(options);
            Backfill = new(options);
        }

        public Ban Ban
        {
            get => _ban;
            set
            {
                _ban = value;
                ZoneBan = value as ZoneBan;
                ContactBan = value as ContactBan;
                Exclusion = ZoneBan is { Kind: ZoneKind.Exclusion };
                WarningBuffer = Exclusion ? Math.Max(0, ZoneBan!.WarningBufferMeters) : 0;
                BreachType = BreachTypeOf(value);
                _validFromTicks = value.ValidFrom.UtcTicks;
                _validUntilTicks = value.ValidUntil?.UtcTicks ?? long.MaxValue;
                _schedule = value.Schedule;
            }
        }

        // Derived from the ban once per version, so the per-fix loop reads fields instead of testing types.
        public ZoneBan? ZoneBan { get; private set; }
        public ContactBan? ContactBan { get; private set; }
        public bool Exclusion { get; private set; }
        /// <summary>The warning buffer of an exclusion zone (0 for other bans).</summary>
        public double WarningBuffer { get; private set; }
        public AlertType BreachType { get; private set; }

        /// <summary><see cref="Ban.IsInForce"/> on the validity as UTC ticks (DateTimeOffset compares those).</summary>
        public bool IsInForce(DateTimeOffset instant)
        {
            long ticks = instant.UtcTicks;
            return ticks >= _validFromTicks && ticks < _validUntilTicks && (_schedule is null || _schedule.IsActive(instant));
        }

        public PreparedZone? Zone { get; set; }
        /// <summary>The victim's track for a contact ban, once the victim has reported.</summary>
        public PartyTrack? VictimTrack { get; set; }
        public EpisodeTracker Breach { get; }
        public EpisodeTracker Warning { get; }
        public Alert? BreachAlert { get; set; }
        public Alert? WarningAlert { get; set; }
        public EpisodeTracker Backfill { get; }
        public Alert? BackfillAlert { get; set; }
        private readonly List<AlertedEpisode> _episodes = [];

        public void RememberEpisode(DateTimeOffset from, DateTimeOffset to)
        {
            if (_episodes.Count == 8) _episodes.RemoveAt(0);
            _episodes.Add(new AlertedEpisode(from, to));
        }

        /// <summary>Was an episode alerted that covers this instant (within a margin)?</summary>
        public bool Covers(DateTimeOffset at, TimeSpan margin)
        {
            if (BreachAlert is { } open && at >= open.RaisedAt - margin) return true;
            foreach (var (from, to) in _episodes)
                if (at >= from - margin && at <= to + margin) return true;
            return false;
        }

        /// <summary>A breach found in a backlog and still open continues as the live episode.</summary>
        public void AdoptBackfillEpisode()
        {
            if (BackfillAlert is not { } alert || Breach.IsOpen) return;
            Breach.ForceOpen(alert.RaisedAt);
            Warning.ForceOpen(alert.RaisedAt);
            BreachAlert = alert;
            BackfillAlert = null;
            Backfill.Close();
        }

        public BanMonitorState Save() => new(Ban.Id, Breach.Save(), Warning.Save(), BreachAlert, WarningAlert,
            Enumerable.Range(0, _distanceCount).Select(i => _distances[(_distanceHead - _distanceCount + 1 + i + DistanceMemory) % DistanceMemory])
                .Select(d => new DistanceSample(d.At, d.Distance, d.Sigma)).ToArray(),
            _episodes.ToArray());

        public void Restore(BanMonitorState state)
        {
            Breach.Restore(state.Breach);
            Warning.Restore(state.Warning);
            BreachAlert = state.BreachAlert;
            WarningAlert = state.WarningAlert;
            _distanceCount = 0;
            foreach (var d in state.Distances.TakeLast(DistanceMemory)) RememberDistance(d.At, d.Distance, d.Sigma, false);
            _episodes.Clear();
            foreach (var e in state.Episodes ?? []) RememberEpisode(e.From, e.To);
        }

        public void RememberDistance(DateTimeOffset at, double distance, double sigma, bool suspect)
        {
            if (suspect) return;
            _distanceHead = (_distanceHead + 1) % DistanceMemory;
            _distances[_distanceHead] = (at, distance, sigma);
            _distanceTicks[_distanceHead] = at.UtcTicks;
            if (_distanceCount < DistanceMemory) _distanceCount++;
        }

        /// <summary>Closing speed beyond noise over the last 10–60 s (m/s, positive = approaching), or NaN.</summary>
        public double ClosingSpeed(DateTimeOffset now, double distance, double sigma)
        {
            // The oldest sample 10-60 s back (scanning newest first, up to the first one beyond 60 s) decides:
            // find it by time alone, then weigh only that one.
            // (Whole ticks compare with 10 s and 60 s exactly as their TotalSeconds do.)
            const long Min = 10 * TimeSpan.TicksPerSecond, Max = 60 * TimeSpan.TicksPerSecond;
            long nowTicks = now.UtcTicks;
            int oldest = -1;
            for (int i = 0, slot = _distanceHead; i < _distanceCount; i++, slot = slot == 0 ? DistanceMemory - 1 : slot - 1)
            {
                long dt = nowTicks - _distanceTicks[slot];
                if (dt > Max) break;
                if (dt >= Min) oldest = slot;
            }
            if (oldest < 0) return double.NaN;
            var (at, d, s) = _distances[oldest];
            double noise = 2 * Math.Sqrt(s * s + sigma * sigma);
            return (d - distance - noise) / (now - at).TotalSeconds;
        }
    }
}
