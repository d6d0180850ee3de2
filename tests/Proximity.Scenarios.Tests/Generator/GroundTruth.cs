namespace Proximity.Scenarios.Generator;

/// <summary>
/// True episodes from the true positions, sampled every second, and the rule for which of them a decider
/// must detect: a breach that lasted long enough to be seen, or one deep enough that its path betrays it.
/// </summary>
public static class GroundTruth
{
    /// <summary>True violations closer together than this are one episode (a person stepping back and forth).</summary>
    public static readonly TimeSpan MergeGap = TimeSpan.FromSeconds(120);

    /// <summary>Seen: lasted at least this long...</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromSeconds(30);

    /// <summary>...with at least this many good fixes taken while the truth lay at least half their 95 % radius deep.</summary>
    public const int MinSeenFixes = 2;

    /// <summary>Or so deep (a car cutting through a zone between sparse fixes) that the path alone shows it.</summary>
    public const double DeepEnoughMeters = 75;

    /// <summary>...as long as the offender fixes just before and just after it lie at most this far apart
    /// (over a longer gap the route between them is unknown: the person may have stopped or turned).</summary>
    public static readonly TimeSpan PathObservedWithin = TimeSpan.FromSeconds(120);

    public static List<TrueEpisode> Episodes(IReadOnlyList<TruthBan> bans, Trajectory offender, Trajectory victim, IReadOnlyList<SentFix> fixes)
    {
        var start = offender.Start;
        var end = offender.End;
        var offenderFixes = fixes.Where(f => !f.Duplicate && !f.Multipath && f.Device == Scenario.OffenderDevice).OrderBy(f => f.Ts).ToList();
        var episodes = new List<TrueEpisode>();
        foreach (var ban in bans)
        {
            var runs = new List<(DateTimeOffset From, DateTimeOffset To, double Max)>();
            (DateTimeOffset From, DateTimeOffset To, double Max)? open = null;
            for (var t = start; t <= end; t += TimeSpan.FromSeconds(1))
            {
                double depth = ban.Depth(t, offender.At(t), victim.At(t));
                bool violating = depth > 0;
                if (violating)
                    open = open is { } o ? (o.From, t, Math.Max(o.Max, depth)) : (t, t, depth);
                else if (open is { } o) { runs.Add(o); open = null; }
            }
            if (open is { } last) runs.Add(last);

            var merged = new List<(DateTimeOffset From, DateTimeOffset To, double Max)>();
            foreach (var r in runs)
                if (merged.Count > 0 && r.From - merged[^1].To < MergeGap)
                    merged[^1] = (merged[^1].From, r.To, Math.Max(merged[^1].Max, r.Max));
                else merged.Add(r);

            foreach (var (from, to, max) in merged)
            {
                int seen = 0;
                // Only the offender's fixes show where the offender was (a victim's fix alone cannot).
                foreach (var f in offenderFixes)
                {
                    if (f.Ts < from || f.Ts > to) continue;
                    if (ban.Depth(f.Ts, f.True, victim.At(f.Ts)) >= 0.5 * f.Acc) seen++;
                }
                bool longEnough = to - from >= MinDuration && seen >= MinSeenFixes;
                var before = offenderFixes.LastOrDefault(f => f.Ts <= from);
                var after = offenderFixes.FirstOrDefault(f => f.Ts >= to);
                bool observedPath = before is not null && after is not null && after.Ts - before.Ts <= PathObservedWithin;
                bool deep = max >= DeepEnoughMeters && observedPath;
                episodes.Add(new TrueEpisode(ban.Id, ban.BreachType, from, to, max, seen, longEnough || deep));
            }
        }
        return episodes;
    }
}
