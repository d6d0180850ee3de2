using Npgsql;
using Proximity.Api.Storage;
using Proximity.Storage;
using Proximity.Storage.Audit;
using Proximity.Storage.Export;

namespace Proximity.Server.Commands;

/// <summary><c>proximity export</c> and <c>proximity verify</c>.</summary>
public static class ExportCommands
{
    public const string ExportHelp = """
        proximity export --offender ID --out DIR --reason TEXT [--by NAME] [--connection "Host=...;Database=..."]

          Writes everything about one offender's case into the new directory DIR, as open formats:
          people.ndjson, devices.ndjson (with assignment history; never secrets), bans.ndjson (every version),
          zones.geojson, positions.ndjson (one GeoJSON Feature per line, evidence kept past retention included),
          alerts.ndjson (with evidence fixes and lifecycle events), audit.ndjson (records about the case, with
          their chain hashes) and manifest.json with the SHA-256 of every file. One database snapshot.
          The export is a read of location data: it is written to the audit log first (action export, subject
          offender/ID, the reason, and who: --by, default cli:<user name>), so the export holds its own record.
          --connection defaults to the PROXIMITY_CONNECTION environment variable.
        """;

    public const string VerifyHelp = """
        proximity verify DIR

          Checks an export against its manifest.json (every file's size and SHA-256, nothing missing or added).
          Exit code 0: intact; 1: a mismatch (each is named).
        """;

    public static async Task<int> ExportAsync(Options options)
    {
        if (options.Has("help")) { Console.Out.WriteLine(ExportHelp); return 0; }
        string offender = options.Required("offender");
        string dir = options.Required("out");
        string reason = options.Required("reason");
        string by = options.Get("by") ?? $"cli:{Environment.UserName}";
        string cs = options.Get("connection") ?? Environment.GetEnvironmentVariable(DatabaseCommands.ConnectionEnvironmentVariable)
            ?? throw new UsageException($"missing --connection (or {DatabaseCommands.ConnectionEnvironmentVariable})");
        await using var database = ProximityDatabase.Open(cs);
        try
        {
            var exporter = new CaseExporter(database);
            await exporter.CheckCanExportAsync(offender, dir);
            await new PostgresAuditLog(new AuditLog(database), database)
                .WriteAsync(by, "cli", "export", $"offender/{offender}", reason, $"to {Path.GetFullPath(dir)}");
            var manifest = await exporter.ExportAsync(offender, dir);
            foreach (var f in manifest.Files) Console.Out.WriteLine($"{f.Sha256}  {f.Name}  ({f.Records} records)");
            Console.Out.WriteLine($"case of offender {offender} exported to {dir}");
            return 0;
        }
        catch (Exception e) when (e is KeyNotFoundException or IOException or NpgsqlException or UnauthorizedAccessException)
        {
            return CommandLine.Fail($"export failed: {e.Message}");
        }
    }

    public static async Task<int> VerifyAsync(string? dir, Options options)
    {
        if (options.Has("help") || dir is "help") { Console.Out.WriteLine(VerifyHelp); return 0; }
        if (dir is null) { Console.Error.WriteLine(VerifyHelp); return 2; }
        if (!Directory.Exists(dir)) return CommandLine.Fail($"{dir} is not a directory");
        var problems = await CaseExporter.VerifyAsync(dir);
        foreach (string p in problems) Console.Error.WriteLine($"MISMATCH {p}");
        if (problems.Count > 0) { Console.Error.WriteLine($"proximity: export {dir} does not match its manifest ({problems.Count} problems)"); return 1; }
        Console.Out.WriteLine($"export {dir} intact");
        return 0;
    }
}
