using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Proximity.Protocol;
using Proximity.Spatial.Monitoring;

namespace Proximity.Storage.Alerts;

public enum AlertState { Open, Acknowledged, Dispatched, Resolved }

public sealed record AlertWrite(string AlertId, bool Created);

public sealed record StoredAlert(string Id, string IdempotencyKey, AlertState State, Alert Alert, DateTimeOffset RecordedAt, DateTimeOffset? PublishedAt);

public sealed record AlertEvent(long Id, string AlertId, DateTimeOffset At, string Kind, string Actor, string? DetailJson);

public sealed class AlertTransitionException(string message) : Exception(message);

/// <summary>
/// Alerts are stored before they are published. The idempotency key (one per episode) makes a
/// retried or redelivered raise return the alert already stored instead of a second one; rows with
/// no <c>published_at</c> are the outbox a publisher drains.
/// </summary>
public sealed class AlertStore(ProximityDatabase database)
{
    private const string AlertColumns = "id, idempotency_key, state, document::text, recorded_at, published_at";

    /// <summary>
    /// Stores a newly raised alert with its evidence and the fixes it rests on; idempotent per key,
    /// so it runs through the retry pipeline (a retry after a lost commit acknowledgement finds the stored alert).
    /// </summary>
    public async Task<AlertWrite> RecordAsync(Alert alert, string idempotencyKey, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(idempotencyKey)) throw new ArgumentException("an idempotency key is required", nameof(idempotencyKey));
        return await database.RunAsync(ct => new ValueTask<AlertWrite>(RecordOnceAsync(alert, idempotencyKey, ct)), cancellationToken);
    }

    private async Task<AlertWrite> RecordOnceAsync(Alert alert, string idempotencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO alert (id, idempotency_key, type, severity, offender_id, victim_id, ban_id, ban_version, device_id,
                               raised_at, decided_at, late, cleared_at, document, evidence)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb)
            ON CONFLICT (idempotency_key) DO NOTHING
            """, connection, tx))
        {
            var p = insert.Parameters;
            p.Add(new() { Value = alert.Id });
            p.Add(new() { Value = idempotencyKey });
            p.Add(new() { Value = alert.Type.ToString() });
            p.Add(new() { Value = alert.Severity.ToString() });
            p.Add(new() { Value = alert.OffenderId });
            p.Add(Text(alert.VictimId));
            p.Add(Text(alert.BanId));
            p.Add(new() { Value = (object?)alert.BanVersion ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            p.Add(Text(alert.DeviceId));
            p.Add(Time(alert.RaisedAt));
            p.Add(Time(alert.DecidedAt));
            p.Add(new() { Value = alert.Late });
            p.Add(Time(alert.ClearedAt));
            p.Add(new() { Value = AlertJson.Serialize(alert), NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = JsonSerializer.Serialize(alert.Evidence, AlertJson.Options), NpgsqlDbType = NpgsqlDbType.Text });
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                await tx.RollbackAsync(cancellationToken);
                return new AlertWrite(await IdForKeyAsync(idempotencyKey, cancellationToken), Created: false);
            }
        }
        await AddFixesAsync(connection, tx, alert, cancellationToken);
        await AddEventAsync(connection, tx, alert.Id, "raised", "system", null, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return new AlertWrite(alert.Id, Created: true);
    }

    /// <summary>Replaces the alert's document with a later state of the same episode (new evidence, cleared).</summary>
    public async Task UpdateAsync(Alert alert, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = new NpgsqlCommand(
            "UPDATE alert SET document = $2::jsonb, evidence = $3::jsonb, cleared_at = $4 WHERE id = $1", connection, tx))
        {
            update.Parameters.Add(new() { Value = alert.Id });
            update.Parameters.Add(new() { Value = AlertJson.Serialize(alert), NpgsqlDbType = NpgsqlDbType.Text });
            update.Parameters.Add(new() { Value = JsonSerializer.Serialize(alert.Evidence, AlertJson.Options), NpgsqlDbType = NpgsqlDbType.Text });
            update.Parameters.Add(Time(alert.ClearedAt));
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0) throw new KeyNotFoundException($"alert {alert.Id} is not stored");
        }
        await AddFixesAsync(connection, tx, alert, cancellationToken);
        await AddEventAsync(connection, tx, alert.Id, alert.ClearedAt is null ? "updated" : "cleared", "system", null, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Open → Acknowledged → Dispatched → Resolved (Resolved reachable from any earlier state); anything else is refused.</summary>
    public async Task TransitionAsync(string alertId, AlertState to, string actor, string? detailJson = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        AlertState from;
        await using (var read = new NpgsqlCommand("SELECT state FROM alert WHERE id = $1 FOR UPDATE", connection, tx))
        {
            read.Parameters.Add(new() { Value = alertId });
            from = await read.ExecuteScalarAsync(cancellationToken) is string s ? ParseState(s) : throw new KeyNotFoundException($"alert {alertId} is not stored");
        }
        if (!(to > from && (to == AlertState.Resolved || to == from + 1)))
            throw new AlertTransitionException($"alert {alertId}: {from} → {to} is not allowed");
        await using (var update = new NpgsqlCommand("UPDATE alert SET state = $2 WHERE id = $1", connection, tx))
        {
            update.Parameters.Add(new() { Value = alertId });
            update.Parameters.Add(new() { Value = StateName(to) });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }
        await AddEventAsync(connection, tx, alertId, StateName(to), actor, detailJson, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>The outbox: stored alerts not yet published, oldest first.</summary>
    public async Task<IReadOnlyList<StoredAlert>> UnpublishedAsync(int limit, CancellationToken cancellationToken = default) =>
        await database.RunAsync(ct => new ValueTask<IReadOnlyList<StoredAlert>>(
            QueryAsync($"SELECT {AlertColumns} FROM alert WHERE published_at IS NULL ORDER BY recorded_at LIMIT $1", [limit], ct)), cancellationToken);

    /// <summary>Marks an alert published; false when it already was (a second publisher lost the race).</summary>
    public async Task<bool> MarkPublishedAsync(string alertId, CancellationToken cancellationToken = default) =>
        await database.RunAsync(async ct =>
        {
            await using var cmd = database.DataSource.CreateCommand("UPDATE alert SET published_at = now() WHERE id = $1 AND published_at IS NULL");
            cmd.Parameters.Add(new() { Value = alertId });
            return await cmd.ExecuteNonQueryAsync(ct) == 1;
        }, cancellationToken);

    public async Task<StoredAlert?> GetAsync(string alertId, CancellationToken cancellationToken = default) =>
        (await QueryAsync($"SELECT {AlertColumns} FROM alert WHERE id = $1", [alertId], cancellationToken)).SingleOrDefault();

    public Task<IReadOnlyList<StoredAlert>> ForOffenderAsync(string offenderId, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {AlertColumns} FROM alert WHERE offender_id = $1 ORDER BY raised_at, id", [offenderId], cancellationToken);

    public async Task<IReadOnlyList<AlertEvent>> EventsAsync(string alertId, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand("SELECT id, at, kind, actor, detail::text FROM alert_event WHERE alert_id = $1 ORDER BY id");
        cmd.Parameters.Add(new() { Value = alertId });
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<AlertEvent>();
        while (await r.ReadAsync(cancellationToken))
            list.Add(new AlertEvent(r.GetInt64(0), alertId, Utc(r.GetDateTime(1)), r.GetString(2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4)));
        return list;
    }

    private async Task<string> IdForKeyAsync(string key, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand("SELECT id FROM alert WHERE idempotency_key = $1");
        cmd.Parameters.Add(new() { Value = key });
        return (string)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static async Task AddFixesAsync(NpgsqlConnection connection, NpgsqlTransaction tx, Alert alert, CancellationToken ct)
    {
        foreach (var fix in alert.Evidence.Fixes)
        {
            await using var cmd = new NpgsqlCommand(
                "INSERT INTO alert_fix (alert_id, device_id, seq, device_time, role) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", connection, tx);
            cmd.Parameters.Add(new() { Value = alert.Id });
            cmd.Parameters.Add(new() { Value = fix.DeviceId });
            cmd.Parameters.Add(new() { Value = fix.Seq });
            cmd.Parameters.Add(Time(fix.Timestamp));
            cmd.Parameters.Add(new() { Value = fix.Role });
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }

    private static async Task AddEventAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string alertId, string kind, string actor, string? detailJson, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("INSERT INTO alert_event (alert_id, kind, actor, detail) VALUES ($1, $2, $3, $4::jsonb)", connection, tx);
        cmd.Parameters.Add(new() { Value = alertId });
        cmd.Parameters.Add(new() { Value = kind });
        cmd.Parameters.Add(new() { Value = actor });
        cmd.Parameters.Add(Text(detailJson));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<IReadOnlyList<StoredAlert>> QueryAsync(string sql, object[] args, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(sql);
        foreach (object a in args) cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<StoredAlert>();
        while (await r.ReadAsync(ct))
        {
            var alert = AlertJson.Deserialize(r.GetString(3)) ?? throw new InvalidDataException($"alert {r.GetString(0)}: empty document");
            list.Add(new StoredAlert(r.GetString(0), r.GetString(1), ParseState(r.GetString(2)), alert, Utc(r.GetDateTime(4)),
                r.IsDBNull(5) ? null : Utc(r.GetDateTime(5))));
        }
        return list;
    }

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    private static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { Value = (object?)value?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz };

    private static string StateName(AlertState s) => s.ToString().ToLowerInvariant();

    private static AlertState ParseState(string s) => Enum.Parse<AlertState>(s, ignoreCase: true);

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
