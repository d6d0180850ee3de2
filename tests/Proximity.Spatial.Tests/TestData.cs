using System.Text.Json;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests;

/// <summary>The real CBS neighbourhood polygons shipped in shared/data (CC BY 4.0).</summary>
internal static class TestData
{
    private static readonly Lazy<IReadOnlyDictionary<string, (string Json, ZoneArea Area)>> Buurten = new(Load);

    public static IReadOnlyDictionary<string, (string Json, ZoneArea Area)> Neighbourhoods => Buurten.Value;

    public static ZoneArea Neighbourhood(string name) => Neighbourhoods[name].Area;

    private static Dictionary<string, (string, ZoneArea)> Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "data", "nl_buurten_2025_subset.geojson");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var result = new Dictionary<string, (string, ZoneArea)>();
        foreach (var f in doc.RootElement.GetProperty("features").EnumerateArray())
        {
            string name = f.GetProperty("properties").GetProperty("statnaam").GetString()!;
            string json = f.GetProperty("geometry").GetRawText();
            result[name] = (json, GeoJsonZone.Parse(json));
        }
        return result;
    }
}
