using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Proximity.Storage.Export;

/// <summary>One exported file as the manifest lists it.</summary>
public sealed record ExportedFile(string Name, string Sha256, long Bytes, long Records);

public sealed record ExportManifest(string Format, string OffenderId, DateTimeOffset ExportedAt, IReadOnlyList<ExportedFile> Files);

/// <summary>
/// Everything about one offender's case in open formats: people, devices with their assignment history, every
/// ban version (zones as GeoJSON), the position history (newline-delimited GeoJSON features, evidence kept by
/// retention included), alerts with evidence and lifecycle, and the audit records about any of them; plus
/// <c>manifest.json</c> with a SHA-256 checksum per file. Device secrets are never exported.
/// </summary>
public sealed class CaseExporter(ProximityDatabase database)
{
    public const string ManifestName = "manifest.json";
    public const string Format = "proximity-case-export/1";

    private static readonly JsonSerializerOptions ManifestJson = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    // $1 = offender id. The case's people: the offender and every victim of one of the offender's bans.
    private const string People = """
        SELECT $1 UNION SELECT v.victim_id FROM ban_version v JOIN ban b ON b.id = v.ban_id
        WHERE b.offender_id = $1 AND v.victim_id IS NOT NULL
        """;

    private const string Devices = $"SELECT device_id FROM device_assignment WHERE person_id IN ({People})";

    private static readonly (string File, string Sql)[] Files =
    [
        ("people.ndjson", $"SELECT row_to_json(p)::text FROM person p WHERE p.id IN ({People}) ORDER BY p.id"),
        ("devices.ndjson", $"""
            SELECT json_build_object('id', d.id, 'kind', d.kind, 'registered_at', d.registered_at, 'retired_at', d.retired_at,
                   'assignments', (SELECT json_agg(json_build_object('person_id', a.person_id, 'from', a.assigned_from,
                                   'until', a.assigned_until, 'assigned_by', a.assigned_by) ORDER BY a.assigned_from)
                                   FROM device_assignment a WHERE a.device_id = d.id))::text
            FROM device d WHERE d.id IN ({Devices}) ORDER BY d.id
            """),
        ("bans.ndjson", """
            SELECT ((to_jsonb(v) - 'area') || jsonb_build_object('area', ST_AsGeoJSON(v.area)::jsonb))::text
            FROM ban_version v JOIN ban b ON b.id = v.ban_id WHERE b.offender_id = $1 ORDER BY v.ban_id, v.version
            """),
        ("zones.geojson", """
            SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(json_build_object(
                     'type', 'Feature', 'geometry', ST_AsGeoJSON(v.area)::json,
                     'properties', json_build_object('ban_id', v.ban_id, 'version', v.version, 'kind', b.kind,
                                   'radius_m', v.radius_m, 'valid_from', v.valid_from, 'valid_until', v.valid_until))
                     ORDER BY v.ban_id, v.version), '[]'::json))::text
            FROM ban_version v JOIN ban b ON b.id = v.ban_id WHERE b.offender_id = $1 AND v.area IS NOT NULL
            """),
        ("positions.ndjson", $"""
            SELECT json_build_object('type', 'Feature',
                     'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(f.lon, f.lat)),
                     'properties', json_build_object('device_id', f.device_id, 'seq', f.seq, 'device_time', f.device_time,
                                   'received_at', f.received_at, 'person_id', f.person_id, 'accuracy_m', f.accuracy_m,
                                   'speed_mps', f.speed_mps, 'heading_deg', f.heading_deg, 'battery_pct', f.battery_pct, 'source', f.source))::text
            FROM (SELECT DISTINCT ON (device_id, seq, device_time) * FROM
                    (SELECT * FROM position_fix UNION ALL SELECT * FROM position_fix_retained) all_fixes
                  WHERE device_id IN ({Devices}) ORDER BY device_id, seq, device_time, received_at) f
            ORDER BY f.device_id, f.device_time, f.seq
            """),
        ("alerts.ndjson", """
            SELECT jsonb_build_object('id', a.id, 'state', a.state, 'recorded_at', a.recorded_at, 'published_at', a.published_at,
                     'alert', a.document, 'evidence', a.evidence,
                     'evidence_fixes', (SELECT coalesce(jsonb_agg(to_jsonb(x) - 'alert_id' ORDER BY x.device_time, x.device_id), '[]') FROM alert_fix x WHERE x.alert_id = a.id),
                     'events', (SELECT coalesce(jsonb_agg(to_jsonb(e) - 'alert_id' ORDER BY e.id), '[]') FROM alert_event e WHERE e.alert_id = a.id))::text
            FROM alert a WHERE a.offender_id = $1 ORDER BY a.raised_at, a.id
            """),
        ("audit.ndjson", $"""
            SELECT json_build_object('seq', l.seq, 'at', l.at, 'actor', l.actor, 'action', l.action, 'subject', l.subject,
                     'reason', l.reason, 'detail', l.detail, 'prev_hash', encode(l.prev_hash, 'hex'), 'hash', encode(l.hash, 'hex'))::text
            FROM audit_log l
            WHERE l.subject IN ({People}) OR l.subject IN ({Devices})
               OR l.subject IN (SELECT id FROM ban WHERE offender_id = $1) OR l.subject IN (SELECT id FROM alert WHERE offender_id = $1)
               -- as the API and the export command name their subjects: kind/id
               OR l.subject IN (SELECT 'offender/' || p FROM ({People}) people(p)) OR l.subject IN (SELECT 'victim/' || p FROM ({People}) people(p))
               OR l.subject IN (SELECT 'device/' || d FROM ({Devices}) devices(d))
               OR l.subject IN (SELECT 'ban/' || id FROM ban WHERE offender_id = $1) OR l.subject IN (SELECT 'alert/' || id FROM alert WHERE offender_id = $1)
            ORDER BY l.seq
            """),
    ];

    /// <summary>Throws what <see cref="ExportAsync"/> would throw before writing anything (the directory is not empty,
    /// no such offender), so that the export can be audited before it runs.</summary>
    public async Task CheckCanExportAsync(string offenderId, string directory, CancellationToken cancellationToken = default)
    {
        CheckDirectory(offenderId, directory);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        await CheckOffenderAsync(connection, null, offenderId, cancellationToken);
    }

    /// <summary>Writes the case into <paramref name="directory"/> (created; must be empty) and returns the manifest.</summary>
    public async Task<ExportManifest> ExportAsync(string offenderId, string directory, TimeProvider? time = null, CancellationToken cancellationToken = default)
    {
        CheckDirectory(offenderId, directory);
        await using var connection = await database.DataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for every file: the export is consistent even while the service writes.
        await using var tx = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await CheckOffenderAsync(connection, tx, offenderId, cancellationToken);
        Directory.CreateDirectory(directory);
        var files = new List<ExportedFile>();
        foreach (var (name, sql) in Files)
        {
            string path = Path.Combine(directory, name);
            long records = 0;
            await using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)) { NewLine = "\n" })
            await using (var cmd = new NpgsqlCommand(sql, connection, tx))
            {
                cmd.Parameters.Add(new() { Value = offenderId });
                await using var reader = await cmd.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    await writer.WriteLineAsync(reader.GetString(0).AsMemory(), cancellationToken);
                    records++;
                }
            }
            var (sha, bytes) = await HashAsync(path, cancellationToken);
            files.Add(new ExportedFile(name, sha, bytes, records));
        }
        await tx.CommitAsync(cancellationToken);
        var manifest = new ExportManifest(Format, offenderId, (time ?? TimeProvider.System).GetUtcNow(), files);
        await File.WriteAllTextAsync(Path.Combine(directory, ManifestName), JsonSerializer.Serialize(manifest, ManifestJson) + "\n", cancellationToken);
        return manifest;
    }

    private static void CheckDirectory(string offenderId, string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(offenderId);
        if (Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any())
            throw new IOException($"{directory} is not empty: an export goes into a new directory");
    }

    private static async Task CheckOffenderAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string offenderId, CancellationToken cancellationToken)
    {
        await using var check = new NpgsqlCommand("SELECT count(*) FROM person WHERE id = $1 AND kind = 'offender'", connection, tx);
        check.Parameters.Add(new() { Value = offenderId });
        if ((long)(await check.ExecuteScalarAsync(cancellationToken))! == 0) throw new KeyNotFoundException($"no offender '{offenderId}' in the database");
    }

    /// <summary>Checks an export against its manifest: every listed file present with its size and SHA-256, no file
    /// that the manifest does not list. Returns the problems (none: intact).</summary>
    public static async Task<IReadOnlyList<string>> VerifyAsync(string directory, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        string manifestPath = Path.Combine(directory, ManifestName);
        if (!File.Exists(manifestPath)) return [$"{ManifestName} is missing"];
        ExportManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<ExportManifest>(await File.ReadAllTextAsync(manifestPath, cancellationToken), ManifestJson); }
        catch (JsonException e) { return [$"{ManifestName} is not valid: {e.Message}"]; }
        if (manifest is null || manifest.Format != Format) return [$"{ManifestName}: unknown format '{manifest?.Format}'"];
        foreach (var file in manifest.Files)
        {
            string path = Path.Combine(directory, file.Name);
            if (file.Name.Contains('/', StringComparison.Ordinal) || file.Name.Contains('\\', StringComparison.Ordinal) || file.Name.StartsWith('.'))
            {
                problems.Add($"{file.Name}: not a plain file name");
                continue;
            }
            if (!File.Exists(path)) { problems.Add($"{file.Name}: missing"); continue; }
            var (sha, bytes) = await HashAsync(path, cancellationToken);
            if (bytes != file.Bytes) problems.Add($"{file.Name}: {bytes} bytes, the manifest says {file.Bytes}");
            if (!string.Equals(sha, file.Sha256, StringComparison.OrdinalIgnoreCase)) problems.Add($"{file.Name}: SHA-256 {sha} does not match the manifest's {file.Sha256}");
        }
        var listed = manifest.Files.Select(f => f.Name).Append(ManifestName).ToHashSet(StringComparer.Ordinal);
        foreach (string extra in Directory.EnumerateFileSystemEntries(directory).Select(Path.GetFileName).OfType<string>().Where(n => !listed.Contains(n)).Order(StringComparer.Ordinal))
            problems.Add($"{extra}: not listed in the manifest");
        return problems;
    }

    private static async Task<(string Sha256, long Bytes)> HashAsync(string path, CancellationToken ct)
    {
        await using var stream = File.OpenRead(path);
        byte[] hash = await SHA256.HashDataAsync(stream, ct);
        return (Convert.ToHexStringLower(hash), stream.Length);
    }
}
