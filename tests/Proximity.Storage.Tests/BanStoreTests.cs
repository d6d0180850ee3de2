using NetTopologySuite;
using NetTopologySuite.Geometries;
using Proximity.Storage.Bans;
using Proximity.Storage.Registry;

namespace Proximity.Storage.Tests;

public sealed class BanStoreTests(PostgresFixture fixture) : DatabaseTest(fixture)
{
    private static readonly GeometryFactory Wgs84 = NtsGeometryServices.Instance.CreateGeometryFactory(4326);

    // Roughly 1.4 km × 1.1 km around Amsterdam Centraal.
    private static Polygon Square(double lon, double lat, double half) => Wgs84.CreatePolygon(
    [
        new(lon - half, lat - half), new(lon + half, lat - half), new(lon + half, lat + half), new(lon - half, lat + half), new(lon - half, lat - half),
    ]);

    private static BanVersion Zone(string id, Geometry area, double? radius = null) => new()
    {
        BanId = id,
        OffenderId = "off-1",
        Kind = BanKind.ExclusionZone,
        LegalBasis = "art. 38v Sr",
        IssuingAuthority = "Rechtbank Amsterdam",
        CaseReference = "13/123456-25",
        ValidFrom = Samples.Day0,
        ValidUntil = Samples.Day0.AddDays(365),
        ScheduleJson = """{"timeZone":"Europe/Amsterdam","windows":[{"days":["Mon","Tue"],"from":"22:00","to":"06:00"}]}""",
        MonitoringLevel = "3",
        Area = area,
        RadiusMeters = radius,
        WarningBufferMeters = 200,
        RecordedBy = "probation-7",
    };

    public override async ValueTask InitializeAsync()
    {
        await base.InitializeAsync();
        var registry = new RegistryStore(Database);
        await registry.UpsertPersonAsync(new Person("off-1", PersonKind.Offender, "J. Doe", "convicted", "13/123456-25"), Ct);
        await registry.UpsertPersonAsync(new Person("vic-1", PersonKind.Victim, "A. Roe", "protected"), Ct);
    }

    [Fact]
    public async Task Every_change_is_a_new_version_and_the_history_keeps_all_of_them()
    {
        var bans = new BanStore(Database);
        Assert.Equal(1, await bans.SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.005)), null, Ct));
        Assert.Equal(2, await bans.SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.010)) with { ChangeReason = "appeal: larger area", RecordedBy = "probation-8" }, 1, Ct));

        var history = await bans.HistoryAsync("ban-1", Ct);
        var current = await bans.CurrentAsync("ban-1", Ct);

        Assert.Equal([1, 2], history.Select(v => v.Version));
        Assert.Equal(2, current!.Version);
        Assert.Equal("appeal: larger area", current.ChangeReason);
        Assert.True(history[0].Area!.EqualsExact(Square(4.90, 52.378, 0.005)));
        Assert.Equal(4326, current.Area!.SRID);
        Assert.Equal("Rechtbank Amsterdam", current.IssuingAuthority);
        Assert.Contains("Europe/Amsterdam", current.ScheduleJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_editors_of_the_same_version_cannot_both_win()
    {
        var bans = new BanStore(Database);
        await bans.SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.005)), null, Ct);

        var results = await Task.WhenAll(
            Attempt(() => bans.SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.006)), 1, Ct)),
            Attempt(() => bans.SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.007)), 1, Ct)));

        Assert.Single(results, ok => ok);
        Assert.Equal(2, (await bans.HistoryAsync("ban-1", Ct)).Count);
        await Assert.ThrowsAsync<BanConflictException>(() => bans.SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.005)), null, Ct));

        static async Task<bool> Attempt(Func<Task<int>> save)
        {
            try { await save(); return true; }
            catch (BanConflictException) { return false; }
            catch (Npgsql.PostgresException e) when (e.SqlState == "23505") { return false; }
        }
    }

    [Fact]
    public async Task Versions_cannot_be_edited_in_place()
    {
        await new BanStore(Database).SaveAsync(Zone("ban-1", Square(4.90, 52.378, 0.005)), null, Ct);

        await Assert.ThrowsAsync<Npgsql.PostgresException>(async () =>
        {
            await using var cmd = Database.DataSource.CreateCommand("UPDATE ban_version SET legal_basis = 'none'");
            await cmd.ExecuteNonQueryAsync(Ct);
        });
    }

    [Fact]
    public async Task PostGIS_answers_which_bans_are_in_force_at_a_place()
    {
        var bans = new BanStore(Database);
        await bans.SaveAsync(Zone("ban-square", Square(4.90, 52.378, 0.005)), null, Ct);
        await bans.SaveAsync(Zone("ban-circle", Wgs84.CreatePoint(new Coordinate(4.95, 52.36)), radius: 300), null, Ct);
        await bans.SaveAsync(Zone("ban-expired", Square(4.90, 52.378, 0.005)) with { ValidUntil = Samples.Day0.AddDays(1) }, null, Ct);
        var now = Samples.Day0.AddDays(10);

        var inside = await bans.ZonesNearAsync(52.378, 4.90, 0, now, Ct);
        // 0.005° of longitude at 52.4° N ≈ 340 m: a point 0.0065° east of the centre is ~100 m outside the square.
        var outsideEast = await bans.ZonesNearAsync(52.378, 4.9065, 0, now, Ct);
        var nearEast = await bans.ZonesNearAsync(52.378, 4.9065, 150, now, Ct);
        // 250 m north of the circle's centre: inside its 300 m radius.
        var inCircle = await bans.ZonesNearAsync(52.36 + 250 / 111_250.0, 4.95, 0, now, Ct);
        var outCircle = await bans.ZonesNearAsync(52.36 + 350 / 111_250.0, 4.95, 0, now, Ct);

        Assert.Equal(["ban-square"], inside.Select(b => b.BanId));
        Assert.Empty(outsideEast);
        Assert.Equal(["ban-square"], nearEast.Select(b => b.BanId));
        Assert.Equal(["ban-circle"], inCircle.Select(b => b.BanId));
        Assert.Empty(outCircle);

        // The same questions straight in SQL, as an operator's report would ask them.
        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM ban_current WHERE ST_Contains(area, ST_SetSRID(ST_MakePoint(4.90, 52.378), 4326)) AND valid_until > '2026-03-20'"));
        Assert.Equal(1L, await ScalarAsync<long>(
            "SELECT count(*) FROM ban_current WHERE GeometryType(area) = 'POINT' AND ST_DWithin(area::geography, ST_SetSRID(ST_MakePoint(4.95, 52.3626), 4326)::geography, radius_m)"));
        Assert.Equal("ban_version_area", await ScalarAsync<string>(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'ban_version' AND indexdef LIKE '%USING gist (area)%'"));
    }

    [Fact]
    public async Task Invalid_bans_are_refused_and_nothing_is_written()
    {
        var bans = new BanStore(Database);
        var bowTie = Wgs84.CreatePolygon([new(4.0, 52.0), new(4.1, 52.1), new(4.1, 52.0), new(4.0, 52.1), new(4.0, 52.0)]);
        var rd = new GeometryFactory(new PrecisionModel(), 28992).CreatePolygon([new(0, 0), new(10, 0), new(10, 10), new(0, 0)]);

        await Assert.ThrowsAsync<ArgumentException>(() => bans.SaveAsync(Zone("b1", bowTie), null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => bans.SaveAsync(Zone("b2", rd), null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => bans.SaveAsync(Zone("b3", Wgs84.CreatePoint(new Coordinate(4, 52))), null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => bans.SaveAsync(Zone("b4", Square(4.9, 52.3, 0.01)) with { ValidUntil = Samples.Day0 }, null, Ct));
        await Assert.ThrowsAsync<ArgumentException>(() => bans.SaveAsync(
            Zone("b5", Square(4.9, 52.3, 0.01)) with { Kind = BanKind.Contact, Area = null }, null, Ct));

        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM ban"));
    }

    [Fact]
    public async Task A_contact_ban_is_stored_with_its_victim_and_distances()
    {
        var bans = new BanStore(Database);
        await bans.SaveAsync(Zone("ban-c", Square(4.9, 52.3, 0.01)) with
        {
            Kind = BanKind.Contact, Area = null, VictimId = "vic-1", MinDistanceMeters = 500, WarningDistanceMeters = 1000,
        }, null, Ct);

        var ban = await bans.CurrentAsync("ban-c", Ct);

        Assert.Equal(BanKind.Contact, ban!.Kind);
        Assert.Equal(("vic-1", 500.0, 1000.0), (ban.VictimId, ban.MinDistanceMeters!.Value, ban.WarningDistanceMeters!.Value));
        Assert.Equal(["ban-c"], (await bans.ForOffenderAsync("off-1", Samples.Day0.AddDays(1), Ct)).Select(b => b.BanId));
        Assert.Empty(await bans.ForOffenderAsync("off-1", Samples.Day0.AddDays(-1), Ct));
    }
}
