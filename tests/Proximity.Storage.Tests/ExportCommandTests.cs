using System.Text.Json;
using NetTopologySuite;
using NetTopologySuite.Geometries;
using Proximity.Server.Commands;
using Proximity.Storage.Alerts;
using Proximity.Storage.Audit;
using Proximity.Storage.Bans;
using Proximity.Storage.Positions;
using Proximity.Storage.Registry;

namespace Proximity.Storage.Tests;

[Collection(ConsoleCollection.Name)]
public sealed class ExportCommandTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    private static readonly GeometryFactory Wgs84 = NtsGeometryServices.Instance.CreateGeometryFactory(4326);
    private readonly string _out = Path.Combine(Path.GetTempPath(), "proximity-export-" + Guid.NewGuid().ToString("N")[..10]);

    public override async ValueTask DisposeAsync()
    {
        try { Directory.Delete(_out, recursive: true); } catch (DirectoryNotFoundException) { }
        await base.DisposeAsync();
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        using var o = new StringWriter();
        using var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (await CommandLine.RunAsync(args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(stdout); Console.SetError(stderr); }
    }

    /// <summary>off-1 (ankle monitor dev-a) must keep away from vic-1 (dev-p) and out of a zone (two versions); off-2 is another case.</summary>
    private async Task SeedAsync()
    {
        var registry = new RegistryStore(Database);
        await registry.UpsertPersonAsync(new Person("off-1", PersonKind.Offender, "J. Doe", "convicted", "13/1"), Ct);
        await registry.UpsertPersonAsync(new Person("vic-1", PersonKind.Victim, "A. Roe", "protected"), Ct);
        await registry.UpsertPersonAsync(new Person("off-2", PersonKind.Offender, "K. Other", "suspect"), Ct);
        foreach (var (device, kind, person) in new[] { ("dev-a", DeviceKind.AnkleMonitor, "off-1"), ("dev-p", DeviceKind.VictimDevice, "vic-1"), ("dev-b", DeviceKind.AnkleMonitor, "off-2") })
        {
            await registry.RegisterDeviceAsync(device, kind, "s3cret-" + device, Ct);
            await registry.AssignDeviceAsync(device, person, Samples.Day0, "probation-7", Ct);
        }
        var bans = new BanStore(Database);
        var zone = new BanVersion
        {
            BanId = "ban-1", OffenderId = "off-1", Kind = BanKind.ExclusionZone, LegalBasis = "art. 38v Sr", IssuingAuthority = "Rechtbank Amsterdam",
            CaseReference = "13/1", ValidFrom = Samples.Day0, MonitoringLevel = "3", RecordedBy = "probation-7",
            Area = Wgs84.CreatePolygon([new(4.88, 52.36), new(4.90, 52.36), new(4.90, 52.38), new(4.88, 52.38), new(4.88, 52.36)]),
        };
        await bans.SaveAsync(zone, null, Ct);
        await bans.SaveAsync(zone with { Version = 2, ValidUntil = Samples.Day0.AddDays(90), ChangeReason = "appeal" }, 1, Ct);
        await bans.SaveAsync(new BanVersion
        {
            BanId = "ban-2", OffenderId = "off-1", Kind = BanKind.Contact, VictimId = "vic-1", MinDistanceMeters = 500, WarningDistanceMeters = 1000,
            LegalBasis = "art. 38v Sr", IssuingAuthority = "Rechtbank Amsterdam", CaseReference = "13/1", ValidFrom = Samples.Day0, MonitoringLevel = "2", RecordedBy = "probation-7",
        }, null, Ct);

        var positions = new PositionStore(Database);
        await positions.EnsurePartitionsAheadAsync(Samples.Day0, 2, Ct);
        var fixes = Enumerable.Range(1, 20).Select(i => Samples.Fix("dev-a", i, Samples.Day0.AddMinutes(i)))
            .Concat(Enumerable.Range(1, 5).Select(i => Samples.Fix("dev-p", i, Samples.Day0.AddMinutes(i), person: "vic-1")))
            .Concat(Enumerable.Range(1, 7).Select(i => Samples.Fix("dev-b", i, Samples.Day0.AddMinutes(i), person: "off-2"))).ToList();
        await positions.AppendBatchAsync(fixes, Ct);
        await positions.AppendBatchAsync([fixes[3]], Ct); // a redelivered fix: exported once

        var alert = Samples.Alert("ban-1:ExclusionZoneBreach:1", fixes[4], fixes[5]);
        await new AlertStore(Database).RecordAsync(alert, alert.Id, Ct);
        var audit = new AuditLog(Database);
        await audit.AppendAsync(new AuditEntry("officer-1", "read", "off-1"), Ct);
        await audit.AppendAsync(new AuditEntry("officer-1", "read", "off-2"), Ct);
        await audit.AppendAsync(new AuditEntry("judge-2", "ban-changed", "ban-1", "appeal"), Ct);
        // As the API names its subjects.
        await audit.AppendAsync(new AuditEntry("officer-3", "read-track", "offender/off-1", "breach review"), Ct);
        await audit.AppendAsync(new AuditEntry("officer-3", "read-position", "victim/vic-1", "breach review"), Ct);
        await audit.AppendAsync(new AuditEntry("officer-3", "read-track", "offender/off-2", "other case"), Ct);
    }

    private string[] Lines(string file) => File.ReadAllLines(Path.Combine(_out, file));

    [Fact]
    public async Task Export_writes_the_whole_case_and_only_it_and_verify_finds_any_change()
    {
        await SeedAsync();

        var export = await RunAsync("export", "--offender", "off-1", "--out", _out, "--reason", "court order 13/1", "--by", "clerk-4", "--connection", ConnectionString);
        Assert.True(export.Code == 0, export.Err);
        Assert.Equal(["off-1", "vic-1"], Lines("people.ndjson").Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()));
        Assert.Equal(["dev-a", "dev-p"], Lines("devices.ndjson").Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()));
        Assert.DoesNotContain("secret", File.ReadAllText(Path.Combine(_out, "devices.ndjson")), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(3, Lines("bans.ndjson").Length); // ban-1 v1, v2; ban-2 v1
        using (var zones = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "zones.geojson"))))
            Assert.Equal(2, zones.RootElement.GetProperty("features").GetArrayLength());
        var positions = Lines("positions.ndjson").Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(25, positions.Count);
        Assert.All(positions, p => Assert.Equal("Feature", p.GetProperty("type").GetString()));
        Assert.DoesNotContain(positions, p => p.GetProperty("properties").GetProperty("device_id").GetString() == "dev-b");
        var alert = JsonDocument.Parse(Assert.Single(Lines("alerts.ndjson"))).RootElement;
        Assert.Equal(2, alert.GetProperty("evidence_fixes").GetArrayLength());
        Assert.Equal("raised", alert.GetProperty("events")[0].GetProperty("kind").GetString());
        // The records about the case, the export's own (written before it ran) last.
        var audit = Lines("audit.ndjson").Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["off-1", "ban-1", "offender/off-1", "victim/vic-1", "offender/off-1"], audit.Select(a => a.GetProperty("subject").GetString()));
        Assert.Equal(("clerk-4", "export", "court order 13/1"),
            (audit[^1].GetProperty("actor").GetString(), audit[^1].GetProperty("action").GetString(), audit[^1].GetProperty("reason").GetString()));
        Assert.True((await new AuditLog(Database).VerifyAsync(Ct)).Intact);

        var intact = await RunAsync("verify", _out);
        Assert.True(intact.Code == 0, intact.Err);

        // One changed byte in the position history.
        string path = Path.Combine(_out, "positions.ndjson");
        var bytes = File.ReadAllBytes(path);
        int digit = Array.FindIndex(bytes, b => b is (byte)'7');
        bytes[digit] = (byte)'8';
        File.WriteAllBytes(path, bytes);
        var changed = await RunAsync("verify", _out);
        Assert.Equal(1, changed.Code);
        Assert.Contains("positions.ndjson: SHA-256", changed.Err, StringComparison.Ordinal);

        File.Delete(Path.Combine(_out, "audit.ndjson"));
        var missing = await RunAsync("verify", _out);
        Assert.Equal(1, missing.Code);
        Assert.Contains("audit.ndjson: missing", missing.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_of_an_unknown_offender_or_into_a_used_directory_is_a_clear_error_and_writes_nothing()
    {
        await SeedAsync();
        long audited = await AuditCountAsync();
        var unknown = await RunAsync("export", "--offender", "nobody", "--out", _out, "--reason", "r", "--connection", ConnectionString);
        Assert.Equal(2, unknown.Code);
        Assert.Contains("no offender 'nobody'", unknown.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_out));

        Directory.CreateDirectory(_out);
        File.WriteAllText(Path.Combine(_out, "other.txt"), "x");
        var used = await RunAsync("export", "--offender", "off-1", "--out", _out, "--reason", "r", "--connection", ConnectionString);
        Assert.Equal(2, used.Code);
        Assert.Contains("not empty", used.Err, StringComparison.Ordinal);
        Assert.Equal(["other.txt"], Directory.EnumerateFiles(_out).Select(Path.GetFileName));
        Assert.Equal(audited, await AuditCountAsync()); // nothing exported, nothing read: nothing to audit

        var noReason = await RunAsync("export", "--offender", "off-1", "--out", _out + "-2", "--connection", ConnectionString);
        Assert.Equal(2, noReason.Code);
        Assert.Contains("--reason", noReason.Err, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_out + "-2"));
    }

    private async Task<long> AuditCountAsync() => (await new AuditLog(Database).VerifyAsync(Ct)).RecordsChecked;
}
