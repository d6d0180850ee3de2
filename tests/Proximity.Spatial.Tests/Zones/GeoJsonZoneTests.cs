using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Tests.Zones;

public class GeoJsonZoneTests
{
    [Theory]
    [InlineData("""{"type":"Polygon","coordinates":[[[5.1,52.1],[5.11,52.1],[5.11,52.11],[5.1,52.11]]]}""", "not closed")]
    [InlineData("""{"type":"Polygon","coordinates":[[[5.1,52.1],[5.11,52.1],[5.1,52.1]]]}""", "at least 4")]
    [InlineData("""{"type":"Polygon","coordinates":[[[5.1,52.1],[5.11,52.11],[5.11,52.1],[5.1,52.11],[5.1,52.1]]]}""", "Self-intersection")]
    [InlineData("""{"type":"Polygon","coordinates":[[[5.1,92.1],[5.11,52.1],[5.11,52.11],[5.1,92.1]]]}""", "latitude 92.1")]
    [InlineData("""{"type":"Polygon","coordinates":[[[185.1,52.1],[5.11,52.1],[5.11,52.11],[185.1,52.1]]]}""", "longitude 185.1")]
    [InlineData("""{"type":"Polygon","coordinates":[]}""", "empty")]
    [InlineData("""{"type":"MultiPolygon","coordinates":[]}""", "empty")]
    [InlineData("""{"type":"Polygon","coordinates":[[[3.0,51.0],[7.0,51.0],[7.0,53.5],[3.0,53.5],[3.0,51.0]]]}""", "spans")]
    [InlineData("""{"type":"Point","coordinates":[5.1,52.1]}""", "must be a Polygon, MultiPolygon or Circle")]
    [InlineData("""{"type":"Circle","center":[5.1,52.1],"radiusMeters":-5}""", "positive")]
    [InlineData("""{"type":"Circle","center":[5.1,52.1],"radiusMeters":900000}""", "exceeds")]
    [InlineData("""{"type":"Circle","center":[5.1],"radiusMeters":300}""", "[longitude, latitude]")]
    [InlineData("""{"type":"Polygon","coordinates":[[["a",52.1],[5.11,52.1],[5.11,52.11],[5.1,52.1]]]}""", "numbers")]
    [InlineData("""{"coordinates":[]}""", "no \"type\"")]
    [InlineData("""{"type":"Polygon","coordinates":[[[5.1,52.1],[5.1,52.1],[5.1,52.1],[5.1,52.1]]]}""", "")]
    [InlineData("not json", "not valid JSON")]
    public void Invalid_geometry_is_rejected_with_a_message_naming_the_problem(string json, string expected)
    {
        var e = Assert.Throws<InvalidZoneException>(() => GeoJsonZone.Parse(json));
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Polygon_multipolygon_feature_and_circle_are_accepted()
    {
        Assert.False(GeoJsonZone.Parse("""{"type":"Polygon","coordinates":[[[5.1,52.1],[5.11,52.1],[5.11,52.11],[5.1,52.11],[5.1,52.1]]]}""").IsCircle);
        Assert.Equal(2, GeoJsonZone.Parse("""{"type":"MultiPolygon","coordinates":[[[[5.1,52.1],[5.11,52.1],[5.11,52.11],[5.1,52.1]]],[[[5.2,52.1],[5.21,52.1],[5.21,52.11],[5.2,52.1]]]]}""").Polygons.Count);
        Assert.False(GeoJsonZone.Parse("""{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[5.1,52.1],[5.11,52.1],[5.11,52.11],[5.1,52.1]]]}}""").IsCircle);
        var circle = GeoJsonZone.Parse("""{"type":"Circle","center":[5.12,52.09],"radiusMeters":300}""");
        Assert.True(circle.IsCircle);
        Assert.Equal(300, circle.CircleRadiusMeters);
    }

    [Theory]
    [InlineData("[[[5.10,52.10],[5.11,52.10],[5.11,52.11],[5.10,52.11],[5.10,52.10]]],[[[5.11,52.10],[5.12,52.10],[5.12,52.11],[5.11,52.11],[5.11,52.10]]]")] // a shared edge
    [InlineData("[[[5.10,52.10],[5.112,52.10],[5.112,52.11],[5.10,52.11],[5.10,52.10]]],[[[5.108,52.10],[5.12,52.10],[5.12,52.11],[5.108,52.11],[5.108,52.10]]]")] // overlapping
    public void Multipolygon_parts_that_meet_are_one_area_without_a_boundary_between_them(string parts)
    {
        var area = GeoJsonZone.Parse($$"""{"type":"MultiPolygon","coordinates":[{{parts}}]}""");
        Assert.Single(area.Polygons);
        // On the line where the parts meet, in the middle of the union (0.02° wide, 0.01° high): 556 m from its edge.
        var plane = area.HomePlane;
        var at = area.PreparedIn(plane).Locate(plane.Project(new GeoPoint(52.105, 5.11)), 2000);
        Assert.True(at.Inside);
        Assert.InRange(at.BoundaryDistanceMeters, 545, 565);
    }

    [Fact]
    public void A_multipolygon_part_drawn_inside_another_is_rejected_not_filled()
    {
        // Most likely meant as a hole (a place he may go): filling it would forbid it.
        var e = Assert.Throws<InvalidZoneException>(() => GeoJsonZone.Parse(
            """{"type":"MultiPolygon","coordinates":[[[[5.10,52.10],[5.13,52.10],[5.13,52.13],[5.10,52.13],[5.10,52.10]]],[[[5.11,52.11],[5.12,52.11],[5.12,52.12],[5.11,52.12],[5.11,52.11]]]]}"""));
        Assert.Contains("invalid polygon", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_multipolygon_with_a_self_intersecting_part_is_still_rejected()
    {
        var e = Assert.Throws<InvalidZoneException>(() => GeoJsonZone.Parse(
            """{"type":"MultiPolygon","coordinates":[[[[5.1,52.1],[5.11,52.11],[5.11,52.1],[5.1,52.11],[5.1,52.1]]],[[[5.11,52.1],[5.12,52.1],[5.12,52.11],[5.11,52.11],[5.11,52.1]]]]}"""));
        Assert.Contains("Self-intersection", e.Message, StringComparison.OrdinalIgnoreCase);
    }
}
