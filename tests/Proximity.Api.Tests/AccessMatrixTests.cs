using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Proximity.Api.Auth;

namespace Proximity.Api.Tests;

/// <summary>Every endpoint × every role (allowed and refused) and unauthenticated.</summary>
public sealed class AccessMatrixTests(CaseFixture fixture) : IClassFixture<CaseFixture>
{
    private const string Anonymous = "anonymous";

    /// <summary>An endpoint: how to call it (with fresh objects where the call changes state) and who may.</summary>
    private sealed record Endpoint(string Method, string Path, string Policy, HttpStatusCode Success, Func<ApiHost, Task<object?>>? Body = null);

    private static readonly Dictionary<string, Endpoint> Endpoints = new()
    {
        ["offenders.list"] = new("GET", "/api/offenders", Roles.ReadPeople, HttpStatusCode.OK),
        ["offenders.get"] = new("GET", "/api/offenders/off-1", Roles.ReadPeople, HttpStatusCode.OK),
        ["offenders.create"] = new("POST", "/api/offenders", Roles.WriteRegistry, HttpStatusCode.Created,
            _ => Task.FromResult<object?>(new { id = Fresh("off"), name = "New Offender" })),
        ["offenders.update"] = new("PUT", "/api/offenders/off-1", Roles.WriteRegistry, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { name = "Jan Jansen" })),
        ["offenders.compliance"] = new("GET", "/api/offenders/off-1/compliance", Roles.ReadAlerts, HttpStatusCode.OK),
        ["offenders.position"] = new("GET", "/api/offenders/off-1/position?reason=matrix", Roles.ReadOffenderPositions, HttpStatusCode.OK),
        ["offenders.track"] = new("GET", "/api/offenders/off-1/track?reason=matrix", Roles.ReadOffenderPositions, HttpStatusCode.OK),
        ["victims.list"] = new("GET", "/api/victims", Roles.ReadPeople, HttpStatusCode.OK),
        ["victims.get"] = new("GET", "/api/victims/vic-1", Roles.ReadPeople, HttpStatusCode.OK),
        ["victims.create"] = new("POST", "/api/victims", Roles.WriteRegistry, HttpStatusCode.Created,
            _ => Task.FromResult<object?>(new { id = Fresh("vic"), name = "New Victim" })),
        ["victims.update"] = new("PUT", "/api/victims/vic-1", Roles.WriteRegistry, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { name = "Anna de Vries" })),
        ["victims.position"] = new("GET", "/api/victims/vic-1/position?reason=matrix", Roles.ReadVictimPositions, HttpStatusCode.OK),
        ["victims.track"] = new("GET", "/api/victims/vic-1/track?reason=matrix", Roles.ReadVictimPositions, HttpStatusCode.OK),
        ["devices.list"] = new("GET", "/api/devices", Roles.ReadDevices, HttpStatusCode.OK),
        ["devices.get"] = new("GET", "/api/devices/dev-o1", Roles.ReadDevices, HttpStatusCode.OK),
        // An API-only host runs no device grains: allowed callers are told it is not known here.
        ["devices.health"] = new("GET", "/api/devices/dev-o1/health", Roles.ReadDevices, HttpStatusCode.ServiceUnavailable),
        ["devices.register"] = new("POST", "/api/devices", Roles.WriteRegistry, HttpStatusCode.Created,
            _ => Task.FromResult<object?>(new { id = Fresh("dev"), kind = "AnkleMonitor", personId = "off-1" })),
        ["devices.assign"] = new("POST", "/api/devices/{device}/assign", Roles.WriteRegistry, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { personId = "off-1" })),
        ["devices.rotate"] = new("POST", "/api/devices/{device}/rotate-secret", Roles.WriteRegistry, HttpStatusCode.OK),
        ["devices.retire"] = new("POST", "/api/devices/{device}/retire", Roles.WriteRegistry, HttpStatusCode.OK),
        ["bans.list"] = new("GET", "/api/bans", Roles.ReadBans, HttpStatusCode.OK),
        ["bans.get"] = new("GET", "/api/bans/ban-c1", Roles.ReadBans, HttpStatusCode.OK),
        ["bans.history"] = new("GET", "/api/bans/ban-c1/history", Roles.ReadBans, HttpStatusCode.OK),
        ["bans.create"] = new("POST", "/api/bans", Roles.WriteRegistry, HttpStatusCode.Created,
            _ => Task.FromResult<object?>(Seed.ZoneBan() with { Id = Fresh("ban") })),
        ["bans.amend"] = new("PUT", "/api/bans/{ban}", Roles.WriteRegistry, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(Seed.ZoneBan() with { WarningBufferMeters = 300, Note = "court amended the buffer" })),
        ["bans.end"] = new("POST", "/api/bans/{ban}/end", Roles.WriteRegistry, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { reason = "order revoked" })),
        ["bans.feasibility"] = new("POST", "/api/bans/feasibility", Roles.WriteRegistry, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(Seed.ContactBan())),
        ["alerts.list"] = new("GET", "/api/alerts", Roles.ReadAlerts, HttpStatusCode.OK),
        ["alerts.get"] = new("GET", "/api/alerts/{alert}?reason=matrix", Roles.ReadAlerts, HttpStatusCode.OK),
        ["alerts.map"] = new("GET", "/api/alerts/{alert}/map?reason=matrix", Roles.ReadAlerts, HttpStatusCode.OK),
        ["alerts.acknowledge"] = new("POST", "/api/alerts/{alert}/acknowledge", Roles.HandleAlerts, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { note = "seen" })),
        ["alerts.dispatch"] = new("POST", "/api/alerts/{alert}/dispatch", Roles.HandleAlerts, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { unit = "AM-12" })),
        ["alerts.resolve"] = new("POST", "/api/alerts/{alert}/resolve", Roles.HandleAlerts, HttpStatusCode.OK,
            _ => Task.FromResult<object?>(new { reason = "offender left; victim safe" })),
        ["alerts.stream"] = new("GET", "/api/alerts/stream", Roles.HandleAlerts, HttpStatusCode.OK),
        ["monitoring"] = new("GET", "/api/monitoring", Roles.ReadAlerts, HttpStatusCode.OK),
        ["lookup.person"] = new("GET", "/api/lookup/person/off-1", Roles.StreetLookup, HttpStatusCode.OK),
        ["lookup.place"] = new("GET", "/api/lookup/place?lat=52.37&lon=4.89", Roles.StreetLookup, HttpStatusCode.OK),
        ["audit"] = new("GET", "/api/audit", Roles.ReadAudit, HttpStatusCode.OK),
    };

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints.Keys)
            foreach (var role in Roles.All.Append(Anonymous))
                data.Add(endpoint, role);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Endpoint_allows_exactly_its_roles(string endpoint, string role)
    {
        var host = fixture.Host;
        var e = Endpoints[endpoint];
        string path = e.Path;
        if (path.Contains("{alert}", StringComparison.Ordinal))
            path = path.Replace("{alert}", Uri.EscapeDataString(await Seed.RaiseAsync(host, Fresh("alert"), police: true)), StringComparison.Ordinal);
        if (path.Contains("{device}", StringComparison.Ordinal))
        {
            string id = Fresh("dev");
            await host.Registry.RegisterDeviceAsync(id, Registry.DeviceKind.AnkleMonitor, DateTimeOffset.UtcNow);
            await host.Registry.AssignDeviceAsync(id, "off-1");
            path = path.Replace("{device}", id, StringComparison.Ordinal);
        }
        if (path.Contains("{ban}", StringComparison.Ordinal))
        {
            string id = Fresh("ban");
            await host.Registry.CreateBanAsync(Registry.BanFactory.Build(id, 1, Seed.ZoneBan(), "po1", DateTimeOffset.UtcNow));
            path = path.Replace("{ban}", id, StringComparison.Ordinal);
        }

        using var client = host.Client(role == Anonymous ? null : role);
        using var request = new HttpRequestMessage(new HttpMethod(e.Method), path);
        if (e.Body is not null) request.Content = JsonContent.Create(await e.Body(host));
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        var expected = role == Anonymous ? HttpStatusCode.Unauthorized
            : Roles.Policies[e.Policy].Contains(role) ? e.Success
            : HttpStatusCode.Forbidden;
        string body = expected == HttpStatusCode.OK && endpoint == "alerts.stream" ? "" : await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(expected == response.StatusCode, $"{e.Method} {path} as {role}: expected {(int)expected}, got {(int)response.StatusCode} {body}");
        if (expected is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (endpoint == "alerts.stream" && expected == HttpStatusCode.OK)
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public void Every_mapped_api_endpoint_is_in_the_matrix()
    {
        var mapped = fixture.Host.App.Services.GetServices<Microsoft.AspNetCore.Routing.EndpointDataSource>()
            .SelectMany(s => s.Endpoints).OfType<Microsoft.AspNetCore.Routing.RouteEndpoint>()
            .Where(r => r.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .Select(r => $"{r.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods[0]} {Normalize(r.RoutePattern.RawText!)}")
            .Where(s => !s.EndsWith(" /api/me", StringComparison.Ordinal) && !s.EndsWith(" /api/config", StringComparison.Ordinal))
            .ToHashSet();
        var covered = Endpoints.Values.Select(e => $"{e.Method} {Normalize(e.Path.Split('?')[0])}").ToHashSet();
        Assert.Empty(mapped.Except(covered));
    }

    [Fact]
    public async Task Me_needs_a_token_and_config_does_not()
    {
        using var anonymous = fixture.Host.Client(null);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/me", TestContext.Current.CancellationToken)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/api/config", TestContext.Current.CancellationToken)).StatusCode);
        foreach (var role in Roles.All)
        {
            using var client = fixture.Host.Client(role, "someone");
            var me = await client.GetFromJsonAsync<Endpoints.Me>("/api/me", TestContext.Current.CancellationToken);
            Assert.Equal("someone", me!.User);
            Assert.Equal([role], me.Roles);
        }
    }

    private static string Fresh(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Route parameters and concrete ids both become '*', trailing slashes go.</summary>
    private static string Normalize(string path) => "/" + string.Join('/', path.Trim('/').Split('/').Select(seg =>
        seg.StartsWith('{') || seg.Contains('-', StringComparison.Ordinal) || seg.Contains('%', StringComparison.Ordinal) ? "*" : seg));
}
