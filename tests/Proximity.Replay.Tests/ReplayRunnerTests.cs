using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Proximity.Protocol;
using Proximity.Replay;

namespace Proximity.Replay.Tests;

public class ReplayRunnerTests
{
    private const string Case = """
        {
          "offenders": [{"id": "off-1", "devices": ["dev-o1"]}],
          "victims": [{"id": "vic-1", "devices": [{"id": "dev-v1", "secret": "s3cret"}]}],
          "bans": [
            {"id": "ban-home", "type": "exclusion", "offenderId": "off-1",
             "area": {"type": "Circle", "center": [5.12, 52.09], "radiusMeters": 300},
             "warningBufferMeters": null, "schedule": null, "validFrom": "2026-01-01T00:00:00Z", "validUntil": null},
            {"id": "ban-contact", "type": "contact", "offenderId": "off-1", "victimId": "vic-1",
             "minDistanceMeters": 500, "warningDistanceMeters": 1000, "validFrom": "2026-01-01T00:00:00Z"}
          ]
        }
        """;

    private static string Fix(string device, long seq, int seconds, double eastMeters, double acc = 8) =>
        string.Create(CultureInfo.InvariantCulture,
            $$"""{"device":"{{device}}","seq":{{seq}},"ts":"{{new DateTime(2026, 3, 10, 21, 0, 0, DateTimeKind.Utc).AddSeconds(seconds):yyyy-MM-ddTHH:mm:ss.fffZ}}","lat":52.09,"lon":{{5.12 + eastMeters / 68_500.0}},"acc":{{acc}}}""");

    private static (string Alerts, string Errors, ReplaySummary Summary) Replay(IEnumerable<string> lines)
    {
        var output = new StringWriter { NewLine = "\n" };
        var errors = new StringWriter();
        var summary = new ReplayRunner(CaseFile.Parse(Case)).Run(new StringReader(string.Join("\n", lines)), output, errors);
        return (output.ToString(), errors.ToString(), summary);
    }

    private static List<JsonElement> Parse(string ndjson) =>
        ndjson.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    private static IEnumerable<string> WalkThroughTheZone()
    {
        long seq = 0;
        for (int t = 0; t <= 1200; t += 10)
        {
            double x = t <= 600 ? 1500 - 2.5 * t : 2.5 * (t - 600);
            yield return Fix("dev-o1", ++seq, t, x);
        }
    }

    [Fact]
    public void Reports_without_a_fix_are_counted_and_judge_nothing()
    {
        var walk = WalkThroughTheZone().ToList();
        var (expected, _, _) = Replay(walk);
        // Between the fixes, reports of a receiver without satellites: their coordinates are no position.
        var withGaps = walk.SelectMany((line, i) => i % 10 != 5 ? [line] : new[]
        {
            line,
            $$"""{"device":"dev-o1","seq":{{1000 + i}},"ts":"2026-03-10T21:00:{{i % 60:00}}.500Z","lat":0,"lon":0,"acc":0,"src":"none"}""",
        }).ToList();
        var (alerts, errors, summary) = Replay(withGaps);
        Assert.Equal("", errors);
        Assert.Equal(expected, alerts);
        Assert.Equal(walk.Count / 10 + (walk.Count % 10 > 5 ? 1 : 0), summary.WithoutFix);
        Assert.Equal(walk.Count, summary.FixesEvaluated);
    }

    [Fact]
    public void One_line_per_episode_with_the_required_fields()
    {
        var (alerts, errors, summary) = Replay(WalkThroughTheZone());
        Assert.Equal("", errors);
        var lines = Parse(alerts);
        var breach = Assert.Single(lines, a => a.GetProperty("type").GetString() == "ExclusionZoneBreach");
        Assert.Equal("ban-home", breach.GetProperty("banId").GetString());
        Assert.Equal("off-1", breach.GetProperty("offenderId").GetString());
        Assert.Equal("Critical", breach.GetProperty("severity").GetString());
        Assert.False(breach.GetProperty("late").GetBoolean());
        Assert.True(breach.TryGetProperty("clearedAt", out _));
        Assert.True(breach.GetProperty("evidence").GetProperty("fixes").GetArrayLength() >= 1);
        var raisedAt = DateTimeOffset.Parse(breach.GetProperty("raisedAt").GetString()!, CultureInfo.InvariantCulture);
        // The offender crosses the 300 m circle at t = 480 s and leaves it at t = 720 s.
        Assert.InRange((raisedAt - new DateTimeOffset(2026, 3, 10, 21, 0, 0, TimeSpan.Zero)).TotalSeconds, 480, 520);
        Assert.Equal(121, summary.FixesEvaluated);
    }

    [Fact]
    public void Output_is_deterministic()
    {
        Assert.Equal(Replay(WalkThroughTheZone()).Alerts, Replay(WalkThroughTheZone()).Alerts);
    }

    [Fact]
    public void Duplicates_and_reordered_fixes_do_not_change_the_alerts()
    {
        var clean = WalkThroughTheZone().ToList();
        var messy = new List<string>();
        for (int i = 0; i < clean.Count; i++)
        {
            messy.Add(clean[i]);
            if (i % 7 == 0) messy.Add(clean[i]);                 // duplicate
            if (i % 11 == 5 && i > 1) messy.Add(clean[i - 2]);     // an old fix arriving late
        }
        var a = Replay(clean);
        var b = Replay(messy);
        Assert.Equal(a.Alerts, b.Alerts);
        Assert.True(b.Summary.Duplicates > 0);
    }

    [Fact]
    public void Bad_lines_are_reported_with_their_line_number_and_skipped()
    {
        var lines = WalkThroughTheZone().ToList();
        lines.Insert(3, "{not json");
        lines.Insert(5, """{"device":"dev-o1","seq":999,"ts":"2026-03-10T21:00:31Z","lat":95.0,"lon":5.12,"acc":8}""");
        lines.Insert(7, """{"device":"dev-x","seq":1,"ts":"2026-03-10T21:00:31Z","lat":52.0,"lon":5.12,"acc":8}""");
        lines.Insert(9, """{"device":"dev-o1","seq":1000,"ts":"2026-03-10T21:00:31Z","lat":52.0,"lon":5.12}""");
        lines.Insert(11, """{"device":"dev-o1","seq":1001,"ts":"2026-03-10T21:00:31Z","lat":52.0,"lon":5.12,"acc":-1}""");
        var (alerts, errors, summary) = Replay(lines);
        Assert.Contains("line 4: not valid JSON", errors);
        Assert.Contains("line 6: latitude 95", errors);
        Assert.Contains("line 8: unknown device dev-x", errors);
        Assert.Contains("line 10: missing \"acc\"", errors);
        Assert.Contains("line 12: accuracy -1", errors);
        Assert.Equal(5, summary.Rejected);
        Assert.Equal(Replay(WalkThroughTheZone()).Alerts, alerts);
    }

    [Fact]
    public void A_contact_breach_names_the_victim_and_shows_both_fixes()
    {
        var lines = new List<string>();
        long o = 0, v = 0;
        for (int t = 0; t <= 1200; t += 10)
        {
            if (t % 30 == 0) lines.Add(Fix("dev-v1", ++v, t, -2000));
            lines.Add(Fix("dev-o1", ++o, t, 1500 - 3 * t));
        }
        var alerts = Parse(Replay(lines).Alerts);
        var breach = Assert.Single(alerts, a => a.GetProperty("type").GetString() == "ContactBanBreach");
        Assert.Equal("vic-1", breach.GetProperty("victimId").GetString());
        var roles = breach.GetProperty("evidence").GetProperty("fixes").EnumerateArray().Select(f => f.GetProperty("role").GetString()).ToList();
        Assert.Equal(["offender", "victim"], roles);
        Assert.Single(alerts, a => a.GetProperty("type").GetString() == "ProximityWarning" && a.GetProperty("banId").GetString() == "ban-contact");
    }

    [Fact]
    public void Store_and_forward_fixes_raise_a_late_alert_at_the_time_of_the_breach()
    {
        var lines = new List<string>();
        long o = 0, v = 0;
        // The victim reports live; the offender's fixes inside the zone arrive ten minutes later in one burst.
        for (int t = 0; t <= 600; t += 30) lines.Add(Fix("dev-v1", ++v, t, -5000));
        for (int t = 0; t <= 300; t += 10) lines.Add(Fix("dev-o1", ++o, t, Math.Max(0, 400 - 4 * t)));
        var breach = Assert.Single(Parse(Replay(lines).Alerts), a => a.GetProperty("type").GetString() == "ExclusionZoneBreach");
        Assert.True(breach.GetProperty("late").GetBoolean());
        Assert.Equal("2026-03-10T21:00:30.000Z", breach.GetProperty("raisedAt").GetString());
    }

    [Fact]
    public void A_backlog_sent_after_the_first_live_fix_still_raises_the_breach_late()
    {
        var lines = new List<string>();
        long v = 0;
        for (int t = 0; t <= 900; t += 30) lines.Add(Fix("dev-v1", ++v, t, -5000));
        lines.Add(Fix("dev-o1", 1, 0, 1500));
        // Coverage lost from 10 s to 590 s; the device first sends its live fix (outside again), then the backlog.
        lines.Add(Fix("dev-o1", 60, 600, 1500));
        for (int t = 10; t < 600; t += 10) lines.Add(Fix("dev-o1", 1 + t / 10, t, t is > 200 and < 400 ? 0 : 1500 - Math.Min(t, 600 - t) * 5));
        for (int t = 610; t <= 900; t += 10) lines.Add(Fix("dev-o1", 1 + t / 10, t, 1500));
        var alerts = Parse(Replay(lines).Alerts);
        var breach = Assert.Single(alerts, a => a.GetProperty("type").GetString() == "ExclusionZoneBreach");
        Assert.True(breach.GetProperty("late").GetBoolean());
        var raisedAt = DateTimeOffset.Parse(breach.GetProperty("raisedAt").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange((raisedAt - new DateTimeOffset(2026, 3, 10, 21, 0, 0, TimeSpan.Zero)).TotalSeconds, 200, 260);
        Assert.True(breach.TryGetProperty("clearedAt", out _));
    }

    [Fact]
    public void An_upload_of_several_fixes_in_one_line_is_late_for_all_of_them_and_warns_of_nothing()
    {
        // Coverage lost for 500 s on the way into the zone; the backlog comes as one array line (out of order inside:
        // an upload is taken oldest first), then the device reports live from inside.
        var lines = new List<string> { Fix("dev-o1", 1, 0, 1500) };
        var backlog = Enumerable.Range(1, 50).Select(i => Fix("dev-o1", 1 + i, 10 * i, 1500 - 30 * i)).Reverse();
        lines.Add("[" + string.Join(",", backlog) + "]");
        lines.Add(Fix("dev-o1", 52, 520, 0));
        var (alerts, errors, _) = Replay(lines);
        Assert.Equal("", errors);
        var all = Parse(alerts);
        var breach = Assert.Single(all);
        Assert.Equal("ExclusionZoneBreach", breach.GetProperty("type").GetString());
        Assert.True(breach.GetProperty("late").GetBoolean());
        Assert.Equal("2026-03-10T21:06:50.000Z", breach.GetProperty("raisedAt").GetString()); // t = 410 s, 30 m inside
    }

    [Fact]
    public void A_device_clock_running_behind_does_not_make_live_alerts_late()
    {
        // The ankle monitor's clock runs 90 s behind the victim phone's: every live fix looks 90 s old.
        var lines = new List<string>();
        long o = 0, v = 0;
        for (int t = 0; t <= 600; t += 10)
        {
            if (t % 30 == 0) lines.Add(Fix("dev-v1", ++v, t, -5000));
            lines.Add(Fix("dev-o1", ++o, t - 90, Math.Max(0, 1500 - 5 * t)));
        }
        var breach = Assert.Single(Parse(Replay(lines).Alerts), a => a.GetProperty("type").GetString() == "ExclusionZoneBreach");
        Assert.False(breach.GetProperty("late").GetBoolean());
    }

    [Fact]
    public void A_victim_phone_clock_running_ahead_does_not_make_the_offenders_live_fixes_late()
    {
        // Her phone's clock runs 2 min ahead; she is at home 3 km west of the zone. He walks towards her and stays
        // 300 m away: the warning and the breach come as live alerts (the newest time of any device is not "now").
        var lines = new List<string>();
        long o = 0, v = 0;
        for (int t = 0; t <= 1800; t += 10)
        {
            lines.Add(Fix("dev-o1", ++o, t, Math.Min(-7000 + 3 * t, -3300)));
            if (t % 30 == 0) lines.Add(Fix("dev-v1", ++v, t + 120, -3000));
        }
        var (alerts, errors, _) = Replay(lines);
        Assert.Equal("", errors);
        var raised = Parse(alerts);
        Assert.Equal(["ProximityWarning", "ContactBanBreach"], raised.Select(a => a.GetProperty("type").GetString()));
        Assert.All(raised, a => Assert.False(a.GetProperty("late").GetBoolean()));
    }

    [Fact]
    public void A_fix_stamped_ahead_of_its_recorded_receive_time_is_rejected_as_a_live_node_would()
    {
        var lines = WalkThroughTheZone().ToList();
        var expected = Replay(lines).Alerts;
        const string received = ",\"receivedAt\":\"2026-03-10T21:03:20Z\"}";
        // One fix two hours ahead; then an upload of two fixes, one of them ahead: refused whole, as a live node does.
        lines.Insert(20, Fix("dev-o1", 1000, 200 + 7200, 0).Replace("}", received));
        lines.Insert(21, "[" + Fix("dev-o1", 1001, 190, 0).Replace("}", received) + "," + Fix("dev-o1", 1002, 200 + 3600, 0).Replace("}", received) + "]");
        var (alerts, errors, summary) = Replay(lines);
        Assert.Contains("line 21: fix seq 1000 is stamped 2026-03-10T23:03:20", errors);
        Assert.Contains("line 22: fix seq 1002 is stamped 2026-03-10T22:03:20", errors);
        Assert.Contains("ahead of its receive time", errors);
        Assert.Equal((2, 0), (summary.Rejected, summary.Stale));
        Assert.Equal(expected, alerts);
    }

    [Fact]
    public void A_recorded_receive_time_marks_a_buffered_upload_late_even_without_other_devices()
    {
        var lines = new List<string>
        {
            Fix("dev-o1", 1, 0, 2000),
            // Three buffered fixes uploaded together as one array line, received at 21:10.
            "[" + string.Join(",", new[] { Fix("dev-o1", 2, 60, 800), Fix("dev-o1", 3, 120, 0), Fix("dev-o1", 4, 180, 0) }
                .Select(f => f.Replace("}", ",\"receivedAt\":\"2026-03-10T21:10:00Z\"}"))) + "]",
            Fix("dev-o1", 5, 600, 0),
        };
        var (alerts, errors, _) = Replay(lines);
        Assert.Equal("", errors);
        var breach = Assert.Single(Parse(alerts));
        Assert.True(breach.GetProperty("late").GetBoolean());
        Assert.Equal("2026-03-10T21:02:00.000Z", breach.GetProperty("raisedAt").GetString());
    }
}

public class ReplayCommandTests
{
    [Fact]
    public async Task The_proximity_replay_command_writes_alerts_and_reports_bad_lines_on_stderr()
    {
        var dir = Directory.CreateTempSubdirectory("replay-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "case.json"), """
                {"offenders":[{"id":"off-1","devices":["dev-o1"]}],"victims":[],
                 "bans":[{"id":"b1","type":"exclusion","offenderId":"off-1","area":{"type":"Circle","center":[5.12,52.09],"radiusMeters":300},"validFrom":"2026-01-01T00:00:00Z"}]}
                """);
            File.WriteAllText(Path.Combine(dir.FullName, "fixes.ndjson"),
                """
                {"device":"dev-o1","seq":1,"ts":"2026-03-10T21:00:00Z","lat":52.09,"lon":5.12,"acc":8}
                garbage
                """);
            var psi = new ProcessStartInfo("dotnet", ["exec", Path.Combine(AppContext.BaseDirectory, "proximity.dll"), "replay",
                "--case", "case.json", "--fixes", "fixes.ndjson", "--out", "alerts.ndjson"])
            {
                WorkingDirectory = dir.FullName, RedirectStandardError = true, RedirectStandardOutput = true,
            };
            using var process = Process.Start(psi)!;
            string stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("line 2: not valid JSON", stderr);
            var alert = JsonDocument.Parse(File.ReadAllLines(Path.Combine(dir.FullName, "alerts.ndjson")).Single()).RootElement;
            Assert.Equal("ExclusionZoneBreach", alert.GetProperty("type").GetString());
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void Case_file_errors_name_the_ban_and_the_problem()
    {
        var e = Assert.Throws<CaseFileException>(() => CaseFile.Parse("""
            {"offenders":[{"id":"off-1","devices":["d"]}],"bans":[{"id":"b7","type":"exclusion","offenderId":"off-1",
             "area":{"type":"Polygon","coordinates":[[[5.1,52.1],[5.2,52.1],[5.2,52.2]]]}}]}
            """));
        Assert.Contains("ban b7", e.Message);
        Assert.Contains("at least 4", e.Message);
        Assert.Contains("unknown offender off-9", Assert.Throws<CaseFileException>(() => CaseFile.Parse(
            """{"offenders":[],"bans":[{"id":"b1","type":"contact","offenderId":"off-9","victimId":"v","minDistanceMeters":500}]}""")).Message);
        Assert.Contains("schedule", Assert.Throws<CaseFileException>(() => CaseFile.Parse(
            """{"offenders":[{"id":"o","devices":[]}],"bans":[{"id":"b1","type":"inclusion","offenderId":"o","area":{"type":"Circle","center":[5,52],"radiusMeters":100},"schedule":[{"days":["Mon"],"from":"25:00","to":"06:00"}]}]}""")).Message);
    }
}
