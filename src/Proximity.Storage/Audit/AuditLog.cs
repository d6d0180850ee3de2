using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Proximity.Storage.Audit;

/// <summary>One audit record: who did what to which subject, when and why.</summary>
public sealed record AuditEntry(string Actor, string Action, string Subject, string? Reason = null, string? DetailJson = null);

public sealed record AuditRecord(long Seq, DateTimeOffset At, AuditEntry Entry, byte[] PrevHash, byte[] Hash);

/// <summary>Outcome of checking the chain: <see cref="FirstBrokenSeq"/> is null when it is intact.</summary>
public sealed record AuditVerification(long RecordsChecked, long? FirstBrokenSeq, string? Problem)
{
    /// <summary>Hash of the last intact record (all zeros for an empty log): keep it elsewhere to detect a cut-off tail later.</summary>
    public byte[] HeadHash { get; init; } = new byte[32];

    public bool Intact => FirstBrokenSeq is null;
}

/// <summary>
/// The append-only audit log. Appends are serialised across nodes by an advisory lock; each row's
/// hash is SHA-256(previous hash ‖ seq ‖ time ‖ fields), so changing, inserting or removing a row
/// anywhere but at the very end breaks every hash after it.
/// </summary>
public sealed class AuditLog(ProximityDatabase database, TimeProvider? time = null)
{
    private const long LockKey = 0x5052_4F58_4155_4449; // "PROXAUDI"
    private static readonly byte[] Genesis = new byte[32];
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task<AuditRecord> AppendAsync(AuditEntry entry, CancellationToken cancellationToken = default)
    {
        Validate(entry);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockCmd = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({LockKey})", connection, tx))
            await lockCmd.ExecuteNonQueryAsync(cancellationToken);

        long seq = 1;
        byte[] prev = Genesis;
        await using (var last = new NpgsqlCommand("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1", connection, tx))
        await using (var reader = await last.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken))
            {
                seq = reader.GetInt64(0) + 1;
                prev = (byte[])reader.GetValue(1);
            }
        }
        // PostgreSQL keeps microseconds: hash what will be read back.
        var at = TruncateToMicroseconds(_time.GetUtcNow());
        byte[] hash = ComputeHash(prev, seq, at, entry);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO audit_log (seq, at, actor, action, subject, reason, detail, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
            connection, tx))
        {
            insert.Parameters.Add(new() { Value = seq });
            insert.Parameters.Add(new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            insert.Parameters.Add(new() { Value = entry.Actor });
            insert.Parameters.Add(new() { Value = entry.Action });
            insert.Parameters.Add(new() { Value = entry.Subject });
            insert.Parameters.Add(new() { Value = (object?)entry.Reason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = (object?)entry.DetailJson ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            insert.Parameters.Add(new() { Value = prev });
            insert.Parameters.Add(new() { Value = hash });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return new AuditRecord(seq, at, entry, prev, hash);
    }

    /// <summary>Reads the records about one subject, oldest first.</summary>
    public async Task<IReadOnlyList<AuditRecord>> ReadSubjectAsync(string subject, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand(
            "SELECT seq, at, actor, action, subject, reason, detail, prev_hash, hash FROM audit_log WHERE subject = $1 ORDER BY seq");
        cmd.Parameters.Add(new() { Value = subject });
        var list = new List<AuditRecord>();
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) list.Add(Read(reader));
        return list;
    }

    /// <summary>Walks the whole chain in order and reports the first record that does not fit.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var cmd = new NpgsqlCommand(
            "SELECT seq, at, actor, action, subject, reason, detail, prev_hash, hash FROM audit_log ORDER BY seq", connection);
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        long expectedSeq = 1;
        byte[] prev = Genesis;
        long checkedCount = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var r = Read(reader);
            if (r.Seq != expectedSeq)
                return new(checkedCount, expectedSeq, $"record {expectedSeq} is missing (next is {r.Seq})") { HeadHash = prev };
            if (!CryptographicOperations.FixedTimeEquals(r.PrevHash, prev))
                return new(checkedCount, r.Seq, $"record {r.Seq} does not follow record {r.Seq - 1} (previous hash differs)") { HeadHash = prev };
            if (!CryptographicOperations.FixedTimeEquals(r.Hash, ComputeHash(prev, r.Seq, r.At, r.Entry)))
                return new(checkedCount, r.Seq, $"record {r.Seq} was altered (its content does not match its hash)") { HeadHash = prev };
            prev = r.Hash;
            expectedSeq++;
            checkedCount++;
        }
        return new(checkedCount, null, null) { HeadHash = prev };
    }

    /// <summary>SHA-256 over the previous hash and this record's fields, each length-prefixed so no two records encode alike.</summary>
    public static byte[] ComputeHash(byte[] prevHash, long seq, DateTimeOffset at, AuditEntry entry)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        h.AppendData(prevHash);
        BinaryPrimitives.WriteInt64BigEndian(number, seq);
        h.AppendData(number);
        BinaryPrimitives.WriteInt64BigEndian(number, (at.UtcTicks - DateTime.UnixEpoch.Ticks) / 10);
        h.AppendData(number);
        foreach (string? field in new[] { entry.Actor, entry.Action, entry.Subject, entry.Reason, entry.DetailJson })
        {
            byte[]? bytes = field is null ? null : Encoding.UTF8.GetBytes(field);
            BinaryPrimitives.WriteInt32BigEndian(number[..4], bytes?.Length ?? -1);
            h.AppendData(number[..4]);
            if (bytes is not null) h.AppendData(bytes);
        }
        return h.GetHashAndReset();
    }

    private static AuditRecord Read(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        new DateTimeOffset(reader.GetDateTime(1), TimeSpan.Zero),
        new AuditEntry(reader.GetString(2), reader.GetString(3), reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6)),
        (byte[])reader.GetValue(7),
        (byte[])reader.GetValue(8));

    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, TimeSpan.Zero);

    private static void Validate(AuditEntry entry)
    {
        if (string.IsNullOrWhiteSpace(entry.Actor) || string.IsNullOrWhiteSpace(entry.Action) || string.IsNullOrWhiteSpace(entry.Subject))
            throw new ArgumentException("an audit entry needs an actor, an action and a subject", nameof(entry));
        if (entry.DetailJson is not null)
        {
            try { using var _ = JsonDocument.Parse(entry.DetailJson); }
            catch (JsonException e) { throw new ArgumentException($"audit detail is not JSON: {e.Message}", nameof(entry)); }
        }
    }
}
