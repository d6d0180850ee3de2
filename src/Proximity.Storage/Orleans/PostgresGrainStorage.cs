using System.Globalization;
using Npgsql;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace Proximity.Storage.Orleans;

/// <summary>
/// Grain state in <c>orleans_grain_state</c>, serialised with Orleans' grain storage serializer.
/// The etag is a row version: a write names the version it read and fails with
/// <see cref="InconsistentStateException"/> if another activation wrote since, so of two
/// concurrent writers exactly one wins. Clearing keeps a tombstone row so versions never repeat.
/// </summary>
public sealed class PostgresGrainStorage(string storageName, string serviceId, ProximityDatabase database, IGrainStorageSerializer serializer) : IGrainStorage
{
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var (payload, etag) = await database.RunAsync(async ct =>
        {
            await using var cmd = database.DataSource.CreateCommand(
                "SELECT payload, etag FROM orleans_grain_state WHERE service_id = $1 AND storage_name = $2 AND state_name = $3 AND grain_id = $4");
            AddKey(cmd, stateName, grainId);
            await using var r = await cmd.ExecuteReaderAsync(ct);
            return await r.ReadAsync(ct)
                ? (r.IsDBNull(0) ? null : (byte[])r.GetValue(0), (long?)r.GetInt64(1))
                : (null, null);
        });
        grainState.ETag = etag?.ToString(CultureInfo.InvariantCulture);
        grainState.RecordExists = payload is not null;
        if (payload is not null) grainState.State = serializer.Deserialize<T>(new BinaryData(payload));
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        byte[] payload = serializer.Serialize(grainState.State).ToArray();
        long? written = await WriteAsync(stateName, grainId, grainState.ETag, payload);
        grainState.ETag = written.ToString()!;
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        long? written = await WriteAsync(stateName, grainId, grainState.ETag, null);
        grainState.ETag = written.ToString()!;
        grainState.RecordExists = false;
        grainState.State = default!;
    }

    private async Task<long?> WriteAsync(string stateName, GrainId grainId, string? expectedEtag, byte[]? payload)
    {
        long? expected = null;
        if (expectedEtag is not null)
        {
            expected = long.TryParse(expectedEtag, NumberStyles.None, CultureInfo.InvariantCulture, out long e)
                ? e : throw new InconsistentStateException($"etag '{expectedEtag}' was not issued by this storage", "?", expectedEtag);
        }
        long? written = await database.RunAsync(async ct =>
        {
            // No etag: the grain believes there is no row, so only an insert may succeed.
            await using var cmd = database.DataSource.CreateCommand(expected is null
                ? """
                  INSERT INTO orleans_grain_state (service_id, storage_name, state_name, grain_id, payload, etag)
                  VALUES ($1, $2, $3, $4, $5, 1) ON CONFLICT DO NOTHING RETURNING etag
                  """
                : """
                  UPDATE orleans_grain_state SET payload = $5, etag = etag + 1, updated_at = now()
                  WHERE service_id = $1 AND storage_name = $2 AND state_name = $3 AND grain_id = $4 AND etag = $6
                  RETURNING etag
                  """);
            AddKey(cmd, stateName, grainId);
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)payload ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            if (expected is not null) cmd.Parameters.Add(new() { Value = expected.Value });
            return await cmd.ExecuteScalarAsync(ct) is long etag ? etag : (long?)null;
        });
        if (written is null)
        {
            string stored = await StoredEtagAsync(stateName, grainId) ?? "none";
            throw new InconsistentStateException(
                $"{storageName}: state '{stateName}' of {grainId} was changed by another writer (expected etag {expectedEtag ?? "none"}, stored {stored})",
                stored, expectedEtag ?? "none");
        }
        return written;
    }

    private async Task<string?> StoredEtagAsync(string stateName, GrainId grainId) =>
        await database.RunAsync(async ct =>
        {
            await using var cmd = database.DataSource.CreateCommand(
                "SELECT etag FROM orleans_grain_state WHERE service_id = $1 AND storage_name = $2 AND state_name = $3 AND grain_id = $4");
            AddKey(cmd, stateName, grainId);
            return await cmd.ExecuteScalarAsync(ct) is long e ? e.ToString(CultureInfo.InvariantCulture) : null;
        });

    private void AddKey(NpgsqlCommand cmd, string stateName, GrainId grainId)
    {
        cmd.Parameters.Add(new() { Value = serviceId });
        cmd.Parameters.Add(new() { Value = storageName });
        cmd.Parameters.Add(new() { Value = stateName });
        cmd.Parameters.Add(new() { Value = grainId.ToString() });
    }
}
