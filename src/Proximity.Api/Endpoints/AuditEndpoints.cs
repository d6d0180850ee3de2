using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Proximity.Api.Audit;
using Proximity.Api.Auth;

namespace Proximity.Api.Endpoints;

public sealed record Me(string User, IReadOnlyList<string> Roles);

public sealed record ClientConfig(string? TileUrl, string? TileAttribution);

/// <summary><c>/api/audit</c>, and the two small endpoints the pages start with.</summary>
public static class AuditEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/audit", Query).WithTags("Audit").RequireAuthorization(Roles.ReadAudit);
        api.MapGet("/me", (HttpContext http) =>
        {
            var c = Caller.From(http);
            return TypedResults.Ok(new Me(c.User, c.Roles.Order(StringComparer.Ordinal).ToList()));
        }).WithTags("Session").RequireAuthorization();
        api.MapGet("/config", (IOptions<ProximityApiOptions> o) => TypedResults.Ok(new ClientConfig(o.Value.TileUrl, o.Value.TileAttribution)))
            .WithTags("Session").AllowAnonymous();
    }

    private static async Task<Ok<IReadOnlyList<AuditRecord>>> Query(string? user, string? subject, string? action,
        DateTimeOffset? from, DateTimeOffset? to, int? limit, HttpContext http, IAuditLog audit)
    {
        var caller = Caller.From(http);
        var result = await audit.QueryAsync(new AuditQuery { User = user, Subject = subject, Action = action, From = from, To = to, Limit = limit ?? 1000 });
        await audit.WriteAsync(caller.User, caller.RoleList, "read-audit", subject ?? "audit/*", http.Request.Query["reason"].FirstOrDefault());
        return TypedResults.Ok(result);
    }
}
