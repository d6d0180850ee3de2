using Npgsql;
using Proximity.Storage;
using Proximity.Storage.Audit;
using Proximity.Storage.Migrations;

namespace Proximity.Server.Commands;

/// <summary><c>proximity db migrate</c> and <c>proximity audit verify</c>.</summary>
public static class DatabaseCommands
{
    public const string ConnectionEnvironmentVariable = "PROXIMITY_CONNECTION";

    public const string DbHelp = """
        proximity db migrate --connection "Host=...;Database=...;Username=..."

          Applies the schema migrations that this build carries and the database lacks, in one
          transaction under a lock (safe while other nodes start). Running it again changes nothing.
          --connection defaults to the PROXIMITY_CONNECTION environment variable.
        """;

    public const string AuditHelp = """
        proximity audit verify --connection "Host=...;Database=...;Username=..."

          Walks the audit log's hash chain. Exit code 0: intact; 1: broken (the first bad record is named).
          Prints the head hash: keep it outside the database to detect a later cut-off of the newest records.
          --connection defaults to the PROXIMITY_CONNECTION environment variable.
        """;

    public static async Task<int> DbAsync(string? verb, Options options)
    {
        if (options.Has("help") || verb is null or "help" or "--help") { Console.Out.WriteLine(DbHelp); return verb is null ? 2 : 0; }
        if (verb != "migrate") return CommandLine.Fail($"unknown 'db' command '{verb}'\n\n{DbHelp}");
        await using var database = Open(options);
        try
        {
            var result = await Migrator.MigrateAsync(database.DataSource);
            foreach (var m in result.Applied) Console.Out.WriteLine($"applied {m.Version:D4} {m.Name}");
            Console.Out.WriteLine(result.Applied.Count == 0
                ? $"schema is up to date (version {result.CurrentVersion})"
                : $"schema migrated to version {result.CurrentVersion}");
            return 0;
        }
        catch (Exception e) when (e is MigrationException or NpgsqlException)
        {
            return CommandLine.Fail($"migration failed, nothing changed: {e.Message}");
        }
    }

    public static async Task<int> AuditAsync(string? verb, Options options)
    {
        if (options.Has("help") || verb is null or "help" or "--help") { Console.Out.WriteLine(AuditHelp); return verb is null ? 2 : 0; }
        if (verb != "verify") return CommandLine.Fail($"unknown 'audit' command '{verb}'\n\n{AuditHelp}");
        await using var database = Open(options);
        AuditVerification result;
        try { result = await new AuditLog(database).VerifyAsync(); }
        catch (NpgsqlException e) { return CommandLine.Fail($"cannot read the audit log: {e.Message}"); }
        if (result.Intact)
        {
            Console.Out.WriteLine($"audit log intact: {result.RecordsChecked} records");
            Console.Out.WriteLine($"head {Convert.ToHexStringLower(result.HeadHash)}");
            return 0;
        }
        Console.Error.WriteLine($"audit log BROKEN at record {result.FirstBrokenSeq}: {result.Problem} ({result.RecordsChecked} records before it are intact)");
        return 1;
    }

    private static ProximityDatabase Open(Options options)
    {
        string? cs = options.Get("connection") is { Length: > 0 } c ? c : Environment.GetEnvironmentVariable(ConnectionEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(cs)) throw new UsageException($"missing --connection (or {ConnectionEnvironmentVariable})");
        try { return ProximityDatabase.Open(cs); }
        catch (ArgumentException e) { throw new UsageException($"bad --connection: {e.Message}"); }
    }
}
