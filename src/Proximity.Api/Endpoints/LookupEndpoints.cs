using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Positions;
using Proximity.Api.Problems;
using Proximity.Api.Registry;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;

namespace Proximity.Api.Endpoints;

/// <summary>A protected person as street police see them: no address, no position.</summary>
public sealed record ProtectedPerson(string Id, string Name);

public sealed record PersonRef(string Id, string Name, string Role);

public sealed record BanForPolice(
    string Id, int Version, string Type, PersonRef Offender, ProtectedPerson? ProtectedPerson, LegalBasis LegalBasis,
    string IssuingAuthority, string CaseReference, DateTimeOffset? ValidFrom, DateTimeOffset? ValidUntil,
    IReadOnlyList<ScheduleWindowDto>? Schedule, bool InForceNow, double? MinDistanceMeters, JsonElement? Area,
    int MonitoringLevel, IReadOnlyList<string> Routing);

public sealed record PersonLookup(PersonRef Person, DateTimeOffset At, bool MonitoringLive, DateTimeOffset? LastPositionAt,
    IReadOnlyList<BanForPolice> Bans);

public sealed record PlaceBan(BanForPolice Ban, bool Inside, double? BoundaryDistanceMeters);

public sealed record PlaceLookup(double Latitude, double Longitude, DateTimeOffset At, IReadOnlyList<PlaceBan> Bans);

/// <summary>Street lookup for police: by person and by place; every lookup is audited.</summary>
public static class LookupEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var g = api.MapGroup("/lookup").WithTags("Street lookup");
        g.MapGet("/person/{id}", Person).RequireAuthorization(Roles.StreetLookup);
        g.MapGet("/place", Place).RequireAuthorization(Roles.StreetLookup);
    }

    private static async Task<Ok<PersonLookup>> Person(string id, HttpContext http, IRegistry registry, IPositionReader positions,
        IAuditLog audit, TimeProvider clock, IOptions<ProximityApiOptions> options)
    {
        var caller = Caller.From(http);
        var now = clock.GetUtcNow();
        var all = await registry.BansAsync();
        PersonRef person;
        List<BanRecord> bans;
        if (await registry.OffenderAsync(id) is { } o)
        {
            person = new PersonRef(o.Id, o.Name, "offender");
            bans = all.Where(b => b.OffenderId == id && Current(b, now)).ToList();
        }
        else if (await registry.VictimAsync(id) is { } v)
        {
            person = new PersonRef(v.Id, v.Name, "victim");
            bans = all.Where(b => b.VictimId == id && Current(b, now)).ToList();
        }
        else throw ApiProblemException.NotFound("person", id);

        await audit.WriteAsync(caller.User, caller.RoleList, "lookup-person", $"{person.Role}/{id}", http.Request.Query["reason"].FirstOrDefault());
        DateTimeOffset? last = null;
        bool live = false;
        if (person.Role == "offender")
        {
            // Whether monitoring is live, not where: the time of the last fix only.
            last = (await positions.LastAsync(id))?.ReceivedAt;
            var devices = await registry.DevicesAsync();
            live = devices.Any(d => d.PersonId == id && d.Status == DeviceStatus.Active && d.Kind == DeviceKind.AnkleMonitor)
                && last is { } l && now - l <= options.Value.LiveWindow;
        }
        var shown = new List<BanForPolice>();
        foreach (var b in bans) shown.Add(await ForPoliceAsync(b, registry, now));
        return TypedResults.Ok(new PersonLookup(person, now, live, last, shown));
    }

    private static async Task<Ok<PlaceLookup>> Place(double? lat, double? lon, HttpContext http, IRegistry registry, BanPlaceIndex index, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        if (lat is null || lon is null) throw ApiProblemException.Invalid("lat and lon are required (WGS84 degrees).");
        var point = new GeoPoint(lat.Value, lon.Value);
        if (point.Problem() is { } problem) throw ApiProblemException.Invalid(problem + ".");
        var now = clock.GetUtcNow();
        await audit.WriteAsync(caller.User, caller.RoleList, "lookup-place", FormattableString.Invariant($"place/{lat:F5},{lon:F5}"),
            http.Request.Query["reason"].FirstOrDefault());
        var hits = new List<PlaceBan>();
        foreach (var (b, inside) in await index.QueryAsync(point, now))
        {
            var at = Feasibility.Locate(((ZoneBan)b.Core).Area, point, Math.Max(b.WarningBufferMeters ?? 0, 1));
            hits.Add(new PlaceBan(await ForPoliceAsync(b, registry, now), inside,
                double.IsFinite(at.BoundaryDistanceMeters) ? Math.Round(at.BoundaryDistanceMeters, 1) : null));
        }
        return TypedResults.Ok(new PlaceLookup(lat.Value, lon.Value, now, hits));
    }

    private static bool Current(BanRecord b, DateTimeOffset now) =>
        b.Status == BanStatus.Active && (b.ValidUntil is not { } u || u > now);

    private static async Task<BanForPolice> ForPoliceAsync(BanRecord b, IRegistry registry, DateTimeOffset now)
    {
        var offender = await registry.OffenderAsync(b.OffenderId);
        var victim = b.VictimId is { } v ? await registry.VictimAsync(v) : null;
        return new BanForPolice(b.Id, b.Version, b.Type, new PersonRef(b.OffenderId, offender?.Name ?? "?", "offender"),
            victim is null ? null : new ProtectedPerson(victim.Id, victim.Name), b.LegalBasis, b.IssuingAuthority, b.CaseReference,
            b.ValidFrom, b.ValidUntil, b.Schedule, b.Core.IsInForce(now), b.MinDistanceMeters, b.Area, b.MonitoringLevel, b.Routing);
    }
}
