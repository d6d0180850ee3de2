using System.Text.Json;
using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Zones;

/// <summary>Reads a zone from GeoJSON: Polygon, MultiPolygon, a Feature holding one, or the Circle extension
/// <c>{"type":"Circle","center":[lon,lat],"radiusMeters":300}</c>.</summary>
public static class GeoJsonZone
{
    public static ZoneArea Parse(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return Parse(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new InvalidZoneException($"the area is not valid JSON: {e.Message}");
        }
    }

    public static ZoneArea Parse(JsonElement geometry)
    {
        if (geometry.ValueKind != JsonValueKind.Object)
            throw new InvalidZoneException("the area must be a GeoJSON geometry object");
        string type = geometry.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()! : throw new InvalidZoneException("the area has no \"type\"");
        switch (type)
        {
            case "Feature":
                if (!geometry.TryGetProperty("geometry", out var g) || g.ValueKind != JsonValueKind.Object)
                    throw new InvalidZoneException("the Feature has no geometry");
                return Parse(g);
            case "Circle":
                var centre = Position(Required(geometry, "center"), "center");
                var radius = Required(geometry, "radiusMeters");
                if (radius.ValueKind != JsonValueKind.Number)
                    throw new InvalidZoneException("circle radiusMeters must be a number");
                return ZoneArea.Circle(centre, radius.GetDouble());
            case "Polygon":
                return ZoneArea.FromPolygons([Polygon(Required(geometry, "coordinates"), "polygon")]);
            case "MultiPolygon":
                var coords = Required(geometry, "coordinates");
                if (coords.ValueKind != JsonValueKind.Array)
                    throw new InvalidZoneException("MultiPolygon coordinates must be an array of polygons");
                var polygons = new List<GeoPoint[][]>();
                int i = 0;
                foreach (var p in coords.EnumerateArray()) polygons.Add(Polygon(p, $"polygon {i++}"));
                return ZoneArea.FromPolygons(polygons);
            default:
                throw new InvalidZoneException($"a zone must be a Polygon, MultiPolygon or Circle, not {type}");
        }
    }

    private static JsonElement Required(JsonElement o, string name) =>
        o.TryGetProperty(name, out var v) ? v : throw new InvalidZoneException($"the area has no \"{name}\"");

    private static GeoPoint[][] Polygon(JsonElement rings, string what)
    {
        if (rings.ValueKind != JsonValueKind.Array)
            throw new InvalidZoneException($"{what} coordinates must be an array of rings");
        var result = new List<GeoPoint[]>();
        int r = 0;
        foreach (var ring in rings.EnumerateArray())
        {
            if (ring.ValueKind != JsonValueKind.Array)
                throw new InvalidZoneException($"{what} ring {r} must be an array of positions");
            var points = new List<GeoPoint>();
            int i = 0;
            foreach (var pos in ring.EnumerateArray()) points.Add(Position(pos, $"{what} ring {r} position {i++}"));
            result.Add(points.ToArray());
            r++;
        }
        return result.ToArray();
    }

    private static GeoPoint Position(JsonElement pos, string what)
    {
        if (pos.ValueKind != JsonValueKind.Array || pos.GetArrayLength() < 2)
            throw new InvalidZoneException($"{what} must be a [longitude, latitude] array");
        var lon = pos[0];
        var lat = pos[1];
        if (lon.ValueKind != JsonValueKind.Number || lat.ValueKind != JsonValueKind.Number)
            throw new InvalidZoneException($"{what} must hold numbers");
        var p = new GeoPoint(lat.GetDouble(), lon.GetDouble());
        return p.Problem() is { } problem ? throw new InvalidZoneException($"{what}: {problem}") : p;
    }
}
