using System.Globalization;
using Npgsql;

namespace Proximity.Storage.Positions;

public sealed record RetentionResult(IReadOnlyList<string> DroppedPartitions, long EvidenceFixesKept);

/// <summary>
/// Deletes position history older than the retention period by dropping whole daily partitions.
/// Fixes an alert refers to as evidence are first copied to <c>position_fix_retained</c>, in the
/// same transaction, so evidence never disappears with its partition.
/// </summary>
public sealed class PositionRetention(ProximityDatabase database, PositionStore? positions = null)
{
    /// <summary>Drops every partition whose whole day lies before <paramref name="cutoff"/>.</summary>
    public async Task<RetentionResult> PurgeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var cutoffDay = DateOnly.FromDateTime(cutoff.UtcDateTime);
        var dropped = new List<string>();
        long kept = 0;
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        foreach (var (name, day) in await ListPartitionsAsync(connection, cancellationToken))
        {
            if (day.AddDays(1) > cutoffDay) continue;
            await using var tx = await connection.BeginTransactionAsync(cancellationToken);
            await using (var keep = new NpgsqlCommand($"""
                INSERT INTO position_fix_retained
                SELECT p.* FROM "{name}" p
                WHERE EXISTS (SELECT 1 FROM alert_fix a
                              WHERE a.device_id = p.device_id AND a.seq = p.seq AND a.device_time = p.device_time)
                ON CONFLICT DO NOTHING
                """, connection, tx))
            {
                kept += await keep.ExecuteNonQueryAsync(cancellationToken);
            }
            await using (var drop = new NpgsqlCommand($"DROP TABLE \"{name}\"", connection, tx))
                await drop.ExecuteNonQueryAsync(cancellationToken);
            await tx.CommitAsync(cancellationToken);
            dropped.Add(name);
        }
        if (dropped.Count > 0) positions?.ForgetPartitions();
        return new RetentionResult(dropped, kept);
    }

    private static async Task<List<(string Name, DateOnly Day)>> ListPartitionsAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        const string sql = """
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'position_fix'::regclass
            ORDER BY c.relname
            """;
        await using var cmd = new NpgsqlCommand(sql, connection);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<(string, DateOnly)>();
        while (await reader.ReadAsync(ct))
        {
            string name = reader.GetString(0);
            // Only partitions this code made (position_fix_YYYYMMDD) are ever dropped.
            if (name.Length == 21 && name.StartsWith("position_fix_", StringComparison.Ordinal)
                && DateOnly.TryParseExact(name[13..], "yyyyMMdd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
                list.Add((name, day));
        }
        return list;
    }
}
