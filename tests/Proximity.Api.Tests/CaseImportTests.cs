using Proximity.Api.Registry;
using Proximity.Protocol;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Zones;

namespace Proximity.Api.Tests;

public sealed class CaseImportTests
{
    private const string Case = """
        {
          "offenders": [{"id": "o1", "devices": [{"id": "am-1", "secret": "s1"}]}],
          "victims": [{"id": "v1", "devices": ["vd-1"]}],
          "bans": [
            {"id": "c1", "type": "contact", "offenderId": "o1", "victimId": "v1", "minDistanceMeters": 500, "warningDistanceMeters": 1000, "monitoringLevel": 3},
            {"id": "z1", "type": "exclusion", "offenderId": "o1", "warningBufferMeters": 100,
             "area": {"type": "Polygon", "coordinates": [[[4.88,52.36],[4.90,52.36],[4.90,52.38],[4.88,52.38],[4.88,52.36]]]}},
            {"id": "h1", "type": "inclusion", "offenderId": "o1", "schedule": [{"days": ["Mon","Tue"], "from": "22:00", "to": "06:00"}],
             "area": {"type": "Circle", "center": [4.95, 52.30], "radiusMeters": 150}}
          ]
        }
        """;

    [Fact]
    public async Task A_case_file_becomes_registry_entries_whose_geojson_parses_back_to_the_same_zone()
    {
        var registry = new InMemoryRegistry();
        var devices = await CaseImport.ImportAsync(registry, CaseFile.Parse(Case), DateTimeOffset.UtcNow);
        Assert.Equal(["am-1", "vd-1"], devices.Select(d => d.Device.Id).Order().ToArray());
        Assert.Equal("o1", (await registry.DeviceAsync("am-1"))!.PersonId);
        Assert.Equal(DeviceKind.VictimDevice, (await registry.DeviceAsync("vd-1"))!.Kind);

        var contact = (await registry.BanAsync("c1"))!;
        Assert.Equal(["MonitoringCentre", "PoliceControlRoom"], contact.Routing);
        Assert.Equal(500, contact.MinDistanceMeters);

        var zone = (await registry.BanAsync("z1"))!;
        var reparsed = GeoJsonZone.Parse(zone.Area!.Value);
        Assert.Equal(((ZoneBan)zone.Core).Area.Polygons[0], reparsed.Polygons[0]);

        var home = (await registry.BanAsync("h1"))!;
        Assert.Equal("inclusion", home.Type);
        Assert.Equal(150, GeoJsonZone.Parse(home.Area!.Value).CircleRadiusMeters);
        var window = Assert.Single(home.Schedule!);
        Assert.Equal(["Mon", "Tue"], window.Days);
        Assert.Equal(("22:00", "06:00"), (window.From, window.To));

        // Importing twice changes nothing.
        Assert.Empty(await CaseImport.ImportAsync(registry, CaseFile.Parse(Case), DateTimeOffset.UtcNow));
        Assert.Single(await registry.BanHistoryAsync("z1"));
    }
    [Fact]
    public async Task A_ban_moved_to_another_offender_leaves_the_first_offenders_bans()
    {
        var registry = new InMemoryRegistry();
        await CaseImport.ImportAsync(registry, CaseFile.Parse(Case), DateTimeOffset.UtcNow);
        await registry.SaveOffenderAsync(new Offender { Id = "o2", Name = "o2" }, 0);
        var told = new List<(string Offender, string Bans)>();
        registry.BansChanged += (offender, bans) => told.Add((offender, string.Join(",", bans.Select(b => b.Id).Order())));

        var z1 = (await registry.BanAsync("z1"))!;
        await registry.AppendBanVersionAsync(CaseImport.Record(z1.Core with { OffenderId = "o2", Version = 2 }, "test", DateTimeOffset.UtcNow));

        Assert.Equal([("o2", "z1"), ("o1", "c1,h1")], told);
        Assert.Equal(["z1"], (await registry.BansAsync("o2")).Select(b => b.Id));
        // A later change of o1's bans no longer carries z1 along.
        var h1 = (await registry.BanAsync("h1"))!;
        await registry.AppendBanVersionAsync(h1 with { Version = 2, Note = "amended" });
        Assert.Equal(("o1", "c1,h1"), told[^1]);
    }
}
