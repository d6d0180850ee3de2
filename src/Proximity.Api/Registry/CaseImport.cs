using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Zones;

namespace Proximity.Api.Registry;

/// <summary>
/// Loads a case file (the replay / <c>proximity run --case</c> format) into the registry, so the API shows what
/// the live pipeline enforces. Case files carry no court particulars: bans get legal basis Other and the case
/// file as authority until probation amends them.
/// </summary>
public static class CaseImport
{
    public static async Task<IReadOnlyList<DeviceWithSecret>> ImportAsync(IRegistry registry, CaseFile file, DateTimeOffset now, string user = "case-file")
    {
        // What is there already, read once: on PostgreSQL the import runs at every start, for every item of the file.
        var offenders = Ids(await registry.OffendersAsync(), o => o.Id);
        var victims = Ids(await registry.VictimsAsync(), v => v.Id);
        var registered = Ids(await registry.DevicesAsync(), d => d.Id);
        var bans = Ids(await registry.BansAsync(), b => b.Id);
        foreach (var o in file.Offenders)
            if (offenders.Add(o.Id))
                await registry.SaveOffenderAsync(new Offender { Id = o.Id, Name = o.Id }, 0);
        foreach (var v in file.Victims)
            if (victims.Add(v.Id))
                await registry.SaveVictimAsync(new Victim { Id = v.Id, Name = v.Id }, 0);
        var devices = new List<DeviceWithSecret>();
        foreach (var (deviceId, personId, isOffender, secret) in file.Devices())
        {
            if (!registered.Add(deviceId)) continue;
            // The case file's secret, so that the broker (which checks the case file's) and the registry agree.
            var d = await registry.RegisterDeviceAsync(deviceId, isOffender ? DeviceKind.AnkleMonitor : DeviceKind.VictimDevice, now, secret);
            devices.Add(d with { Device = await registry.AssignDeviceAsync(deviceId, personId) });
        }
        foreach (var ban in file.Bans)
            if (bans.Add(ban.Id))
                await registry.CreateBanAsync(Record(ban with { Version = 1 }, user, now));
        return devices;
    }

    private static HashSet<string> Ids<T>(IEnumerable<T> items, Func<T, string> id) => items.Select(id).ToHashSet(StringComparer.Ordinal);

    public static BanRecord Record(Ban ban, string user, DateTimeOffset now) => new()
    {
        Id = ban.Id,
        Version = ban.Version,
        Type = ban switch { ContactBan => "contact", ZoneBan { Kind: ZoneKind.Inclusion } => "inclusion", _ => "exclusion" },
        OffenderId = ban.OffenderId,
        VictimId = (ban as ContactBan)?.VictimId,
        LegalBasis = LegalBasis.Other,
        IssuingAuthority = "case file",
        CaseReference = ban.Id,
        ValidFrom = ban.ValidFrom == DateTimeOffset.MinValue ? null : ban.ValidFrom,
        ValidUntil = ban.ValidUntil,
        Schedule = ban.Schedule?.Windows.Select(w => new ScheduleWindowDto(
            w.Days.Order().Select(d => d.ToString()[..3]).ToList(), Time(w.From), Time(w.To))).ToList(),
        MonitoringLevel = ban.MonitoringLevel,
        Routing = BanFactory.Routing(ban),
        MinDistanceMeters = (ban as ContactBan)?.MinDistanceMeters,
        WarningDistanceMeters = (ban as ContactBan)?.WarningDistanceMeters,
        WarningBufferMeters = (ban as ZoneBan)?.WarningBufferMeters,
        Area = ban is ZoneBan z ? GeoJson(z.Area) : null,
        RecordedAt = now,
        RecordedBy = user,
        Core = ban,
    };

    /// <summary>The area as GeoJSON (Polygon, MultiPolygon or the Circle extension), [longitude, latitude].</summary>
    public static JsonElement GeoJson(ZoneArea area)
    {
        JsonNode node;
        if (area.CircleCentre is { } c)
            node = new JsonObject { ["type"] = "Circle", ["center"] = new JsonArray(c.Longitude, c.Latitude), ["radiusMeters"] = area.CircleRadiusMeters };
        else
        {
            JsonArray Polygon(Spatial.Geodesy.GeoPoint[][] rings) =>
                new(rings.Select(r => (JsonNode?)new JsonArray(r.Select(p => (JsonNode?)new JsonArray(p.Longitude, p.Latitude)).ToArray())).ToArray());
            node = area.Polygons.Count == 1
                ? new JsonObject { ["type"] = "Polygon", ["coordinates"] = Polygon(area.Polygons[0]) }
                : new JsonObject { ["type"] = "MultiPolygon", ["coordinates"] = new JsonArray(area.Polygons.Select(p => (JsonNode?)Polygon(p)).ToArray()) };
        }
        return JsonSerializer.SerializeToElement(node);
    }

    private static string Time(TimeSpan t) => t.ToString(@"hh\:mm", CultureInfo.InvariantCulture);
}
