using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Problems;
using Proximity.Api.Registry;

namespace Proximity.Api.Endpoints;

public sealed record DeviceInput(string? Id, DeviceKind? Kind, string? PersonId);

public sealed record AssignInput(string? PersonId);

/// <summary><c>/api/devices</c>: register, assign, rotate secret, retire; health as the live pipeline sees it.</summary>
public static class DeviceEndpoints
{
    public static void Map(IEndpointRouteBuilder api)
    {
        var g = api.MapGroup("/devices").WithTags("Devices");
        g.MapGet("/", async (IRegistry r) => TypedResults.Ok(await r.DevicesAsync())).RequireAuthorization(Roles.ReadDevices);
        g.MapGet("/{id}", async (string id, IRegistry r) => TypedResults.Ok(await r.DeviceAsync(id) ?? throw ApiProblemException.NotFound("device", id)))
            .RequireAuthorization(Roles.ReadDevices);
        g.MapGet("/{id}/health", async (string id, IRegistry r, IDeviceHealth health) =>
            TypedResults.Ok(await health.HealthAsync((await r.DeviceAsync(id) ?? throw ApiProblemException.NotFound("device", id)).Id)))
            .RequireAuthorization(Roles.ReadDevices);
        g.MapPost("/", Register).RequireAuthorization(Roles.WriteRegistry);
        g.MapPost("/{id}/assign", Assign).RequireAuthorization(Roles.WriteRegistry);
        g.MapPost("/{id}/rotate-secret", Rotate).RequireAuthorization(Roles.WriteRegistry);
        g.MapPost("/{id}/retire", Retire).RequireAuthorization(Roles.WriteRegistry);
    }

    private static async Task<Created<DeviceWithSecret>> Register(DeviceInput input, HttpContext http, IRegistry registry, Access access, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        if (input.Kind is null) throw ApiProblemException.Invalid("kind is required (AnkleMonitor or VictimDevice).");
        if (input.PersonId is not null) await CheckPersonAsync(caller, input.PersonId, registry, access);
        var created = await registry.RegisterDeviceAsync(input.Id ?? "", input.Kind.Value, clock.GetUtcNow());
        if (input.PersonId is not null)
            created = created with { Device = await registry.AssignDeviceAsync(created.Device.Id, input.PersonId) };
        await audit.WriteAsync(caller.User, caller.RoleList, "device-register", $"device/{created.Device.Id}", null, created.Device.PersonId);
        return TypedResults.Created($"/api/devices/{created.Device.Id}", created);
    }

    private static async Task<Ok<Device>> Assign(string id, AssignInput input, HttpContext http, IRegistry registry, Access access, IAuditLog audit)
    {
        var caller = Caller.From(http);
        var current = await registry.DeviceAsync(id) ?? throw ApiProblemException.NotFound("device", id);
        if (current.PersonId is not null) await CheckPersonAsync(caller, current.PersonId, registry, access);
        if (input.PersonId is not null) await CheckPersonAsync(caller, input.PersonId, registry, access);
        var device = await registry.AssignDeviceAsync(id, input.PersonId);
        await audit.WriteAsync(caller.User, caller.RoleList, "device-assign", $"device/{id}", null, input.PersonId ?? "unassigned");
        return TypedResults.Ok(device);
    }

    private static async Task<Ok<DeviceWithSecret>> Rotate(string id, HttpContext http, IRegistry registry, Access access, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        await CheckDeviceAsync(caller, id, registry, access);
        var rotated = await registry.RotateSecretAsync(id, clock.GetUtcNow());
        await audit.WriteAsync(caller.User, caller.RoleList, "device-rotate-secret", $"device/{id}", null);
        return TypedResults.Ok(rotated);
    }

    private static async Task<Ok<Device>> Retire(string id, HttpContext http, IRegistry registry, Access access, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        await CheckDeviceAsync(caller, id, registry, access);
        var device = await registry.RetireDeviceAsync(id, clock.GetUtcNow());
        await audit.WriteAsync(caller.User, caller.RoleList, "device-retire", $"device/{id}", null);
        return TypedResults.Ok(device);
    }

    private static async Task CheckDeviceAsync(Caller caller, string id, IRegistry registry, Access access)
    {
        var device = await registry.DeviceAsync(id) ?? throw ApiProblemException.NotFound("device", id);
        if (device.PersonId is not null) await CheckPersonAsync(caller, device.PersonId, registry, access);
    }

    /// <summary>A probation officer changes devices of their own offenders only (victims are not in a caseload).</summary>
    private static async Task CheckPersonAsync(Caller caller, string personId, IRegistry registry, Access access)
    {
        if (await registry.OffenderAsync(personId) is not null) await access.OffenderAsync(caller, personId);
    }
}
