using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Proximity.Api.Audit;
using Proximity.Storage;
using StorageAudit = Proximity.Storage.Audit;

namespace Proximity.Api.Storage;

/// <summary>
/// The API's audit trail on PostgreSQL: appends go through the storage's hash-chained <see cref="StorageAudit.AuditLog"/>
/// (roles and detail kept in its JSON detail), queries read the same table.
/// </summary>
public sealed class PostgresAuditLog(StorageAudit.AuditLog log, ProximityDatabase database) : IAuditLog
{
    private sealed record Detail(string Roles, string? Text);

    public async Task<AuditRecord> WriteAsync(string user, string roles, string action, string subject, string? reason, string? detail = null)
    {
        var written = await log.AppendAsync(new StorageAudit.AuditEntry(user, action, subject, reason,
            JsonSerializer.Serialize(new Detail(roles, detail), JsonSerializerOptions.Web)));
        return new AuditRecord(written.Seq, written.At, user, roles, action, subject, reason, detail);
    }

    public async Task<IReadOnlyList<AuditRecord>> QueryAsync(AuditQuery query)
    {
        const string sql = """
            SELECT seq, at, actor, action, subject, reason, detail FROM audit_log
            WHERE ($1::text IS NULL OR actor = $1)
              AND ($2::text IS NULL OR action = $2)
              AND ($3::text IS NULL OR subject = $3)
              AND ($4::text IS NULL OR starts_with(subject, $4))
              AND ($5::timestamptz IS NULL OR at >= $5)
              AND ($6::timestamptz IS NULL OR at < $6)
            ORDER BY seq DESC LIMIT $7
            """;
        bool prefix = query.Subject?.EndsWith('/') == true;
        await using var cmd = database.DataSource.CreateCommand(sql);
        cmd.Parameters.Add(Text(query.User));
        cmd.Parameters.Add(Text(query.Action));
        cmd.Parameters.Add(Text(prefix ? null : query.Subject));
        cmd.Parameters.Add(Text(prefix ? query.Subject : null));
        cmd.Parameters.Add(Time(query.From));
        cmd.Parameters.Add(Time(query.To));
        cmd.Parameters.Add(new NpgsqlParameter { Value = Math.Clamp(query.Limit, 1, 10_000) });
        var list = new List<AuditRecord>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            Detail? d = null;
            if (!reader.IsDBNull(6))
            {
                try { d = JsonSerializer.Deserialize<Detail>(reader.GetString(6), JsonSerializerOptions.Web); }
                catch (JsonException) { d = new Detail("", reader.GetString(6)); } // written by another component
            }
            list.Add(new AuditRecord(reader.GetInt64(0), new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero), reader.GetString(2),
                d?.Roles ?? "", reader.GetString(3), reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5), d?.Text));
        }
        return list;
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { Value = value is { } v ? v.UtcDateTime : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };
}
