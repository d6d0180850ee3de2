using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Proximity.Storage.Migrations;

/// <summary>One embedded SQL file: <c>NNNN_name.sql</c>, applied once, in order.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum { get; } = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

public sealed record MigrationResult(IReadOnlyList<Migration> Applied, int CurrentVersion);

public sealed class MigrationException(string message) : Exception(message);

/// <summary>
/// Applies the embedded migrations. All of them run in one transaction under an advisory lock,
/// so nodes starting together wait for each other and a failure leaves the schema unchanged.
/// An applied migration whose text changed since is refused rather than silently skipped.
/// </summary>
public static class Migrator
{
    private const long LockKey = 0x5052_4F58_4D49_4752; // "PROXMIGR"
    private const string ResourcePrefix = "Proximity.Storage.Migrations.";

    public static IReadOnlyList<Migration> Embedded { get; } = Load();

    public static async Task<MigrationResult> MigrateAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await Exec(connection, tx, $"SELECT pg_advisory_xact_lock({LockKey})", cancellationToken);
        await Exec(connection, tx, """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now())
            """, cancellationToken);

        var applied = new Dictionary<int, string>();
        await using (var read = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", connection, tx))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken)) applied[reader.GetInt32(0)] = reader.GetString(1);
        }

        var newlyApplied = new List<Migration>();
        foreach (var m in Embedded)
        {
            if (applied.TryGetValue(m.Version, out string? checksum))
            {
                if (checksum != m.Checksum)
                    throw new MigrationException($"migration {m.Version} ({m.Name}) was changed after it was applied; add a new migration instead");
                continue;
            }
            await Exec(connection, tx, m.Sql, cancellationToken);
            await using var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", connection, tx);
            record.Parameters.Add(new() { Value = m.Version });
            record.Parameters.Add(new() { Value = m.Name });
            record.Parameters.Add(new() { Value = m.Checksum });
            await record.ExecuteNonQueryAsync(cancellationToken);
            newlyApplied.Add(m);
        }
        int unknown = applied.Keys.Where(v => v > Embedded[^1].Version).DefaultIfEmpty().Max();
        if (unknown > 0)
            throw new MigrationException($"the database has migration {unknown}, newer than this build knows ({Embedded[^1].Version}); upgrade the binary");
        await tx.CommitAsync(cancellationToken);
        // PostGIS may be new: the data source's type cache must learn geometry/geography.
        if (newlyApplied.Count > 0) await connection.ReloadTypesAsync(cancellationToken);
        return new MigrationResult(newlyApplied, Embedded[^1].Version);
    }

    private static async Task Exec(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static List<Migration> Load()
    {
        var assembly = typeof(Migrator).Assembly;
        var list = new List<Migration>();
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal)) continue;
            string name = resource[ResourcePrefix.Length..^4];
            int underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name[..underscore], out int version))
                throw new MigrationException($"embedded migration '{name}' is not named NNNN_name.sql");
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            list.Add(new Migration(version, name[(underscore + 1)..], reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 1; i < list.Count; i++)
            if (list[i].Version == list[i - 1].Version) throw new MigrationException($"two migrations numbered {list[i].Version}");
        return list.Count > 0 ? list : throw new MigrationException("no embedded migrations");
    }
}
