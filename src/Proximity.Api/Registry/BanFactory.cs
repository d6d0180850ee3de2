using System.Text.Json;
using System.Text.Json.Nodes;
using Proximity.Api.Problems;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

namespace Proximity.Api.Registry;

/// <summary>
/// Validates a drafted ban and builds its version record. The decision fields go through the same parser as
/// the case file (<see cref="CaseFile.ParseBan"/>, GeoJSON by <c>GeoJsonZone.Parse</c>), so the API, replay and
/// the live pipeline cannot disagree on what a ban means.
/// </summary>
public static class BanFactory
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static BanRecord Build(string id, int version, BanRequest r, string user, DateTimeOffset now)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(r.Type)) problems.Add("type is required (contact, exclusion or inclusion)");
        if (string.IsNullOrWhiteSpace(r.OffenderId)) problems.Add("offenderId is required");
        if (r.LegalBasis is null) problems.Add($"legalBasis is required ({string.Join(", ", Enum.GetNames<LegalBasis>())})");
        if (string.IsNullOrWhiteSpace(r.IssuingAuthority)) problems.Add("issuingAuthority is required (court or public prosecutor)");
        if (string.IsNullOrWhiteSpace(r.CaseReference)) problems.Add("caseReference is required");
        if (r.Type == "contact" && r.Area is { ValueKind: not JsonValueKind.Null and not JsonValueKind.Undefined })
            problems.Add("a contact ban has no area; protect the victim's places with exclusion bans");
        if (r.Type is "exclusion" or "inclusion" && r.MinDistanceMeters is not null)
            problems.Add("a zone ban has no minDistanceMeters");
        if (problems.Count > 0) throw ApiProblemException.Invalid(string.Join("; ", problems) + ".");

        var node = new JsonObject
        {
            ["id"] = id,
            ["version"] = version,
            ["type"] = r.Type,
            ["offenderId"] = r.OffenderId,
            ["victimId"] = r.VictimId,
            ["validFrom"] = r.ValidFrom?.ToString("O"),
            ["validUntil"] = r.ValidUntil?.ToString("O"),
            ["monitoringLevel"] = r.MonitoringLevel,
            ["minDistanceMeters"] = r.MinDistanceMeters,
            ["warningDistanceMeters"] = r.WarningDistanceMeters,
            ["warningBufferMeters"] = r.WarningBufferMeters,
            ["schedule"] = r.Schedule is null ? null : JsonSerializer.SerializeToNode(r.Schedule, Json),
            ["area"] = r.Area is { } a && a.ValueKind != JsonValueKind.Undefined ? JsonNode.Parse(a.GetRawText()) : null,
        };
        Ban core;
        try { core = CaseFile.ParseBan(JsonSerializer.SerializeToElement(node), 0); }
        catch (CaseFileException e) { throw ApiProblemException.Invalid(e.Message); }
        if (core is ContactBan c && c.WarningDistanceMeters > 0 && c.WarningDistanceMeters <= c.MinDistanceMeters)
            throw ApiProblemException.Invalid($"ban {id}: warningDistanceMeters must be larger than minDistanceMeters (or 0 for none)");

        return new BanRecord
        {
            Id = id,
            Version = version,
            Type = r.Type!,
            OffenderId = r.OffenderId!,
            VictimId = core is ContactBan ? r.VictimId : null,
            LegalBasis = r.LegalBasis!.Value,
            IssuingAuthority = r.IssuingAuthority!.Trim(),
            CaseReference = r.CaseReference!.Trim(),
            ValidFrom = r.ValidFrom,
            ValidUntil = r.ValidUntil,
            Schedule = r.Schedule,
            MonitoringLevel = core.MonitoringLevel,
            Routing = Routing(core),
            MinDistanceMeters = (core as ContactBan)?.MinDistanceMeters,
            WarningDistanceMeters = (core as ContactBan)?.WarningDistanceMeters,
            WarningBufferMeters = (core as ZoneBan)?.WarningBufferMeters,
            Area = core is ZoneBan ? r.Area!.Value.Clone() : null,
            RecordedAt = now,
            RecordedBy = user,
            Note = string.IsNullOrWhiteSpace(r.Note) ? null : r.Note.Trim(),
            Core = core,
        };
    }

    /// <summary>The version that ends a ban: same particulars, valid until the end time, status Ended.</summary>
    public static BanRecord Ended(BanRecord current, DateTimeOffset end, string reason, string user, DateTimeOffset now)
    {
        var until = current.ValidUntil is { } u && u < end ? u : end;
        if (current.ValidFrom is { } from && until <= from) until = from.AddMicroseconds(1); // PostgreSQL keeps microseconds
        return current with
        {
            Version = current.Version + 1,
            ValidUntil = until,
            Status = BanStatus.Ended,
            RecordedAt = now,
            RecordedBy = user,
            Note = reason,
            Core = current.Core with { Version = current.Version + 1, ValidUntil = until },
        };
    }

    public static IReadOnlyList<string> Routing(Ban ban) =>
        ban.Recipients.HasFlag(AlertRecipients.PoliceControlRoom) ? ["MonitoringCentre", "PoliceControlRoom"] : ["MonitoringCentre"];
}
