using System.Text.Json;

namespace Proximity.Scenarios.Generator;

/// <summary>The real CBS neighbourhood (buurt) polygons of /work/shared/data, used as zones.</summary>
public static class CbsZones
{
    private static readonly Lazy<IReadOnlyList<(string Name, string GeoJson, double[][][] Rings)>> All = new(Load);

    public static int Count => All.Value.Count;

    public static string Name(int index) => All.Value[index].Name;

    /// <summary>The first vertex of the zone: a good origin for a scenario's plane.</summary>
    public static (double Lat, double Lon) Anchor(int index) => (All.Value[index].Rings[0][0][1], All.Value[index].Rings[0][0][0]);

    public static TruthZone Zone(int index, LocalPlane plane)
    {
        var (name, json, rings) = All.Value[index];
        return TruthZone.Polygon(name, json, rings.Select(r => r.Select(c => plane.ToPlane(c[1], c[0])).ToArray()).ToArray());
    }

    public static string DataFile
    {
        get
        {
            string local = Path.Combine(AppContext.BaseDirectory, "data", "nl_buurten_2025_subset.geojson");
            return File.Exists(local) ? local : "/work/shared/data/nl_buurten_2025_subset.geojson";
        }
    }

    private static IReadOnlyList<(string, string, double[][][])> Load()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(DataFile));
        var list = new List<(string, string, double[][][])>();
        foreach (var feature in doc.RootElement.GetProperty("features").EnumerateArray())
        {
            var geometry = feature.GetProperty("geometry");
            if (geometry.GetProperty("type").GetString() != "Polygon") continue;
            var rings = geometry.GetProperty("coordinates").EnumerateArray()
                .Select(r => r.EnumerateArray().Select(c => new[] { c[0].GetDouble(), c[1].GetDouble() }).ToArray()).ToArray();
            list.Add((feature.GetProperty("properties").GetProperty("statnaam").GetString()!, geometry.GetRawText(), rings));
        }
        return list;
    }
}
