using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Proximity.Api.Alerts;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Problems;
using Proximity.Api.Registry;

namespace Proximity.Api.Endpoints;

public sealed record OffenderInput(string? Id, string? Name, string? CaseOfficer, Place? Home, Place? Work, int? ExpectedVersion);

public sealed record VictimInput(string? Id, string? Name, Place? Home, Place? Work, int? ExpectedVersion);

public sealed record AlertSummary(
    string Id, string Type, string Severity, AlertState State, string OffenderId, string? VictimId, string? BanId,
    DateTimeOffset RaisedAt, DateTimeOffset DecidedAt, DateTimeOffset ReceivedAt, DateTimeOffset? ClearedAt,
    string Summary, double? DistanceMeters, bool Late, long Revision)
{
    public static AlertSummary Of(AlertRecord r) => new(r.Alert.Id, r.Alert.Type.ToString(), r.Alert.Severity.ToString(), r.State,
        r.Alert.OffenderId, r.Alert.VictimId, r.Alert.BanId, r.Alert.RaisedAt, r.Alert.DecidedAt, r.ReceivedAt, r.Alert.ClearedAt,
        r.Alert.Evidence.Summary, r.Alert.Evidence.DistanceMeters, r.Alert.Late, r.Revision);
}

public sealed record ComplianceReport(
    string OffenderId, IReadOnlyList<BanRecord> BanVersions, IReadOnlyList<AlertSummary> Alerts, IReadOnlyDictionary<string, int> AlertsByType);

/// <summary><c>/api/offenders</c> and <c>/api/victims</c>.</summary>
public static class PeopleEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var offenders = api.MapGroup("/offenders").WithTags("Offenders");
        offenders.MapGet("/", ListOffenders).RequireAuthorization(Roles.ReadPeople);
        offenders.MapGet("/{id}", GetOffender).RequireAuthorization(Roles.ReadPeople);
        offenders.MapPost("/", CreateOffender).RequireAuthorization(Roles.WriteRegistry);
        offenders.MapPut("/{id}", UpdateOffender).RequireAuthorization(Roles.WriteRegistry);
        offenders.MapGet("/{id}/compliance", Compliance).RequireAuthorization(Roles.ReadAlerts);

        var victims = api.MapGroup("/victims").WithTags("Victims");
        victims.MapGet("/", ListVictims).RequireAuthorization(Roles.ReadPeople);
        victims.MapGet("/{id}", GetVictim).RequireAuthorization(Roles.ReadPeople);
        victims.MapPost("/", CreateVictim).RequireAuthorization(Roles.WriteRegistry);
        victims.MapPut("/{id}", UpdateVictim).RequireAuthorization(Roles.WriteRegistry);
    }

    private static async Task<Ok<IReadOnlyList<Offender>>> ListOffenders(HttpContext http, IRegistry registry)
    {
        var caller = Caller.From(http);
        var all = await registry.OffendersAsync();
        return TypedResults.Ok<IReadOnlyList<Offender>>(all.Where(o => Access.MaySee(caller, o)).ToList());
    }

    private static async Task<Ok<Offender>> GetOffender(string id, HttpContext http, Access access) =>
        TypedResults.Ok(await access.OffenderAsync(Caller.From(http), id));

    private static async Task<Created<Offender>> CreateOffender(OffenderInput input, HttpContext http, IRegistry registry, IAuditLog audit)
    {
        var caller = Caller.From(http);
        var caseOfficer = input.CaseOfficer;
        if (caller.LimitedToCaseload)
        {
            // A probation officer registers into their own caseload; moving a case is for the Admin.
            if (caseOfficer is not null && caseOfficer != caller.User)
                throw ApiProblemException.Forbidden("a probation officer can only register offenders into their own caseload.");
            caseOfficer = caller.User;
        }
        var saved = await registry.SaveOffenderAsync(new Offender
        {
            Id = input.Id ?? "", Name = input.Name ?? "", CaseOfficer = caseOfficer, Home = input.Home, Work = input.Work,
        }, expectedVersion: 0);
        await audit.WriteAsync(caller.User, caller.RoleList, "offender-create", $"offender/{saved.Id}", null);
        return TypedResults.Created($"/api/offenders/{saved.Id}", saved);
    }

    private static async Task<Ok<Offender>> UpdateOffender(string id, OffenderInput input, HttpContext http, IRegistry registry, Access access, IAuditLog audit)
    {
        var caller = Caller.From(http);
        var current = await access.OffenderAsync(caller, id);
        if (input.Id is not null && input.Id != id) throw ApiProblemException.Invalid("the id in the body differs from the id in the path.");
        var caseOfficer = input.CaseOfficer ?? current.CaseOfficer;
        if (caller.LimitedToCaseload && caseOfficer != caller.User)
            throw ApiProblemException.Forbidden("a probation officer cannot move an offender to another caseload.");
        var saved = await registry.SaveOffenderAsync(current with
        {
            Name = input.Name ?? current.Name, CaseOfficer = caseOfficer, Home = input.Home ?? current.Home, Work = input.Work ?? current.Work,
        }, input.ExpectedVersion ?? current.Version);
        await audit.WriteAsync(caller.User, caller.RoleList, "offender-update", $"offender/{id}", null, $"version {saved.Version}");
        return TypedResults.Ok(saved);
    }

    private static async Task<Ok<ComplianceReport>> Compliance(string id, HttpContext http, Access access, IRegistry registry, IAlertDirectory alerts, IAuditLog audit)
    {
        var caller = Caller.From(http);
        await access.OffenderAsync(caller, id);
        var versions = new List<BanRecord>();
        foreach (var ban in await registry.BansAsync(id)) versions.AddRange(await registry.BanHistoryAsync(ban.Id));
        var list = new List<AlertSummary>();
        foreach (var r in await alerts.ListAsync(new AlertFilter { OffenderId = id, Limit = 5000 }))
            if (await access.MaySeeAlertAsync(caller, r)) list.Add(AlertSummary.Of(r));
        await audit.WriteAsync(caller.User, caller.RoleList, "read-compliance", $"offender/{id}", http.Request.Query["reason"].FirstOrDefault());
        return TypedResults.Ok(new ComplianceReport(id, versions, list,
            list.GroupBy(a => a.Type).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal)));
    }

    private static async Task<Ok<IReadOnlyList<Victim>>> ListVictims(IRegistry registry) => TypedResults.Ok(await registry.VictimsAsync());

    private static async Task<Ok<Victim>> GetVictim(string id, IRegistry registry) =>
        TypedResults.Ok(await registry.VictimAsync(id) ?? throw ApiProblemException.NotFound("victim", id));

    private static async Task<Created<Victim>> CreateVictim(VictimInput input, HttpContext http, IRegistry registry, IAuditLog audit)
    {
        var caller = Caller.From(http);
        var saved = await registry.SaveVictimAsync(new Victim { Id = input.Id ?? "", Name = input.Name ?? "", Home = input.Home, Work = input.Work }, 0);
        await audit.WriteAsync(caller.User, caller.RoleList, "victim-create", $"victim/{saved.Id}", null);
        return TypedResults.Created($"/api/victims/{saved.Id}", saved);
    }

    private static async Task<Ok<Victim>> UpdateVictim(string id, VictimInput input, HttpContext http, IRegistry registry, IAuditLog audit)
    {
        var caller = Caller.From(http);
        var current = await registry.VictimAsync(id) ?? throw ApiProblemException.NotFound("victim", id);
        if (input.Id is not null && input.Id != id) throw ApiProblemException.Invalid("the id in the body differs from the id in the path.");
        var saved = await registry.SaveVictimAsync(current with
        {
            Name = input.Name ?? current.Name, Home = input.Home ?? current.Home, Work = input.Work ?? current.Work,
        }, input.ExpectedVersion ?? current.Version);
        await audit.WriteAsync(caller.User, caller.RoleList, "victim-update", $"victim/{id}", null, $"version {saved.Version}");
        return TypedResults.Ok(saved);
    }
}
