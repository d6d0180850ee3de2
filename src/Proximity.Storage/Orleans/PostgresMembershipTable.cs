using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace Proximity.Storage.Orleans;

/// <summary>
/// Orleans cluster membership in the project's own tables (<c>orleans_membership</c>,
/// <c>orleans_membership_version</c>). Every change of a row also moves the table version, both
/// guarded by etags inside one transaction, as the membership protocol requires.
/// </summary>
public sealed class PostgresMembershipTable : IMembershipTable
{
    private readonly ProximityDatabase _database;
    private readonly string _clusterId;

    public PostgresMembershipTable(ProximityDatabase database, IOptions<ClusterOptions> cluster)
        : this(database, cluster.Value.ClusterId)
    {
    }

    public PostgresMembershipTable(ProximityDatabase database, string clusterId)
    {
        if (string.IsNullOrWhiteSpace(clusterId)) throw new ArgumentException("a cluster id is required", nameof(clusterId));
        _database = database;
        _clusterId = clusterId;
    }

    public async Task InitializeMembershipTable(bool tryInitTableVersion)
    {
        if (!tryInitTableVersion) return;
        await _database.RunAsync(async ct =>
        {
            await using var cmd = _database.DataSource.CreateCommand(
                "INSERT INTO orleans_membership_version (cluster_id, version, etag) VALUES ($1, 0, '0') ON CONFLICT DO NOTHING");
            cmd.Parameters.Add(new() { Value = _clusterId });
            await cmd.ExecuteNonQueryAsync(ct);
        });
    }

    public async Task DeleteMembershipTableEntries(string clusterId)
    {
        await _database.RunAsync(async ct =>
        {
            // Rows go with the version row (ON DELETE CASCADE).
            await using var cmd = _database.DataSource.CreateCommand("DELETE FROM orleans_membership_version WHERE cluster_id = $1");
            cmd.Parameters.Add(new() { Value = clusterId });
            await cmd.ExecuteNonQueryAsync(ct);
        });
    }

    public async Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate)
    {
        await _database.RunAsync(async ct =>
        {
            await using var cmd = _database.DataSource.CreateCommand(
                "DELETE FROM orleans_membership WHERE cluster_id = $1 AND iamalive_time < $2 AND status <> $3");
            cmd.Parameters.Add(new() { Value = _clusterId });
            cmd.Parameters.Add(new() { Value = beforeDate.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            cmd.Parameters.Add(new() { Value = (int)SiloStatus.Active });
            await cmd.ExecuteNonQueryAsync(ct);
        });
    }

    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadAsync(key);

    public Task<MembershipTableData> ReadAll() => ReadAsync(null);

    public async Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) =>
        await _database.RunAsync(async ct =>
        {
            await using var connection = await _database.DataSource.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            if (!await MoveVersionAsync(connection, tx, tableVersion, ct)) return false;
            await using var insert = new NpgsqlCommand("""
                INSERT INTO orleans_membership (cluster_id, silo_address, host_name, silo_name, status, proxy_port, suspect_times,
                    start_time, iamalive_time, role_name, update_zone, fault_zone, etag)
                VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, 1)
                ON CONFLICT DO NOTHING
                """, connection, tx);
            AddEntryParameters(insert, entry);
            if (await insert.ExecuteNonQueryAsync(ct) == 0) return false; // the silo is already there: roll back
            await tx.CommitAsync(ct);
            return true;
        });

    public async Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) =>
        await _database.RunAsync(async ct =>
        {
            if (!long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out long rowEtag)) return false;
            await using var connection = await _database.DataSource.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            if (!await MoveVersionAsync(connection, tx, tableVersion, ct)) return false;
            await using var update = new NpgsqlCommand("""
                UPDATE orleans_membership SET host_name = $3, silo_name = $4, status = $5, proxy_port = $6, suspect_times = $7::jsonb,
                    start_time = $8, iamalive_time = $9, role_name = $10, update_zone = $11, fault_zone = $12, etag = etag + 1
                WHERE cluster_id = $1 AND silo_address = $2 AND etag = $13
                """, connection, tx);
            AddEntryParameters(update, entry);
            update.Parameters.Add(new() { Value = rowEtag });
            if (await update.ExecuteNonQueryAsync(ct) == 0) return false;
            await tx.CommitAsync(ct);
            return true;
        });

    public async Task UpdateIAmAlive(MembershipEntry entry)
    {
        await _database.RunAsync(async ct =>
        {
            // A dirty write by design: neither the row etag nor the table version moves.
            await using var cmd = _database.DataSource.CreateCommand(
                "UPDATE orleans_membership SET iamalive_time = $3 WHERE cluster_id = $1 AND silo_address = $2");
            cmd.Parameters.Add(new() { Value = _clusterId });
            cmd.Parameters.Add(new() { Value = entry.SiloAddress.ToParsableString() });
            cmd.Parameters.Add(new() { Value = Utc(entry.IAmAliveTime), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await cmd.ExecuteNonQueryAsync(ct);
        });
    }

    /// <summary>Sets the table version to <paramref name="next"/> if the stored etag is still the one it was read with.</summary>
    private async Task<bool> MoveVersionAsync(NpgsqlConnection connection, NpgsqlTransaction tx, TableVersion next, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "UPDATE orleans_membership_version SET version = $2, etag = $3, updated_at = now() WHERE cluster_id = $1 AND etag = $4",
            connection, tx);
        cmd.Parameters.Add(new() { Value = _clusterId });
        cmd.Parameters.Add(new() { Value = next.Version });
        cmd.Parameters.Add(new() { Value = next.Version.ToString(CultureInfo.InvariantCulture) });
        cmd.Parameters.Add(new() { Value = next.VersionEtag ?? "" });
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private async Task<MembershipTableData> ReadAsync(SiloAddress? key) =>
        await _database.RunAsync(async ct =>
        {
            await using var connection = await _database.DataSource.OpenConnectionAsync(ct);
            // One snapshot for the version and the rows: they must be read atomically.
            await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
            TableVersion version;
            await using (var v = new NpgsqlCommand("SELECT version, etag FROM orleans_membership_version WHERE cluster_id = $1", connection, tx))
            {
                v.Parameters.Add(new() { Value = _clusterId });
                await using var r = await v.ExecuteReaderAsync(ct);
                version = await r.ReadAsync(ct) ? new TableVersion(r.GetInt32(0), r.GetString(1)) : new TableVersion(0, "0");
            }
            string sql = """
                SELECT silo_address, host_name, silo_name, status, proxy_port, suspect_times::text, start_time, iamalive_time,
                       role_name, update_zone, fault_zone, etag
                FROM orleans_membership WHERE cluster_id = $1
                """ + (key is null ? "" : " AND silo_address = $2");
            var rows = new List<Tuple<MembershipEntry, string>>();
            await using (var cmd = new NpgsqlCommand(sql, connection, tx))
            {
                cmd.Parameters.Add(new() { Value = _clusterId });
                if (key is not null) cmd.Parameters.Add(new() { Value = key.ToParsableString() });
                await using var r = await cmd.ExecuteReaderAsync(ct);
                while (await r.ReadAsync(ct)) rows.Add(Tuple.Create(ReadEntry(r), r.GetInt64(11).ToString(CultureInfo.InvariantCulture)));
            }
            await tx.CommitAsync(ct);
            return new MembershipTableData(rows, version);
        });

    private void AddEntryParameters(NpgsqlCommand cmd, MembershipEntry e)
    {
        var p = cmd.Parameters;
        p.Add(new() { Value = _clusterId });
        p.Add(new() { Value = e.SiloAddress.ToParsableString() });
        p.Add(new() { Value = e.HostName ?? "" });
        p.Add(new() { Value = e.SiloName ?? "" });
        p.Add(new() { Value = (int)e.Status });
        p.Add(new() { Value = e.ProxyPort });
        p.Add(new() { Value = (object?)SerializeSuspects(e.SuspectTimes) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        p.Add(new() { Value = Utc(e.StartTime), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = Utc(e.IAmAliveTime), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        p.Add(new() { Value = (object?)e.RoleName ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        p.Add(new() { Value = e.UpdateZone });
        p.Add(new() { Value = e.FaultZone });
    }

    private static MembershipEntry ReadEntry(NpgsqlDataReader r) => new()
    {
        SiloAddress = SiloAddress.FromParsableString(r.GetString(0)),
        HostName = r.GetString(1),
        SiloName = r.GetString(2),
        Status = (SiloStatus)r.GetInt32(3),
        ProxyPort = r.GetInt32(4),
        SuspectTimes = r.IsDBNull(5) ? [] : DeserializeSuspects(r.GetString(5)),
        StartTime = DateTime.SpecifyKind(r.GetDateTime(6), DateTimeKind.Utc),
        IAmAliveTime = DateTime.SpecifyKind(r.GetDateTime(7), DateTimeKind.Utc),
        RoleName = r.IsDBNull(8) ? null! : r.GetString(8),
        UpdateZone = r.GetInt32(9),
        FaultZone = r.GetInt32(10),
    };

    private sealed record Suspect(string Silo, DateTime At);

    private static string? SerializeSuspects(List<Tuple<SiloAddress, DateTime>>? suspects) =>
        suspects is null || suspects.Count == 0 ? null
            : JsonSerializer.Serialize(suspects.Select(s => new Suspect(s.Item1.ToParsableString(), Utc(s.Item2))).ToList());

    private static List<Tuple<SiloAddress, DateTime>> DeserializeSuspects(string json) =>
        (JsonSerializer.Deserialize<List<Suspect>>(json) ?? [])
            .Select(s => Tuple.Create(SiloAddress.FromParsableString(s.Silo), DateTime.SpecifyKind(s.At, DateTimeKind.Utc)))
            .ToList();

    // Orleans hands out DateTime of any kind; store them as UTC instants.
    private static DateTime Utc(DateTime t) => t.Kind switch
    {
        DateTimeKind.Utc => t,
        DateTimeKind.Local => t.ToUniversalTime(),
        _ => DateTime.SpecifyKind(t, DateTimeKind.Utc),
    };
}
