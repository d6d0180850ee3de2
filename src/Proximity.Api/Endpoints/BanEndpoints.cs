using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Problems;
using Proximity.Api.Registry;

namespace Proximity.Api.Endpoints;

public sealed record EndBanInput(DateTimeOffset? At, string? Reason);

/// <summary><c>/api/bans</c>: draft (feasibility), create, amend (new version), end; history kept.</summary>
public static class BanEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var g = api.MapGroup("/bans").WithTags("Bans");
        g.MapGet("/", List).RequireAuthorization(Roles.ReadBans);
        g.MapGet("/{id}", Get).RequireAuthorization(Roles.ReadBans);
        g.MapGet("/{id}/history", History).RequireAuthorization(Roles.ReadBans);
        g.MapPost("/", Create).RequireAuthorization(Roles.WriteRegistry);
        g.MapPut("/{id}", Amend).RequireAuthorization(Roles.WriteRegistry);
        g.MapPost("/{id}/end", End).RequireAuthorization(Roles.WriteRegistry);
        g.MapPost("/feasibility", Check).RequireAuthorization(Roles.WriteRegistry);
    }

    private static async Task<Ok<List<BanRecord>>> List(string? offenderId, HttpContext http, IRegistry registry)
    {
        var caller = Caller.From(http);
        var bans = await registry.BansAsync(offenderId);
        var visible = new List<BanRecord>();
        foreach (var b in bans)
            if (!caller.LimitedToCaseload || (await registry.OffenderAsync(b.OffenderId) is { } o && Access.MaySee(caller, o)))
                visible.Add(b);
        return TypedResults.Ok(visible);
    }

    private static async Task<Ok<BanRecord>> Get(string id, HttpContext http, IRegistry registry, Access access) =>
        TypedResults.Ok(await VisibleBanAsync(Caller.From(http), id, registry, access));

    private static async Task<Ok<IReadOnlyList<BanRecord>>> History(string id, HttpContext http, IRegistry registry, Access access)
    {
        await VisibleBanAsync(Caller.From(http), id, registry, access);
        return TypedResults.Ok(await registry.BanHistoryAsync(id));
    }

    private static async Task<Created<BanRecord>> Create(BanRequest request, HttpContext http, IRegistry registry, Access access, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        if (!string.IsNullOrWhiteSpace(request.OffenderId)) await access.OffenderAsync(caller, request.OffenderId);
        string id = request.Id is { Length: > 0 } given ? given : "ban-" + Guid.NewGuid().ToString("N")[..12];
        RegistryRules.CheckId(id, "ban");
        var record = BanFactory.Build(id, 1, request, caller.User, clock.GetUtcNow());
        var saved = await registry.CreateBanAsync(record);
        await audit.WriteAsync(caller.User, caller.RoleList, "ban-create", $"ban/{id}", null, $"offender {saved.OffenderId}, version 1");
        return TypedResults.Created($"/api/bans/{id}", saved);
    }

    private static async Task<Ok<BanRecord>> Amend(string id, BanRequest request, int? expectedVersion, HttpContext http, IRegistry registry, Access access, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        var current = await VisibleBanAsync(caller, id, registry, access);
        if (!string.IsNullOrWhiteSpace(request.OffenderId) && request.OffenderId != current.OffenderId)
            await access.OffenderAsync(caller, request.OffenderId);
        if (expectedVersion is { } e && e != current.Version)
            throw ApiProblemException.Conflict($"ban '{id}' is at version {current.Version}, not {e}; reload and try again.");
        var next = BanFactory.Build(id, current.Version + 1, request, caller.User, clock.GetUtcNow());
        var saved = await registry.AppendBanVersionAsync(next);
        await audit.WriteAsync(caller.User, caller.RoleList, "ban-amend", $"ban/{id}", request.Note, $"version {saved.Version}");
        return TypedResults.Ok(saved);
    }

    private static async Task<Ok<BanRecord>> End(string id, EndBanInput input, HttpContext http, IRegistry registry, Access access, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        if (string.IsNullOrWhiteSpace(input.Reason)) throw ApiProblemException.Invalid("reason is required to end a ban (for example: order expired, revoked by the court).");
        var current = await VisibleBanAsync(caller, id, registry, access);
        var now = clock.GetUtcNow();
        var saved = await registry.AppendBanVersionAsync(BanFactory.Ended(current, input.At ?? now, input.Reason.Trim(), caller.User, now));
        await audit.WriteAsync(caller.User, caller.RoleList, "ban-end", $"ban/{id}", input.Reason, $"version {saved.Version}, until {saved.ValidUntil:O}");
        return TypedResults.Ok(saved);
    }

    private static async Task<Ok<FeasibilityResult>> Check(BanRequest request, HttpContext http, IRegistry registry, Access access, TimeProvider clock)
    {
        var caller = Caller.From(http);
        if (string.IsNullOrWhiteSpace(request.OffenderId)) throw ApiProblemException.Invalid("offenderId is required.");
        var offender = await access.OffenderAsync(caller, request.OffenderId);
        var draft = BanFactory.Build("draft", 1, request, caller.User, clock.GetUtcNow());
        var victim = draft.VictimId is { } v ? await registry.VictimAsync(v) ?? throw ApiProblemException.Invalid($"victim '{v}' is not registered.") : null;
        return TypedResults.Ok(Feasibility.Check(draft, offender, victim, await registry.BansAsync(offender.Id)));
    }

    private static async Task<BanRecord> VisibleBanAsync(Caller caller, string id, IRegistry registry, Access access)
    {
        var ban = await registry.BanAsync(id) ?? throw ApiProblemException.NotFound("ban", id);
        if (caller.LimitedToCaseload) await access.OffenderAsync(caller, ban.OffenderId);
        return ban;
    }
}
