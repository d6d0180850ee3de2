using System.Security.Cryptography;
using System.Text;
using Npgsql;
using NpgsqlTypes;

namespace Proximity.Storage.Registry;

public enum PersonKind { Offender, Victim }

public enum DeviceKind { AnkleMonitor, VictimDevice }

public sealed record Person(string Id, PersonKind Kind, string DisplayName, string LegalStatus, string? CaseReference = null)
{
    /// <summary>User name of the probation officer whose caseload holds an offender.</summary>
    public string? CaseOfficer { get; init; }
    /// <summary>Home and work as JSON (latitude, longitude, label), for feasibility checks.</summary>
    public string? HomeJson { get; init; }
    public string? WorkJson { get; init; }
    /// <summary>Raised by every change; guards against lost updates.</summary>
    public int Version { get; init; } = 1;
}

/// <summary>
/// A device as stored: who carries it now (its open assignment) and its secret in the stored form
/// <c>pbkdf2-sha256$iterations$salt$hash</c> (base64), never the secret itself.
/// </summary>
public sealed record StoredDevice(string Id, DeviceKind Kind, string? PersonId, DateTimeOffset RegisteredAt,
    DateTimeOffset SecretSetAt, DateTimeOffset? RetiredAt, string SecretHash);

/// <summary>A change refused because the stored state differs from what the caller expected.</summary>
public sealed class RegistryConflictException(string message) : Exception(message);

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
    public Task RegisterDeviceAsync(string deviceId, DeviceKind kind, string secret, CancellationToken cancellationToken = default) =>
        RegisterDeviceAsync(deviceId, kind, secret, DateTimeOffset.UtcNow, SecretIterations, cancellationToken);

    /// <summary>Registers a device at <paramref name="at"/>; a device id already registered is a conflict.</summary>
    public async Task RegisterDeviceAsync(string deviceId, DeviceKind kind, string secret, DateTimeOffset at, int iterations, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException("a device needs a secret", nameof(secret));
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        await using var cmd = database.DataSource.CreateCommand("""
            INSERT INTO device (id, kind, secret_hash, secret_salt, secret_iterations, registered_at, secret_set_at)
            VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING
            """);
        cmd.Parameters.Add(new() { Value = deviceId });
        cmd.Parameters.Add(new() { Value = kind == DeviceKind.AnkleMonitor ? "ankle_monitor" : "victim_device" });
        cmd.Parameters.Add(new() { Value = HashSecret(secret, salt, iterations) });
        cmd.Parameters.Add(new() { Value = salt });
        cmd.Parameters.Add(new() { Value = iterations });
        cmd.Parameters.Add(new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        if (await cmd.ExecuteNonQueryAsync(cancellationToken) == 0)
            throw new RegistryConflictException($"device '{deviceId}' is already registered.");
    }

    /// <summary>Replaces the secret of an active device; false when there is none.</summary>
    public async Task<bool> SetSecretAsync(string deviceId, string secret, DateTimeOffset at, int iterations, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException("a device needs a secret", nameof(secret));
        byte[] salt = RandomNumberGenerator.GetBytes(16);
        await using var cmd = database.DataSource.CreateCommand("""
            UPDATE device SET secret_hash = $2, secret_salt = $3, secret_iterations = $4, secret_set_at = $5, changed_at = clock_timestamp()
            WHERE id = $1 AND retired_at IS NULL
            """);
        cmd.Parameters.Add(new() { Value = deviceId });
        cmd.Parameters.Add(new() { Value = HashSecret(secret, salt, iterations) });
        cmd.Parameters.Add(new() { Value = salt });
        cmd.Parameters.Add(new() { Value = iterations });
        cmd.Parameters.Add(new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        return await cmd.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Retires an active device and ends its assignment; false when there is no active device.</summary>
    public async Task<bool> RetireDeviceAsync(string deviceId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await using (var retire = new NpgsqlCommand("UPDATE device SET retired_at = $2, changed_at = clock_timestamp() WHERE id = $1 AND retired_at IS NULL", connection, tx))
        {
            retire.Parameters.Add(new() { Value = deviceId });
            retire.Parameters.Add(new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            if (await retire.ExecuteNonQueryAsync(cancellationToken) == 0) return false;
        }
        await EndAssignmentAsync(connection, tx, deviceId, at, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Ends the device's assignment at <paramref name="at"/> (nobody carries it from then on).</summary>
    public async Task UnassignDeviceAsync(string deviceId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        await EndAssignmentAsync(connection, tx, deviceId, at, cancellationToken);
        await tx.CommitAsync(cancellationToken);
    }

    /// <summary>All devices (or the one with <paramref name="id"/>), ordered by id.</summary>
    public Task<IReadOnlyList<StoredDevice>> DevicesAsync(string? id = null, CancellationToken cancellationToken = default) =>
        ReadDevicesAsync("$1::text IS NULL OR d.id = $1", Text(id), cancellationToken);

    /// <summary>
    /// The devices changed at or after <paramref name="since"/> (database time), and the database time to ask from
    /// next. Ask with some overlap: a change committed late carries the time it was made.
    /// </summary>
    public async Task<(IReadOnlyList<StoredDevice> Devices, DateTimeOffset AskedAt)> DevicesChangedSinceAsync(DateTimeOffset since,
        CancellationToken cancellationToken = default)
    {
        var askedAt = await NowAsync(cancellationToken);
        return (await ReadDevicesAsync("d.changed_at >= $1",
            new NpgsqlParameter { Value = since.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz }, cancellationToken), askedAt);
    }

    /// <summary>The database's clock: what <see cref="DevicesChangedSinceAsync"/> compares with.</summary>
    public async Task<DateTimeOffset> NowAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand("SELECT clock_timestamp()");
        return Utc((DateTime)(await cmd.ExecuteScalarAsync(cancellationToken))!);
    }

    private async Task<IReadOnlyList<StoredDevice>> ReadDevicesAsync(string where, NpgsqlParameter parameter, CancellationToken cancellationToken)
    {
        await using var cmd = database.DataSource.CreateCommand($"""
            SELECT d.id, d.kind, a.person_id, d.registered_at, d.secret_set_at, d.retired_at, d.secret_iterations, d.secret_salt, d.secret_hash
            FROM device d LEFT JOIN device_assignment a ON a.device_id = d.id AND a.assigned_until IS NULL
            WHERE {where} ORDER BY d.id
            """);
        cmd.Parameters.Add(parameter);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<StoredDevice>();
        while (await r.ReadAsync(cancellationToken))
        {
            list.Add(new StoredDevice(r.GetString(0), r.GetString(1) == "ankle_monitor" ? DeviceKind.AnkleMonitor : DeviceKind.VictimDevice,
                r.IsDBNull(2) ? null : r.GetString(2), Utc(r.GetDateTime(3)), Utc(r.GetDateTime(4)), r.IsDBNull(5) ? null : Utc(r.GetDateTime(5)),
                $"pbkdf2-sha256${r.GetInt32(6)}${Convert.ToBase64String((byte[])r.GetValue(7))}${Convert.ToBase64String((byte[])r.GetValue(8))}"));
        }
        return list;
    }

    /// <summary>
    /// Creates a person (<paramref name="expectedVersion"/> null or 0) or replaces their particulars when the stored
    /// version is <paramref name="expectedVersion"/> (null: any). Returns the version written.
    /// </summary>
    public async Task<int> SavePersonAsync(Person person, int? expectedVersion, CancellationToken cancellationToken = default)
    {
        string kind = KindName(person.Kind);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        string? storedKind = null;
        int storedVersion = 0;
        await using (var read = new NpgsqlCommand("SELECT kind, version FROM person WHERE id = $1 FOR UPDATE", connection, tx))
        {
            read.Parameters.Add(new() { Value = person.Id });
            await using var r = await read.ExecuteReaderAsync(cancellationToken);
            if (await r.ReadAsync(cancellationToken)) (storedKind, storedVersion) = (r.GetString(0), r.GetInt32(1));
        }
        if (storedKind is not null && storedKind != kind)
            throw new RegistryConflictException($"'{person.Id}' is already {(storedKind == "offender" ? "an offender" : "a victim")}'s id.");
        if (expectedVersion is { } e && e != storedVersion)
            throw new RegistryConflictException($"{kind} '{person.Id}' is at version {storedVersion}, not {e}; reload and try again.");
        await using (var write = new NpgsqlCommand(storedKind is null
            ? """
              INSERT INTO person (id, kind, display_name, legal_status, case_reference, case_officer, home, work, version)
              VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, 1) ON CONFLICT (id) DO NOTHING
              """
            : """
              UPDATE person SET display_name = $3, case_officer = $6, home = $7::jsonb, work = $8::jsonb,
                  version = version + 1, updated_at = now() WHERE id = $1 AND kind = $2
              """, connection, tx))
        {
            var p = write.Parameters;
            p.Add(new() { Value = person.Id });
            p.Add(new() { Value = kind });
            p.Add(new() { Value = person.DisplayName });
            p.Add(new() { Value = person.LegalStatus });
            p.Add(Text(person.CaseReference));
            p.Add(Text(person.CaseOfficer));
            p.Add(Text(person.HomeJson));
            p.Add(Text(person.WorkJson));
            // A concurrent creation of the same id won: this one is the stale editor.
            if (await write.ExecuteNonQueryAsync(cancellationToken) == 0)
                throw new RegistryConflictException($"{kind} '{person.Id}' was created meanwhile; reload and try again.");
        }
        await tx.CommitAsync(cancellationToken);
        return storedVersion + 1;
    }

    /// <summary>People of one kind (or the one with <paramref name="id"/>), ordered by id.</summary>
    public async Task<IReadOnlyList<Person>> PeopleAsync(PersonKind kind, string? id = null, CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand("""
            SELECT id, display_name, legal_status, case_reference, case_officer, home::text, work::text, version
            FROM person WHERE kind = $1 AND ($2::text IS NULL OR id = $2) ORDER BY id
            """);
        cmd.Parameters.Add(new() { Value = KindName(kind) });
        cmd.Parameters.Add(Text(id));
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        var list = new List<Person>();
        while (await r.ReadAsync(cancellationToken))
        {
            string? Opt(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            list.Add(new Person(r.GetString(0), kind, r.GetString(1), r.GetString(2), Opt(3))
            {
                CaseOfficer = Opt(4), HomeJson = Opt(5), WorkJson = Opt(6), Version = r.GetInt32(7),
            });
        }
        return list;
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
        await EndAssignmentAsync(connection, tx, deviceId, from, cancellationToken);
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

    // An assignment made in the same microsecond still ends after it began (the table's check). Every assignment
    // change starts here, so this is where the device is marked changed.
    private static async Task EndAssignmentAsync(NpgsqlConnection connection, NpgsqlTransaction tx, string deviceId, DateTimeOffset at, CancellationToken ct)
    {
        await using var end = new NpgsqlCommand("""
            WITH changed AS (UPDATE device SET changed_at = clock_timestamp() WHERE id = $1)
            UPDATE device_assignment SET assigned_until = greatest($2, assigned_from + interval '1 microsecond')
            WHERE device_id = $1 AND assigned_until IS NULL
            """, connection, tx);
        end.Parameters.Add(new() { Value = deviceId });
        end.Parameters.Add(new() { Value = at.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await end.ExecuteNonQueryAsync(ct);
    }

    private static string KindName(PersonKind kind) => kind == PersonKind.Offender ? "offender" : "victim";

    private static NpgsqlParameter Text(string? value) => new() { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text };

    internal static byte[] HashSecret(string secret, byte[] salt, int iterations) =>
        Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(secret), salt, iterations, HashAlgorithmName.SHA256, 32);

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
