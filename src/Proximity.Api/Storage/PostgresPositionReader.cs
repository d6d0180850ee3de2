using Npgsql;
using NpgsqlTypes;
using Proximity.Api.Positions;
using Proximity.Spatial.Decisions;
using Proximity.Storage;

namespace Proximity.Api.Storage;

/// <summary>Reads a person's positions from the PostgreSQL position history (live partitions and retained evidence).</summary>
public sealed class PostgresPositionReader(ProximityDatabase database) : IPositionReader
{
    private const string Columns = "device_id, seq, device_time, received_at, lat, lon, accuracy_m, speed_mps, source";

    public async Task<PositionRecord?> LastAsync(string personId)
    {
        var list = await ReadAsync(personId, DateTimeOffset.MinValue, DateTimeOffset.MaxValue, 1);
        return list.Count == 0 ? null : list[0];
    }

    public async Task<IReadOnlyList<PositionRecord>> TrackAsync(string personId, DateTimeOffset from, DateTimeOffset to, int limit)
    {
        var list = await ReadAsync(personId, from, to, Math.Clamp(limit, 1, 100_000));
        list.Reverse();
        return list;
    }

    /// <summary>Newest first; a fix redelivered (same device and seq) counts once.</summary>
    private async Task<List<PositionRecord>> ReadAsync(string personId, DateTimeOffset from, DateTimeOffset to, int limit)
    {
        string sql = $"""
            SELECT {Columns} FROM (
                SELECT DISTINCT ON (device_id, seq, device_time) {Columns} FROM position_history
                WHERE person_id = $1 AND device_time >= $2 AND device_time < $3
                ORDER BY device_id, seq, device_time, received_at) f
            ORDER BY device_time DESC, seq DESC LIMIT $4
            """;
        await using var cmd = database.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = personId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Clamp(from), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = Clamp(to), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = limit });
        var list = new List<PositionRecord>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            list.Add(new PositionRecord(personId, reader.GetString(0), reader.GetInt64(1),
                new DateTimeOffset(reader.GetDateTime(2), TimeSpan.Zero), reader.GetDouble(4), reader.GetDouble(5), reader.GetFloat(6),
                reader.IsDBNull(7) ? null : reader.GetFloat(7), Source(reader.GetString(8)), new DateTimeOffset(reader.GetDateTime(3), TimeSpan.Zero)));
        return list;
    }

    // PostgreSQL's timestamptz range is narrower than .NET's.
    private static DateTime Clamp(DateTimeOffset t) =>
        t <= new DateTimeOffset(1900, 1, 1, 0, 0, 0, TimeSpan.Zero) ? new DateTime(1900, 1, 1, 0, 0, 0, DateTimeKind.Utc)
        : t >= new DateTimeOffset(9999, 1, 1, 0, 0, 0, TimeSpan.Zero) ? new DateTime(9999, 1, 1, 0, 0, 0, DateTimeKind.Utc)
        : t.UtcDateTime;

    private static FixSource Source(string s) => s switch { "wifi" => FixSource.Wifi, "cell" => FixSource.Cell, "none" => FixSource.None, _ => FixSource.Gps };
}
