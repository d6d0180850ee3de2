using System.Globalization;
using System.Text.Json;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Schedules;
using Proximity.Spatial.Zones;

namespace Proximity.Protocol;

public sealed class CaseFileException(string message) : Exception(message);

public sealed record DeviceSpec(string Id, string? Secret)
{
    /// <summary>The secret's stored hash (<c>pbkdf2-sha256$iterations$salt$hash</c>) when loaded from the database, which keeps no secrets.</summary>
    public string? SecretHash { get; init; }
}

public sealed record PersonSpec(string Id, IReadOnlyList<DeviceSpec> Devices);

/// <summary>A control-room integration (for example a police dispatch system) allowed to read alerts.</summary>
public sealed record IntegrationSpec(string Id, string Secret);

/// <summary>
/// The case format shared by <c>proximity replay</c> and <c>proximity run --case</c>: offenders and victims
/// with their devices, and their bans.
/// </summary>
public sealed record CaseFile(
    IReadOnlyList<PersonSpec> Offenders,
    IReadOnlyList<PersonSpec> Victims,
    IReadOnlyList<Ban> Bans,
    IReadOnlyList<IntegrationSpec> Integrations)
{
    public static CaseFile Load(string path)
    {
        try { return Parse(File.ReadAllText(path)); }
        catch (IOException e) { throw new CaseFileException($"cannot read case file {path}: {e.Message}"); }
    }

    public static CaseFile Parse(string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }); }
        catch (JsonException e) { throw new CaseFileException($"the case file is not valid JSON: {e.Message}"); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new CaseFileException("the case file must be a JSON object");
            var offenders = People(root, "offenders");
            var victims = People(root, "victims");
            var bans = new List<Ban>();
            if (root.TryGetProperty("bans", out var b) && b.ValueKind == JsonValueKind.Array)
            {
                int i = 0;
                foreach (var e in b.EnumerateArray()) bans.Add(ParseBan(e, i++));
            }
            var integrations = new List<IntegrationSpec>();
            if (root.TryGetProperty("integrations", out var ints) && ints.ValueKind == JsonValueKind.Array)
                foreach (var e in ints.EnumerateArray())
                    integrations.Add(new IntegrationSpec(String(e, "id", "integration"), String(e, "secret", "integration")));
            var file = new CaseFile(offenders, victims, bans, integrations);
            file.CheckReferences();
            return file;
        }
    }

    public static Ban ParseBan(JsonElement e, int index)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new CaseFileException($"ban {index} must be an object");
        string id = String(e, "id", $"ban {index}");
        string what = $"ban {id}";
        string type = String(e, "type", what);
        string offenderId = String(e, "offenderId", what);
        var validFrom = OptionalTime(e, "validFrom", what) ?? DateTimeOffset.MinValue;
        var validUntil = OptionalTime(e, "validUntil", what);
        if (validUntil <= validFrom) throw new CaseFileException($"{what}: validUntil must be after validFrom");
        int version = OptionalNumber(e, "version", what) is { } v ? (int)v : 1;
        int level = OptionalNumber(e, "monitoringLevel", what) is { } l ? (int)l : 2;
        if (level is < 1 or > 3) throw new CaseFileException($"{what}: monitoringLevel must be 1, 2 or 3");
        switch (type)
        {
            case "contact":
                double min = OptionalNumber(e, "minDistanceMeters", what) ?? throw new CaseFileException($"{what}: missing minDistanceMeters");
                double warn = OptionalNumber(e, "warningDistanceMeters", what) ?? 0;
                if (min <= 0 || min > 100_000) throw new CaseFileException($"{what}: minDistanceMeters must be between 0 and 100000");
                if (warn < 0 || warn > 200_000) throw new CaseFileException($"{what}: warningDistanceMeters must be between 0 and 200000");
                return new ContactBan
                {
                    Id = id, Version = version, OffenderId = offenderId, VictimId = String(e, "victimId", what),
                    MinDistanceMeters = min, WarningDistanceMeters = warn, ValidFrom = validFrom, ValidUntil = validUntil,
                    MonitoringLevel = level, Schedule = Schedule(e, what),
                };
            case "exclusion":
            case "inclusion":
                if (!e.TryGetProperty("area", out var area)) throw new CaseFileException($"{what}: missing area");
                ZoneArea zone;
                try { zone = GeoJsonZone.Parse(area); }
                catch (InvalidZoneException x) { throw new CaseFileException($"{what}: {x.Message}"); }
                double buffer = OptionalNumber(e, "warningBufferMeters", what) ?? 0;
                if (buffer < 0 || buffer > 50_000) throw new CaseFileException($"{what}: warningBufferMeters must be between 0 and 50000");
                return new ZoneBan
                {
                    Id = id, Version = version, OffenderId = offenderId,
                    Kind = type == "exclusion" ? ZoneKind.Exclusion : ZoneKind.Inclusion,
                    Area = zone, WarningBufferMeters = buffer, ValidFrom = validFrom, ValidUntil = validUntil,
                    MonitoringLevel = level, Schedule = Schedule(e, what),
                };
            default:
                throw new CaseFileException($"{what}: type must be contact, exclusion or inclusion, not '{type}'");
        }
    }

    public IEnumerable<(string DeviceId, string PersonId, bool IsOffender, string? Secret)> Devices() =>
        Offenders.SelectMany(o => o.Devices.Select(d => (d.Id, o.Id, true, d.Secret)))
            .Concat(Victims.SelectMany(v => v.Devices.Select(d => (d.Id, v.Id, false, d.Secret))));

    private void CheckReferences()
    {
        var offenders = new HashSet<string>(StringComparer.Ordinal);
        var victims = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in Offenders) if (!offenders.Add(o.Id)) throw new CaseFileException($"offender {o.Id} is listed twice");
        foreach (var v in Victims) if (!victims.Add(v.Id)) throw new CaseFileException($"victim {v.Id} is listed twice");
        var devices = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (device, person, _, _) in Devices())
            if (!devices.Add(device)) throw new CaseFileException($"device {device} is assigned twice (last to {person})");
        var banIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ban in Bans)
        {
            if (!banIds.Add(ban.Id)) throw new CaseFileException($"ban {ban.Id} is listed twice");
            if (!offenders.Contains(ban.OffenderId)) throw new CaseFileException($"ban {ban.Id}: unknown offender {ban.OffenderId}");
            if (ban is ContactBan c && !victims.Contains(c.VictimId)) throw new CaseFileException($"ban {ban.Id}: unknown victim {c.VictimId}");
        }
    }

    private static List<PersonSpec> People(JsonElement root, string name)
    {
        var list = new List<PersonSpec>();
        if (!root.TryGetProperty(name, out var arr) || arr.ValueKind == JsonValueKind.Null) return list;
        if (arr.ValueKind != JsonValueKind.Array) throw new CaseFileException($"\"{name}\" must be an array");
        foreach (var p in arr.EnumerateArray())
        {
            string id = String(p, "id", name);
            var devices = new List<DeviceSpec>();
            if (p.TryGetProperty("devices", out var ds) && ds.ValueKind == JsonValueKind.Array)
                foreach (var d in ds.EnumerateArray())
                    devices.Add(d.ValueKind == JsonValueKind.String
                        ? new DeviceSpec(d.GetString()!, null)
                        : new DeviceSpec(String(d, "id", $"device of {id}"),
                            d.TryGetProperty("secret", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null));
            list.Add(new PersonSpec(id, devices));
        }
        return list;
    }

    private static WeeklySchedule? Schedule(JsonElement e, string what)
    {
        if (!e.TryGetProperty("schedule", out var s) || s.ValueKind == JsonValueKind.Null) return null;
        if (s.ValueKind != JsonValueKind.Array) throw new CaseFileException($"{what}: schedule must be an array of windows or null");
        var windows = new List<ScheduleWindow>();
        try
        {
            foreach (var w in s.EnumerateArray())
            {
                var days = w.TryGetProperty("days", out var d) && d.ValueKind == JsonValueKind.Array
                    ? d.EnumerateArray().Select(x => WeeklySchedule.ParseDay(x.GetString() ?? "")).ToList()
                    : throw new CaseFileException($"{what}: a schedule window needs \"days\"");
                windows.Add(ScheduleWindow.Create(days,
                    WeeklySchedule.ParseTime(String(w, "from", what)), WeeklySchedule.ParseTime(String(w, "to", what))));
            }
        }
        catch (Exception x) when (x is FormatException or ArgumentException)
        {
            throw new CaseFileException($"{what}: schedule: {x.Message}");
        }
        return windows.Count == 0 ? null : new WeeklySchedule(windows);
    }

    private static string String(JsonElement e, string name, string what) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(v.GetString())
            ? v.GetString()!
            : throw new CaseFileException($"{what}: missing or empty \"{name}\"");

    private static double? OptionalNumber(JsonElement e, string name, string what)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !double.IsFinite(v.GetDouble()))
            throw new CaseFileException($"{what}: \"{name}\" must be a number");
        return v.GetDouble();
    }

    private static DateTimeOffset? OptionalTime(JsonElement e, string name, string what)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.String && DateTimeOffset.TryParse(v.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
            return t;
        throw new CaseFileException($"{what}: \"{name}\" must be an ISO 8601 time");
    }
}
