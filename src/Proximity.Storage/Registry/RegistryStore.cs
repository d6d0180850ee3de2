using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Proximity.Storage.Registry;

public enum PersonKind { Offender, Victim }

public enum DeviceKind { AnkleMonitor, VictimDevice }

public sealed record Person(string Id, PersonKind Kind, string DisplayName, string LegalStatus, string? CaseReference = null);

public sealed record DeviceAssignment(string DeviceId, string PersonId, DateTimeOffset From, DateTimeOffset? Until, string AssignedBy);

/// <summary>People, devices and which device a person carries when. Device secrets are kept only as salted PBKDF2 hashes.</summary>
public sealed class RegistryStore(ProximityDatabase database)
{
    internal const int SecretIterations = 100_000;

    public async Task UpsertPersonAsync(Person person, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand("""
            INSERT INTO person (id, kind, display_name, legal_status, case_reference) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (id) DO UPDATE SET display_name = excluded.display_name, legal_status = excluded.legal_status,
                case_reference = excluded.case_reference, updated_at = now()
            WHERE person.kind = excluded.kind
            """);
        cmd.Parameters.Add(new() { Value = person.Id });
        cmd.Parameters.Add(new() { Value = person.Kind == PersonKind.Offender ? "offender" : "victim" });
        cmd.Parameters.Add(new() { Value = person.DisplayName });
        cmd.Parameters.Add(new() { Value = person.LegalStatus });
        cmd.Parameters.Add(new() { Value = (object?)person.CaseReference ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0)
            throw new InvalidOperationException($"person {person.Id} exists with another kind");
    }

    /// <summary>Registers a device with its secret (hashed here; the secret is not kept).</summary>
    public async Task RegisterDeviceAsync(string deviceId, DeviceKind kind, string secret, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException("a device needs a secret", nameof(secret));
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        await using var cmd = database.DataSource.CreateCommand(
            "INSERT INTO device (id, kind, secret_hash, secret_salt, secret_iterations) VALUES ($1, $2, $3, $4, $5)");
        cmd.Parameters.Add(new() { Value = deviceId });
        cmd.Parameters.Add(new() { Value = kind == DeviceKind.AnkleMonitor ? "ankle_monitor" : "victim_device" });
        cmd.Parameters.Add(new() { Value = HashSecret(secret, salt, SecretIterations) });
        cmd.Parameters.Add(new() { Value = salt });
        cmd.Parameters.Add(new() { Value = SecretIterations });
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>True when <paramref name="secret"/> is the secret of an active device.</summary>
    public async Task<bool> VerifyDeviceSecretAsync(string deviceId, string secret, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand(
            "SELECT secret_hash, secret_salt, secret_iterations FROM device WHERE id = $1 AND retired_at IS NULL");
        cmd.Parameters.Add(new() { Value = deviceId });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return false;
        byte[] stored = (byte[])reader.GetValue(0);
        byte[] computed = HashSecret(secret, (byte[])reader.GetValue(1), reader.GetInt32(2));
        return CryptographicOperations.FixedTimeEquals(stored, computed);
    }

    /// <summary>Gives the device to a person from <paramref name="from"/>, ending its previous assignment there.</summary>
    public async Task AssignDeviceAsync(string deviceId, string personId, DateTimeOffset from, string assignedBy, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var end = new NpgsqlCommand(
            "UPDATE device_assignment SET assigned_until = $2 WHERE device_id = $1 AND assigned_until IS NULL", connection, tx))
        {
            end.Parameters.Add(new() { Value = deviceId });
            end.Parameters.Add(new() { Value = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            await end.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var add = new NpgsqlCommand(
            "INSERT INTO device_assignment (device_id, person_id, assigned_from, assigned_by) VALUES ($1, $2, $3, $4)", connection, tx))
        {
            add.Parameters.Add(new() { Value = deviceId });
            add.Parameters.Add(new() { Value = personId });
            add.Parameters.Add(new() { Value = from.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            add.Parameters.Add(new() { Value = assignedBy });
            await add.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>Who carried the device at <paramref name="at"/>, or null.</summary>
    public async Task<string?> PersonOfDeviceAsync(string deviceId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand("""
            SELECT person_id FROM device_assignment
            WHERE device_id = $1 AND assigned_from <= $2 AND (assigned_until IS NULL OR assigned_until > $2)
            """);
        cmd.Parameters.Add(new() { Value = deviceId });
        cmd.Parameters.Add(new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteScalarAsync(cancellationToken) as string;
    }

    public async Task<IReadOnlyList<DeviceAssignment>> AssignmentHistoryAsync(string deviceId, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand(
            "SELECT person_id, assigned_from, assigned_until, assigned_by FROM device_assignment WHERE device_id = $1 ORDER BY assigned_from");
        cmd.Parameters.Add(new() { Value = deviceId });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<DeviceAssignment>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new DeviceAssignment(deviceId, reader.GetString(0), Utc(reader.GetDateTime(1)),
                reader.IsDBNull(2) ? null : Utc(reader.GetDateTime(2)), reader.GetString(3)));
        }
        return list;
    }

    internal static byte[] HashSecret(string secret, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, 32);

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
