using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Positions;
using Proximity.Api.Problems;

namespace Proximity.Api.Endpoints;

public sealed record Track(string PersonId, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<PositionRecord> Positions);

/// <summary>
/// Position and track reads. Each needs a reason (query <c>reason</c> or header <c>X-Reason</c>) and writes an
/// audit record before any position leaves the server.
/// </summary>
public static class PositionEndpoints
{
    public static readonly TimeSpan DefaultTrackWindow = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxTrackWindow = TimeSpan.FromDays(31);

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/offenders/{id}/position", OffenderPosition).WithTags("Positions").RequireAuthorization(Roles.ReadOffenderPositions);
        api.MapGet("/offenders/{id}/track", OffenderTrack).WithTags("Positions").RequireAuthorization(Roles.ReadOffenderPositions);
        api.MapGet("/victims/{id}/position", VictimPosition).WithTags("Positions").RequireAuthorization(Roles.ReadVictimPositions);
        api.MapGet("/victims/{id}/track", VictimTrack).WithTags("Positions").RequireAuthorization(Roles.ReadVictimPositions);
    }

    private static async Task<Results<Ok<PositionRecord>, NoContent>> OffenderPosition(string id, HttpContext http, Access access, IPositionReader positions, IAuditLog audit)
    {
        var caller = Caller.From(http);
        string reason = Caller.RequiredReason(http);
        await access.CheckOffenderPositionAsync(caller, id, reason);
        await audit.WriteAsync(caller.User, caller.RoleList, "read-position", $"offender/{id}", reason);
        return await positions.LastAsync(id) is { } p ? TypedResults.Ok(p) : TypedResults.NoContent();
    }

    private static async Task<Ok<Track>> OffenderTrack(string id, DateTimeOffset? from, DateTimeOffset? to, HttpContext http, Access access, IPositionReader positions, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        string reason = Caller.RequiredReason(http);
        var (f, t) = Window(from, to, clock);
        await access.CheckOffenderPositionAsync(caller, id, reason);
        await audit.WriteAsync(caller.User, caller.RoleList, "read-track", $"offender/{id}", reason, $"{f:O}..{t:O}");
        return TypedResults.Ok(new Track(id, f, t, await positions.TrackAsync(id, f, t, 10_000)));
    }

    private static async Task<Results<Ok<PositionRecord>, NoContent>> VictimPosition(string id, HttpContext http, Access access, IPositionReader positions, IAuditLog audit)
    {
        var caller = Caller.From(http);
        string reason = Caller.RequiredReason(http);
        await access.CheckVictimPositionAsync(caller, id, reason);
        await audit.WriteAsync(caller.User, caller.RoleList, "read-position", $"victim/{id}", reason);
        return await positions.LastAsync(id) is { } p ? TypedResults.Ok(p) : TypedResults.NoContent();
    }

    private static async Task<Ok<Track>> VictimTrack(string id, DateTimeOffset? from, DateTimeOffset? to, HttpContext http, Access access, IPositionReader positions, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        string reason = Caller.RequiredReason(http);
        var (f, t) = Window(from, to, clock);
        await access.CheckVictimPositionAsync(caller, id, reason);
        await audit.WriteAsync(caller.User, caller.RoleList, "read-track", $"victim/{id}", reason, $"{f:O}..{t:O}");
        return TypedResults.Ok(new Track(id, f, t, await positions.TrackAsync(id, f, t, 10_000)));
    }

    private static (DateTimeOffset From, DateTimeOffset To) Window(DateTimeOffset? from, DateTimeOffset? to, TimeProvider clock)
    {
        var t = to ?? clock.GetUtcNow().AddSeconds(1);
        var f = from ?? t - DefaultTrackWindow;
        if (f >= t) throw ApiProblemException.Invalid("from must be before to.");
        if (t - f > MaxTrackWindow) throw ApiProblemException.Invalid($"a track covers at most {MaxTrackWindow.TotalDays:F0} days.");
        return (f, t);
    }
}
