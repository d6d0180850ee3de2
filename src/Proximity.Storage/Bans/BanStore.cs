using NetTopologySuite.Geometries;
using Npgsql;
using NpgsqlTypes;

namespace Proximity.Storage.Bans;

public enum BanKind { Contact, ExclusionZone, InclusionZone }

/// <summary>
/// One version of a ban as the court or prosecutor set it. <see cref="Area"/> is WGS84 (SRID 4326):
/// a polygon or multipolygon, or a point with <see cref="RadiusMeters"/> for a circle.
/// <see cref="ScheduleJson"/> is the weekly schedule (null = in force throughout validity).
/// </summary>
public sealed record BanVersion
{
    public required string BanId { get; init; }
    public required string OffenderId { get; init; }
    public required BanKind Kind { get; init; }
    public int Version { get; init; }
    public required string LegalBasis { get; init; }
    public required string IssuingAuthority { get; init; }
    public required string CaseReference { get; init; }
    public required DateTimeOffset ValidFrom { get; init; }
    public DateTimeOffset? ValidUntil { get; init; }
    public string? ScheduleJson { get; init; }
    public required string MonitoringLevel { get; init; }
    public string? VictimId { get; init; }
    public double? MinDistanceMeters { get; init; }
    public double? WarningDistanceMeters { get; init; }
    public double? WarningBufferMeters { get; init; }
    public Geometry? Area { get; init; }
    public double? RadiusMeters { get; init; }
    public required string RecordedBy { get; init; }
    public string? ChangeReason { get; init; }
    /// <summary>When recorded; left default, the database's clock.</summary>
    public DateTimeOffset RecordedAt { get; init; }
    /// <summary>This version ends the ban (it stays in the history; its validity ends).</summary>
    public bool Ended { get; init; }
    /// <summary>The area as drafted (GeoJSON, kept verbatim); <see cref="Area"/> is what PostGIS queries.</summary>
    public string? AreaGeoJson { get; init; }
}

public sealed class BanConflictException(string message) : Exception(message);

/// <summary>Bans and their full version history; spatial questions answered by PostGIS.</summary>
public sealed class BanStore(ProximityDatabase database)
{
    private const string Columns = """
        b.id, b.offender_id, b.kind, v.version, v.legal_basis, v.issuing_authority, v.case_reference, v.valid_from,
        v.valid_until, v.schedule::text, v.monitoring_level, v.victim_id, v.min_distance_m, v.warning_distance_m,
        v.warning_buffer_m, v.area, v.radius_m, v.recorded_by, v.change_reason, v.recorded_at, v.ended, v.area_geojson::text
        """;

    /// <summary>
    /// Records a new version of a ban: version 1 creates it; a later version must name the
    /// version it replaces in <paramref name="expectedCurrentVersion"/> (two editors cannot both win).
    /// Returns the version number written.
    /// </summary>
    public async Task<int> SaveAsync(BanVersion ban, int? expectedCurrentVersion, CancellationToken cancellationToken = default)
    {
        Validate(ban);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        int version;
        if (expectedCurrentVersion is null)
        {
            version = 1;
            await using var create = new NpgsqlCommand(
                "INSERT INTO ban (id, offender_id, kind, current_version) VALUES ($1, $2, $3, 1) ON CONFLICT (id) DO NOTHING", connection, tx);
            create.Parameters.Add(new() { Value = ban.BanId });
            create.Parameters.Add(new() { Value = ban.OffenderId });
            create.Parameters.Add(new() { Value = KindName(ban.Kind) });
            if (await create.ExecuteNonQueryAsync(cancellationToken) == 0)
                throw new BanConflictException($"ban {ban.BanId} already exists");
        }
        else
        {
            version = expectedCurrentVersion.Value + 1;
            // A later version may move the ban to another offender (a correction); its kind never changes.
            await using var bump = new NpgsqlCommand(
                "UPDATE ban SET current_version = $3, offender_id = $4 WHERE id = $1 AND current_version = $2 AND kind = $5", connection, tx);
            bump.Parameters.Add(new() { Value = ban.BanId });
            bump.Parameters.Add(new() { Value = expectedCurrentVersion.Value });
            bump.Parameters.Add(new() { Value = version });
            bump.Parameters.Add(new() { Value = ban.OffenderId });
            bump.Parameters.Add(new() { Value = KindName(ban.Kind) });
            if (await bump.ExecuteNonQueryAsync(cancellationToken) == 0)
                throw new BanConflictException($"ban {ban.BanId} is not at version {expectedCurrentVersion} (changed meanwhile, or its kind differs)");
        }
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO ban_version (ban_id, version, legal_basis, issuing_authority, case_reference, valid_from, valid_until,
                schedule, monitoring_level, victim_id, min_distance_m, warning_distance_m, warning_buffer_m, area, radius_m,
                recorded_by, change_reason, recorded_at, ended, area_geojson)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16, $17, coalesce($18, now()), $19, $20::json)
            """, connection, tx))
        {
            var p = insert.Parameters;
            p.Add(new() { Value = ban.BanId });
            p.Add(new() { Value = version });
            p.Add(new() { Value = ban.LegalBasis });
            p.Add(new() { Value = ban.IssuingAuthority });
            p.Add(new() { Value = ban.CaseReference });
            p.Add(new() { Value = ban.ValidFrom.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new() { Value = (object?)ban.ValidUntil?.UtcDateTime ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new() { Value = (object?)ban.ScheduleJson ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = ban.MonitoringLevel });
            p.Add(new() { Value = (object?)ban.VictimId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = (object?)ban.MinDistanceMeters ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
            p.Add(new() { Value = (object?)ban.WarningDistanceMeters ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
            p.Add(new() { Value = (object?)ban.WarningBufferMeters ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
            p.Add(ban.Area is null
                ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Geometry }
                : new NpgsqlParameter { Value = ban.Area });
            p.Add(new() { Value = (object?)ban.RadiusMeters ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Double });
            p.Add(new() { Value = ban.RecordedBy });
            p.Add(new() { Value = (object?)ban.ChangeReason ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            p.Add(new() { Value = ban.RecordedAt == default ? DBNull.Value : ban.RecordedAt.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            p.Add(new() { Value = ban.Ended });
            p.Add(new() { Value = (object?)ban.AreaGeoJson ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return version;
    }

    public async Task<BanVersion?> CurrentAsync(string banId, CancellationToken cancellationToken = default) =>
        (await QueryAsync($"SELECT {Columns} FROM ban b JOIN ban_version v ON v.ban_id = b.id AND v.version = b.current_version WHERE b.id = $1",
            [banId], cancellationToken)).SingleOrDefault();

    /// <summary>Every version of a ban, oldest first.</summary>
    public Task<IReadOnlyList<BanVersion>> HistoryAsync(string banId, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {Columns} FROM ban b JOIN ban_version v ON v.ban_id = b.id WHERE b.id = $1 ORDER BY v.version",
            [banId], cancellationToken);

    /// <summary>The current version of every ban (or of one offender's bans), ordered by id.</summary>
    public Task<IReadOnlyList<BanVersion>> CurrentAllAsync(string? offenderId = null, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {Columns} FROM ban b JOIN ban_version v ON v.ban_id = b.id AND v.version = b.current_version WHERE $1::text IS NULL OR b.offender_id = $1 ORDER BY b.id",
            [(object?)offenderId ?? DBNull.Value], cancellationToken);

    /// <summary>Each ban's current version number and offender: cheap enough to poll for changes made by other nodes.</summary>
    public async Task<IReadOnlyDictionary<string, (string OffenderId, int Version)>> VersionsAsync(CancellationToken cancellationToken = default)
    {
        await using var cmd = database.DataSource.CreateCommand("SELECT id, offender_id, current_version FROM ban");
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        var versions = new Dictionary<string, (string, int)>(StringComparer.Ordinal);
        while (await r.ReadAsync(cancellationToken)) versions[r.GetString(0)] = (r.GetString(1), r.GetInt32(2));
        return versions;
    }

    /// <summary>Current bans of an offender valid at <paramref name="at"/>.</summary>
    public Task<IReadOnlyList<BanVersion>> ForOffenderAsync(string offenderId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        QueryAsync($"""
            SELECT {Columns} FROM ban b JOIN ban_version v ON v.ban_id = b.id AND v.version = b.current_version
            WHERE b.offender_id = $1 AND v.valid_from <= $2 AND (v.valid_until IS NULL OR v.valid_until > $2)
            ORDER BY b.id
            """, [offenderId, at.UtcDateTime], cancellationToken);

    /// <summary>
    /// Zone bans (current versions, valid at <paramref name="at"/>) whose area covers the point, or
    /// lies within <paramref name="withinMeters"/> of it: "which bans are in force at this place?".
    /// </summary>
    public Task<IReadOnlyList<BanVersion>> ZonesNearAsync(double latitude, double longitude, double withinMeters, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        if (!double.IsFinite(latitude) || latitude is < -90 or > 90 || !double.IsFinite(longitude) || longitude is < -180 or > 180)
            throw new ArgumentOutOfRangeException(nameof(latitude), "latitude/longitude out of range");
        if (!double.IsFinite(withinMeters) || withinMeters < 0) throw new ArgumentOutOfRangeException(nameof(withinMeters));
        // The GiST index narrows by bounding box (geometry &&), geography decides in metres.
        return QueryAsync($"""
            WITH p AS (SELECT ST_SetSRID(ST_MakePoint($2, $1), 4326) AS g,
                              $3 + coalesce((SELECT max(radius_m) FROM ban_version), 0) + 100 AS reach)
            SELECT {Columns} FROM ban b JOIN ban_version v ON v.ban_id = b.id AND v.version = b.current_version, p
            WHERE v.area IS NOT NULL
              AND v.valid_from <= $4 AND (v.valid_until IS NULL OR v.valid_until > $4)
              AND v.area && ST_Expand(p.g, p.reach / (111320.0 * greatest(cos(radians($1)), 0.01)), p.reach / 110574.0)
              AND CASE WHEN GeometryType(v.area) = 'POINT'
                       THEN ST_DWithin(v.area::geography, p.g::geography, v.radius_m + $3)
                       ELSE ST_Covers(v.area, p.g) OR ST_DWithin(v.area::geography, p.g::geography, $3) END
            ORDER BY b.id
            """, [latitude, longitude, withinMeters, at.UtcDateTime], cancellationToken);
    }

    private async Task<IReadOnlyList<BanVersion>> QueryAsync(string sql, object[] args, CancellationToken ct)
    {
        await using var cmd = database.DataSource.CreateCommand(sql);
        foreach (object a in args)
            cmd.Parameters.Add(a is DateTime ? new NpgsqlParameter { Value = a, NpgsqlDbType = NpgsqlDbType.TimestampTz }
                : a is DBNull ? new NpgsqlParameter { Value = a, NpgsqlDbType = NpgsqlDbType.Text } : new NpgsqlParameter { Value = a });
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var list = new List<BanVersion>();
        while (await r.ReadAsync(ct))
        {
            list.Add(new BanVersion
            {
                BanId = r.GetString(0),
                OffenderId = r.GetString(1),
                Kind = ParseKind(r.GetString(2)),
                Version = r.GetInt32(3),
                LegalBasis = r.GetString(4),
                IssuingAuthority = r.GetString(5),
                CaseReference = r.GetString(6),
                ValidFrom = Utc(r.GetDateTime(7)),
                ValidUntil = r.IsDBNull(8) ? null : Utc(r.GetDateTime(8)),
                ScheduleJson = r.IsDBNull(9) ? null : r.GetString(9),
                MonitoringLevel = r.GetString(10),
                VictimId = r.IsDBNull(11) ? null : r.GetString(11),
                MinDistanceMeters = r.IsDBNull(12) ? null : r.GetDouble(12),
                WarningDistanceMeters = r.IsDBNull(13) ? null : r.GetDouble(13),
                WarningBufferMeters = r.IsDBNull(14) ? null : r.GetDouble(14),
                Area = r.IsDBNull(15) ? null : r.GetFieldValue<Geometry>(15),
                RadiusMeters = r.IsDBNull(16) ? null : r.GetDouble(16),
                RecordedBy = r.GetString(17),
                ChangeReason = r.IsDBNull(18) ? null : r.GetString(18),
                RecordedAt = Utc(r.GetDateTime(19)),
                Ended = r.GetBoolean(20),
                AreaGeoJson = r.IsDBNull(21) ? null : r.GetString(21),
            });
        }
        return list;
    }

    private static void Validate(BanVersion ban)
    {
        if (ban.Kind == BanKind.Contact)
        {
            if (ban.VictimId is null || ban.MinDistanceMeters is not > 0)
                throw new ArgumentException($"contact ban {ban.BanId} needs a victim and a positive minimum distance", nameof(ban));
        }
        else
        {
            if (ban.Area is null) throw new ArgumentException($"zone ban {ban.BanId} needs an area", nameof(ban));
            if (ban.Area.SRID != 4326) throw new ArgumentException($"zone ban {ban.BanId}: area must be WGS84 (SRID 4326), not {ban.Area.SRID}", nameof(ban));
            if (ban.Area is Point && ban.RadiusMeters is not > 0)
                throw new ArgumentException($"zone ban {ban.BanId}: a point area needs a positive radius", nameof(ban));
            if (ban.Area is not (Point or Polygon or MultiPolygon))
                throw new ArgumentException($"zone ban {ban.BanId}: area must be a polygon, multipolygon or point with radius", nameof(ban));
            if (!ban.Area.IsValid) throw new ArgumentException($"zone ban {ban.BanId}: area is not a valid geometry", nameof(ban));
        }
        if (ban.ValidUntil is { } until && until <= ban.ValidFrom)
            throw new ArgumentException($"ban {ban.BanId}: valid until must be after valid from", nameof(ban));
    }

    private static string KindName(BanKind kind) => kind switch
    {
        BanKind.Contact => "contact",
        BanKind.ExclusionZone => "exclusion_zone",
        _ => "inclusion_zone",
    };

    private static BanKind ParseKind(string kind) => kind switch
    {
        "contact" => BanKind.Contact,
        "exclusion_zone" => BanKind.ExclusionZone,
        _ => BanKind.InclusionZone,
    };

    private static DateTimeOffset Utc(DateTime t) => new(DateTime.SpecifyKind(t, DateTimeKind.Utc));
}
