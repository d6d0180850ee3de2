using System.Text.Json;
using System.Text.Json.Serialization;
using Proximity.Protocol;
using Proximity.Simulator.Devices;
using Proximity.Simulator.Models;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Scenarios;

public sealed class ScenarioException(string message) : Exception(message);

/// <summary>One simulated device of a scenario: its options, secret and how it moves.</summary>
public sealed record ScenarioDevice(VirtualDeviceOptions Options, string? Secret, Func<Random, IMovement> Movement);

/// <summary>
/// A scenario: a case file (the format of <c>proximity replay</c> and <c>proximity run --case</c>) whose
/// extra <c>"simulation"</c> key says how each device moves and what happens to it, so one file serves both.
/// </summary>
public sealed record Scenario(
    CaseFile Case,
    DateTimeOffset? Start,
    double DurationSeconds,
    int Seed,
    IReadOnlyList<ScenarioDevice> Devices,
    string? AlertsUser,
    string? AlertsPassword)
{
    public static Scenario Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ScenarioException($"cannot read scenario {path}: {e.Message}"); }
        if (path.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            text = YamlToJson.Convert(text);
        return Parse(text, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
    }

    public static Scenario Parse(string json, string baseDirectory)
    {
        CaseFile caseFile;
        try { caseFile = CaseFile.Parse(json); }
        catch (CaseFileException e) { throw new ScenarioException(e.Message); }

        SimulationSpec spec;
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            if (!doc.RootElement.TryGetProperty("simulation", out var sim) || sim.ValueKind != JsonValueKind.Object)
                throw new ScenarioException("the scenario has no \"simulation\" object (how the devices move)");
            spec = sim.Deserialize<SimulationSpec>(SpecJson.Options) ?? throw new ScenarioException("\"simulation\" is empty");
        }
        catch (JsonException e)
        {
            throw new ScenarioException($"\"simulation\": {e.Message}");
        }

        DateTimeOffset? start = null;
        if (spec.Start is { } s && s != "now")
            start = DateTimeOffset.TryParse(s, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var t)
                ? t : throw new ScenarioException($"simulation.start '{s}' is not an ISO 8601 time or \"now\"");
        if (!(spec.DurationSeconds > 0)) throw new ScenarioException("simulation.durationSeconds must be positive");
        if (spec.Devices is null || spec.Devices.Count == 0) throw new ScenarioException("simulation.devices is empty");

        var known = caseFile.Devices().ToDictionary(d => d.DeviceId, StringComparer.Ordinal);
        var devices = new List<ScenarioDevice>();
        foreach (var (id, d) in spec.Devices)
        {
            if (!known.TryGetValue(id, out var registered))
                throw new ScenarioException($"simulation.devices.{id}: no such device among the case's offenders and victims");
            devices.Add(BuildDevice(id, d, registered.IsOffender ? DeviceRole.Offender : DeviceRole.Victim, registered.Secret, baseDirectory));
        }

        var integration = caseFile.Integrations.FirstOrDefault();
        return new Scenario(caseFile, start, spec.DurationSeconds, spec.Seed, devices,
            spec.Alerts?.User ?? integration?.Id, spec.Alerts?.Password ?? integration?.Secret);
    }

    private static ScenarioDevice BuildDevice(string id, DeviceSimSpec d, DeviceRole role, string? secret, string baseDirectory)
    {
        string what = $"simulation.devices.{id}";
        if (d.IntervalSeconds is < 1 or > 86_400) throw new ScenarioException($"{what}: intervalSeconds must be within 1..86400");
        var mode = ParseMode(d.Mode, what);
        var defaultView = ParseView(d.Env, what) ?? SkyView.Open;
        var events = (d.Events ?? []).Select(e => new ScriptedEvent(e.At, e.Type ?? "", e.Duration, e.Value)).ToList();
        foreach (var e in events)
            if (e.Problem() is { } p) throw new ScenarioException($"{what}: {p}");
        var gps = d.Gps ?? new GpsErrorOptions();
        var battery = d.Battery ?? new BatteryOptions();
        var uplink = d.Uplink ?? new UplinkOptions();
        if ((gps.Problem() ?? battery.Problem() ?? uplink.Problem()) is { } problem) throw new ScenarioException($"{what}: {problem}");

        Func<Random, IMovement> movement;
        if (d.Gpx is { } gpxPath)
        {
            if (d.Route is not null) throw new ScenarioException($"{what}: give either \"route\" or \"gpx\", not both");
            var points = Gpx.Load(Path.IsPathRooted(gpxPath) ? gpxPath : Path.Combine(baseDirectory, gpxPath));
            if (d.GpxTimes && points.Count > 1 && points.All(p => p.Time is not null))
            {
                var track = points.Select(p => (p.Position, p.Time!.Value)).ToList();
                try { _ = new TimedTrack(track); }
                catch (ArgumentException e) { throw new ScenarioException($"{what}: GPX {gpxPath}: {e.Message}"); }
                movement = _ => new TimedTrack(track, defaultView);
            }
            else
            {
                var route = points.Select((p, i) => new Waypoint(p.Position, View: i == 0 ? defaultView : null)).ToList();
                movement = r => new MovementModel(route, mode, r, d.Loop);
            }
        }
        else
        {
            if (d.Route is null || d.Route.Count == 0) throw new ScenarioException($"{what}: needs a \"route\" (waypoints) or a \"gpx\" file");
            var route = new List<Waypoint>();
            for (int i = 0; i < d.Route.Count; i++)
            {
                var w = d.Route[i];
                var point = new GeoPoint(w.Lat, w.Lon);
                if (point.Problem() is { } p) throw new ScenarioException($"{what}.route[{i}]: {p}");
                if (w.StopSeconds < 0) throw new ScenarioException($"{what}.route[{i}]: stopSeconds must not be negative");
                route.Add(new Waypoint(point, w.StopSeconds, w.Mode is null ? null : ParseMode(w.Mode, $"{what}.route[{i}]"),
                    ParseView(w.Env, $"{what}.route[{i}]") ?? (i == 0 ? defaultView : null)));
            }
            movement = r => new MovementModel(route, mode, r, d.Loop);
        }

        var options = new VirtualDeviceOptions
        {
            Id = id, Role = role, IntervalSeconds = d.IntervalSeconds, Gps = gps, Battery = battery, Uplink = uplink,
            ClockOffsetSeconds = d.ClockOffsetSeconds, ClockDriftPpm = d.ClockDriftPpm, Events = events,
        };
        return new ScenarioDevice(options, secret, movement);
    }

    private static TravelMode ParseMode(string? mode, string what) => mode switch
    {
        null or "walk" => TravelMode.Walk,
        "cycle" => TravelMode.Cycle,
        "drive" => TravelMode.Drive,
        "stationary" => TravelMode.Stationary,
        _ => throw new ScenarioException($"{what}: mode '{mode}' is not one of walk, cycle, drive, stationary"),
    };

    private static SkyView? ParseView(string? env, string what) => env switch
    {
        null => null,
        "open" => SkyView.Open,
        "urban_canyon" => SkyView.UrbanCanyon,
        "indoor" => SkyView.Indoor,
        _ => throw new ScenarioException($"{what}: env '{env}' is not one of open, urban_canyon, indoor"),
    };
}

internal static class SpecJson
{
    public static readonly JsonSerializerOptions Options = Create(withWaypointArrays: true);

    // The same settings without the waypoint converter, for the object form of a waypoint.
    private static readonly JsonSerializerOptions Plain = Create(withWaypointArrays: false);

    private static JsonSerializerOptions Create(bool withWaypointArrays)
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
            ReadCommentHandling = JsonCommentHandling.Skip,
            AllowTrailingCommas = true,
        };
        o.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        if (withWaypointArrays) o.Converters.Add(new WaypointConverter());
        return o;
    }

    /// <summary>Waypoints as objects, or briefly as <c>[lat, lon]</c>.</summary>
    private sealed class WaypointConverter : JsonConverter<WaypointSpec>
    {
        public override WaypointSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.StartArray)
            {
                reader.Read();
                double lat = reader.GetDouble();
                reader.Read();
                double lon = reader.GetDouble();
                reader.Read();
                if (reader.TokenType != JsonTokenType.EndArray) throw new JsonException("a waypoint array is [lat, lon]");
                return new WaypointSpec { Lat = lat, Lon = lon };
            }
            if (reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a waypoint is {\"lat\",\"lon\",...} or [lat, lon]");
            return JsonSerializer.Deserialize<WaypointSpec>(ref reader, Plain) ?? throw new JsonException("empty waypoint");
        }

        public override void Write(Utf8JsonWriter writer, WaypointSpec value, JsonSerializerOptions options) =>
            throw new NotSupportedException();
    }
}

internal sealed class SimulationSpec
{
    public string? Start { get; set; }
    public double DurationSeconds { get; set; } = 600;
    public int Seed { get; set; } = 1;
    public AlertsSpec? Alerts { get; set; }
    public Dictionary<string, DeviceSimSpec>? Devices { get; set; }
    /// <summary>Load mode's layout (written by gen-case); not used by scenarios.</summary>
    public JsonElement? Load { get; set; }
}

internal sealed class AlertsSpec
{
    public string? User { get; set; }
    public string? Password { get; set; }
}

internal sealed class DeviceSimSpec
{
    public double IntervalSeconds { get; set; } = 10;
    public string? Mode { get; set; }
    public string? Env { get; set; }
    public bool Loop { get; set; }
    public List<WaypointSpec>? Route { get; set; }
    public string? Gpx { get; set; }
    public bool GpxTimes { get; set; } = true;
    public GpsErrorOptions? Gps { get; set; }
    public BatteryOptions? Battery { get; set; }
    public UplinkOptions? Uplink { get; set; }
    public double ClockOffsetSeconds { get; set; }
    public double ClockDriftPpm { get; set; }
    public List<EventSpec>? Events { get; set; }
}

internal sealed class WaypointSpec
{
    public double Lat { get; set; }
    public double Lon { get; set; }
    public double StopSeconds { get; set; }
    public string? Mode { get; set; }
    public string? Env { get; set; }
}

internal sealed class EventSpec
{
    public double At { get; set; }
    public string? Type { get; set; }
    public double? Duration { get; set; }
    public double? Value { get; set; }
}
