using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using NpgsqlTypes;
using Proximity.Spatial.Decisions;

namespace Proximity.Storage.Positions;

/// <summary>
/// Position history. Appends go through binary COPY (one round trip per batch) into daily range
/// partitions of <c>position_fix</c>, created on demand and ahead of time.
/// </summary>
public sealed class PositionStore(ProximityDatabase database)
{
    private const string CopyCommand =
        "COPY position_fix (device_id, seq, device_time, received_at, person_id, lat, lon, accuracy_m, speed_mps, heading_deg, battery_pct, source) FROM STDIN (FORMAT BINARY)";

    private readonly ConcurrentDictionary<DateOnly, bool> _partitions = new();

    /// <summary>Writes <paramref name="batch"/> in one transaction: all of it or none of it.</summary>
    public async Task AppendBatchAsync(IReadOnlyList<StoredFix> batch, CancellationToken cancellationToken = default)
    {
        if (batch.Count == 0) return;
        foreach (var f in batch)
        {
            if (f.Fix.Problem() is { } problem) throw new ArgumentException($"fix {f.Fix.DeviceId}#{f.Fix.Seq} is invalid: {problem}", nameof(batch));
        }
        foreach (var day in batch.Select(f => DateOnly.FromDateTime(f.ReceivedAt.UtcDateTime)).Distinct())
            await EnsurePartitionAsync(day, cancellationToken);

        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var writer = await connection.BeginBinaryImportAsync(CopyCommand, cancellationToken))
        {
            foreach (var s in batch)
            {
                var f = s.Fix;
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync(f.DeviceId, NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(f.Seq, NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(f.Timestamp.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await writer.WriteAsync(s.ReceivedAt.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
                await WriteNullable(writer, s.PersonId, NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(f.Latitude, NpgsqlDbType.Double, cancellationToken);
                await writer.WriteAsync(f.Longitude, NpgsqlDbType.Double, cancellationToken);
                await writer.WriteAsync((float)f.AccuracyMeters, NpgsqlDbType.Real, cancellationToken);
                await WriteNullable(writer, (float?)f.SpeedMetersPerSecond, NpgsqlDbType.Real, cancellationToken);
                await WriteNullable(writer, (float?)f.HeadingDegrees, NpgsqlDbType.Real, cancellationToken);
                await WriteNullable(writer, (short?)f.BatteryPercent, NpgsqlDbType.Smallint, cancellationToken);
                await writer.WriteAsync(SourceName(f.Source), NpgsqlDbType.Text, cancellationToken);
            }
            await writer.CompleteAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Creates the partitions for today (UTC) and the next <paramref name="days"/> days.</summary>
    public async Task EnsurePartitionsAheadAsync(DateTimeOffset now, int days, CancellationToken cancellationToken = default)
    {
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        for (int i = 0; i <= days; i++) await EnsurePartitionAsync(today.AddDays(i), cancellationToken);
    }

    /// <summary>The history of one device between two device times, oldest first, without redelivered copies.</summary>
    public async Task<IReadOnlyList<StoredFix>> ReadDeviceAsync(string deviceId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default)
    {
        const string sql = """
            SELECT DISTINCT ON (device_time, seq) device_id, seq, device_time, received_at, person_id, lat, lon,
                   accuracy_m, speed_mps, heading_deg, battery_pct, source
            FROM position_history
            WHERE device_id = $1 AND device_time >= $2 AND device_time < $3
            ORDER BY device_time, seq, received_at
            """;
        await using var cmd = database.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new() { Value = deviceId });
        cmd.Parameters.Add(new() { Value = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredFix>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var fix = new PositionFix(
                reader.GetString(0), reader.GetInt64(1), new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero),
                reader.GetDouble(5), reader.GetDouble(6), reader.GetFloat(7),
                reader.IsDBNull(8) ? null : reader.GetFloat(8),
                reader.IsDBNull(9) ? null : reader.GetFloat(9),
                reader.IsDBNull(10) ? null : reader.GetInt16(10),
                ParseSource(reader.GetString(11)));
            list.Add(new StoredFix(fix, new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return list;
    }

    internal async Task EnsurePartitionAsync(DateOnly day, CancellationToken cancellationToken)
    {
        if (_partitions.ContainsKey(day)) return;
        await using var cmd = database.DataSource.CreateCommand("SELECT ensure_position_partition($1)");
        cmd.Parameters.Add(new() { Value = day, NpgsqlDbType = NpgsqlDbType.Date });
        await cmd.ExecuteScalarAsync(cancellationToken);
        _partitions[day] = true;
    }

    /// <summary>Forgets which partitions exist (after the retention job dropped some).</summary>
    internal void ForgetPartitions() => _partitions.Clear();

    internal static string PartitionName(DateOnly day) => "position_fix_" + day.ToString("yyyyMMdd", CultureInfo.InvariantCulture);

    private static string SourceName(FixSource source) => source switch
    {
        FixSource.Gps => "gps",
        FixSource.Wifi => "wifi",
        FixSource.Cell => "cell",
        _ => "none",
    };

    private static FixSource ParseSource(string source) => source switch
    {
        "gps" => FixSource.Gps,
        "wifi" => FixSource.Wifi,
        "cell" => FixSource.Cell,
        _ => FixSource.None,
    };

    private static Task WriteNullable<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken ct) where T : struct =>
        value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);

    private static Task WriteNullable(NpgsqlBinaryImporter writer, string? value, NpgsqlDbType type, CancellationToken ct) =>
        value is not null ? writer.WriteAsync(value, type, ct) : writer.WriteNullAsync(ct);
}
