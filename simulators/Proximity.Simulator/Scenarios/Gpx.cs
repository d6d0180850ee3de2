using System.Globalization;
using System.Xml;
using System.Xml.Linq;
using Proximity.Spatial.Geodesy;

namespace Proximity.Simulator.Scenarios;

/// <summary>Reads the points of a GPX track (trkpt), or of a route (rtept) when there is no track.</summary>
public static class Gpx
{
    public sealed record Point(GeoPoint Position, DateTimeOffset? Time);

    public static IReadOnlyList<Point> Load(string path)
    {
        XDocument doc;
        try
        {
            using var reader = XmlReader.Create(path, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
            doc = XDocument.Load(reader);
        }
        catch (Exception e) when (e is IOException or XmlException or UnauthorizedAccessException)
        {
            throw new ScenarioException($"GPX file {path}: {e.Message}");
        }
        var points = doc.Descendants().Where(e => e.Name.LocalName == "trkpt").ToList();
        if (points.Count == 0) points = doc.Descendants().Where(e => e.Name.LocalName == "rtept").ToList();
        if (points.Count == 0) throw new ScenarioException($"GPX file {path} has no track or route points");
        var list = new List<Point>(points.Count);
        foreach (var p in points)
        {
            if (!double.TryParse((string?)p.Attribute("lat"), NumberStyles.Float, CultureInfo.InvariantCulture, out double lat) ||
                !double.TryParse((string?)p.Attribute("lon"), NumberStyles.Float, CultureInfo.InvariantCulture, out double lon) ||
                new GeoPoint(lat, lon).Problem() is not null)
                throw new ScenarioException($"GPX file {path}: point {list.Count + 1} has no valid lat/lon");
            var timeText = p.Elements().FirstOrDefault(e => e.Name.LocalName == "time")?.Value;
            DateTimeOffset? time = timeText is not null && DateTimeOffset.TryParse(timeText, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
            list.Add(new Point(new GeoPoint(lat, lon), time));
        }
        return list;
    }
}
