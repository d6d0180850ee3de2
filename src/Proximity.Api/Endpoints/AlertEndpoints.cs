using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Proximity.Api.Alerts;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Monitoring;
using Proximity.Api.Positions;
using Proximity.Api.Problems;
using Proximity.Api.Registry;
using Proximity.Spatial.Monitoring;

namespace Proximity.Api.Endpoints;

public sealed record AcknowledgeInput(string? Note);
public sealed record DispatchInput(string? Unit, string? Note);
public sealed record ResolveInput(string? Reason);

/// <summary>An alert with its evidence; victim fixes are removed for callers who may not see the victim's position.</summary>
public sealed record AlertDetail(AlertRecord Record, bool VictimPositionHidden);

public sealed record ZoneOnMap(string BanId, string Kind, JsonElement Area, double WarningBufferMeters);

public sealed record PartyOnMap(string PersonId, PositionRecord? Last, IReadOnlyList<PositionRecord> Track);

/// <summary>Everything the alert view draws: zones, both parties' positions and tracks, distance.</summary>
public sealed record AlertMap(
    string AlertId, IReadOnlyList<ZoneOnMap> Zones, PartyOnMap? Offender, PartyOnMap? Victim, bool VictimPositionHidden,
    double? DistanceMeters, double? MinDistanceMeters, double? WarningDistanceMeters);

/// <summary><c>/api/alerts</c>: list and filter, detail, map, acknowledge / dispatch / resolve, live stream.</summary>
public static class AlertEndpoints
{
    public static readonly TimeSpan StreamHeartbeat = TimeSpan.FromSeconds(15);

    /// <summary>How often the stream looks whether monitoring works (<see cref="IMonitoringStatus"/>).</summary>
    public static readonly TimeSpan MonitoringCheck = TimeSpan.FromSeconds(1);

    public static void Map(IEndpointRouteBuilder api)
    {
        var g = api.MapGroup("/alerts").WithTags("Alerts");
        g.MapGet("/", List).RequireAuthorization(Roles.ReadAlerts);
        g.MapGet("/stream", Stream).RequireAuthorization(Roles.HandleAlerts)
            .Produces(StatusCodes.Status200OK, contentType: "text/event-stream");
        g.MapGet("/{id}", Get).RequireAuthorization(Roles.ReadAlerts);
        g.MapGet("/{id}/map", MapView).RequireAuthorization(Roles.ReadAlerts);
        g.MapPost("/{id}/acknowledge", Acknowledge).RequireAuthorization(Roles.HandleAlerts);
        g.MapPost("/{id}/dispatch", Dispatch).RequireAuthorization(Roles.HandleAlerts);
        g.MapPost("/{id}/resolve", Resolve).RequireAuthorization(Roles.HandleAlerts);
    }

    private static async Task<Ok<List<AlertSummary>>> List(
        AlertState? state, bool? open, AlertSeverity? minSeverity, AlertType? type, string? offenderId, string? victimId,
        DateTimeOffset? from, DateTimeOffset? to, int? limit, HttpContext http, IAlertDirectory alerts, Access access)
    {
        var caller = Caller.From(http);
        var filter = new AlertFilter
        {
            State = state, Open = open, MinSeverity = minSeverity, Type = type, OffenderId = offenderId, VictimId = victimId,
            From = from, To = to, Limit = limit ?? 500,
        };
        var list = new List<AlertSummary>();
        foreach (var r in await alerts.ListAsync(filter))
            if (await access.MaySeeAlertAsync(caller, r)) list.Add(AlertSummary.Of(r));
        return TypedResults.Ok(list);
    }

    private static async Task<Ok<AlertDetail>> Get(string id, HttpContext http, Access access, IAuditLog audit)
    {
        var caller = Caller.From(http);
        string reason = Caller.RequiredReason(http);
        var r = await access.AlertAsync(caller, id);
        bool victimVisible = await VictimEvidenceVisibleAsync(caller, r, access);
        var shown = victimVisible ? r : r with
        {
            Alert = r.Alert with { Evidence = r.Alert.Evidence with { Fixes = r.Alert.Evidence.Fixes.Where(f => f.Role != "victim").ToList() } },
        };
        await audit.WriteAsync(caller.User, caller.RoleList, "read-alert-evidence", $"alert/{id}", reason,
            victimVisible ? "with victim positions" : "victim positions withheld");
        return TypedResults.Ok(new AlertDetail(shown, !victimVisible && r.Alert.Evidence.Fixes.Any(f => f.Role == "victim")));
    }

    private static async Task<Ok<AlertMap>> MapView(string id, HttpContext http, Access access, IRegistry registry, IPositionReader positions, IAuditLog audit, TimeProvider clock)
    {
        var caller = Caller.From(http);
        string reason = Caller.RequiredReason(http);
        var r = await access.AlertAsync(caller, id);
        var a = r.Alert;
        var zones = new List<ZoneOnMap>();
        double? min = null, warn = null;
        foreach (var ban in await registry.BansAsync(a.OffenderId))
        {
            if (ban.Area is { } area) zones.Add(new ZoneOnMap(ban.Id, ban.Type, area, ban.WarningBufferMeters ?? 0));
            if (ban.Id == a.BanId) { min = ban.MinDistanceMeters; warn = ban.WarningDistanceMeters; }
        }
        // The track from shortly before the episode until now (or shortly after it was cleared).
        var from = a.RaisedAt.AddMinutes(-30);
        var to = (a.ClearedAt?.AddMinutes(10) ?? clock.GetUtcNow()).AddSeconds(1);
        PartyOnMap? offender = null, victim = null;
        bool offenderVisible = true;
        try { await access.CheckOffenderPositionAsync(caller, a.OffenderId, reason); }
        catch (ApiProblemException p) when (p.Status == StatusCodes.Status403Forbidden) { offenderVisible = false; }
        if (offenderVisible)
        {
            offender = new PartyOnMap(a.OffenderId, await positions.LastAsync(a.OffenderId), await positions.TrackAsync(a.OffenderId, from, to, 2000));
            await audit.WriteAsync(caller.User, caller.RoleList, "read-track", $"offender/{a.OffenderId}", reason, $"alert {id}");
        }
        bool victimVisible = a.VictimId is { } v && r.IsOpen && await access.VictimPositionVisibleAsync(caller, v);
        if (victimVisible)
        {
            victim = new PartyOnMap(a.VictimId!, await positions.LastAsync(a.VictimId!), await positions.TrackAsync(a.VictimId!, from, to, 2000));
            await audit.WriteAsync(caller.User, caller.RoleList, "read-track", $"victim/{a.VictimId}", reason, $"alert {id}");
        }
        double? distance = offender?.Last is { } o && victim?.Last is { } w
            ? Math.Round(Feasibility.Distance(new(o.Latitude, o.Longitude), new(w.Latitude, w.Longitude)), 1)
            : a.Evidence.DistanceMeters;
        return TypedResults.Ok(new AlertMap(id, zones, offender, victim, a.VictimId is not null && !victimVisible, distance, min, warn));
    }

    private static async Task<Ok<AlertRecord>> Acknowledge(string id, [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] AcknowledgeInput? input,
        HttpContext http, Access access, IAlertDirectory alerts, IAuditLog audit)
    {
        var caller = Caller.From(http);
        await access.AlertAsync(caller, id);
        var r = await alerts.AcknowledgeAsync(id, caller.User, input?.Note);
        await audit.WriteAsync(caller.User, caller.RoleList, "alert-acknowledge", $"alert/{id}", input?.Note);
        return TypedResults.Ok(r);
    }

    private static async Task<Ok<AlertRecord>> Dispatch(string id, DispatchInput input, HttpContext http, Access access, IAlertDirectory alerts, IAuditLog audit)
    {
        var caller = Caller.From(http);
        await access.AlertAsync(caller, id);
        var r = await alerts.DispatchAsync(id, caller.User, input.Unit ?? "");
        await audit.WriteAsync(caller.User, caller.RoleList, "alert-dispatch", $"alert/{id}", input.Note, input.Unit);
        return TypedResults.Ok(r);
    }

    private static async Task<Ok<AlertRecord>> Resolve(string id, ResolveInput input, HttpContext http, Access access, IAlertDirectory alerts, IAuditLog audit)
    {
        var caller = Caller.From(http);
        await access.AlertAsync(caller, id);
        var r = await alerts.ResolveAsync(id, caller.User, input.Reason ?? "");
        await audit.WriteAsync(caller.User, caller.RoleList, "alert-resolve", $"alert/{id}", input.Reason);
        return TypedResults.Ok(r);
    }

    /// <summary>
    /// Server-sent events: first every open alert the caller may see (event <c>snapshot</c>), then each change
    /// (<c>raised</c>, <c>updated</c>, <c>cleared</c>, <c>acknowledged</c>, <c>dispatched</c>, <c>resolved</c>) as an
    /// alert summary; <c>monitoring</c> (a <see cref="MonitoringStatus"/>) after <c>ready</c> and whenever it changes;
    /// a comment line every 15 s keeps proxies from closing an idle stream.
    /// </summary>
    private static async Task Stream(HttpContext http, IAlertDirectory alerts, Access access, IMonitoringStatus monitoring,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
    {
        var caller = Caller.From(http);
        var ct = http.RequestAborted;
        var options = json.Value.SerializerOptions;
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";

        // Subscribe before taking the snapshot, so no change falls between the two.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var changes = alerts.WatchAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        Task<bool>? next = null;
        try
        {
            foreach (var r in (await alerts.ListAsync(new AlertFilter { Open = true, Limit = 5000 })).Reverse())
                if (await access.MaySeeAlertAsync(caller, r)) await WriteAsync(http, "snapshot", AlertSummary.Of(r), options, ct);
            await WriteAsync(http, "ready", new { }, options, ct);
            var shown = monitoring.Current;
            await WriteAsync(http, "monitoring", shown, options, ct);
            long lastWrite = Stopwatch.GetTimestamp(), lastCheck = lastWrite;

            // One timer across turns: a stream busy with alert changes still looks at monitoring and sends keep-alives.
            next = changes.MoveNextAsync().AsTask();
            var tick = Task.Delay(MonitoringCheck, ct);
            while (!ct.IsCancellationRequested)
            {
                var done = await Task.WhenAny(next, tick);
                if (done == tick) tick = Task.Delay(MonitoringCheck, ct);
                if (Stopwatch.GetElapsedTime(lastCheck) >= MonitoringCheck)
                {
                    lastCheck = Stopwatch.GetTimestamp();
                    if (monitoring.Current is var now && now != shown)
                    {
                        shown = now;
                        await WriteAsync(http, "monitoring", shown, options, ct);
                        lastWrite = Stopwatch.GetTimestamp();
                    }
                }
                if (done == next)
                {
                    if (!await next) break;
                    var change = changes.Current;
                    if (await access.MaySeeAlertAsync(caller, change.Record))
                    {
                        await WriteAsync(http, change.Kind, AlertSummary.Of(change.Record), options, ct);
                        lastWrite = Stopwatch.GetTimestamp();
                    }
                    next = changes.MoveNextAsync().AsTask();
                }
                if (Stopwatch.GetElapsedTime(lastWrite) >= StreamHeartbeat)
                {
                    await http.Response.WriteAsync(": keep-alive\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                    lastWrite = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            // An async iterator cannot be disposed while a MoveNext is pending: stop it, let it finish, then dispose.
            await stop.CancelAsync();
            if (next is not null)
            {
                try { await next; }
                catch (OperationCanceledException) { }
            }
            await changes.DisposeAsync();
        }
    }

    private static async Task WriteAsync<T>(HttpContext http, string kind, T data, JsonSerializerOptions options, CancellationToken ct)
    {
        await http.Response.WriteAsync($"event: {kind}\ndata: {JsonSerializer.Serialize(data, options)}\n\n", ct);
        await http.Response.Body.FlushAsync(ct);
    }

    private static async Task<bool> VictimEvidenceVisibleAsync(Caller caller, AlertRecord r, Access access)
    {
        if (r.Alert.VictimId is not { } v) return true;
        if (caller.Is(Roles.Auditor)) return true; // reconstruction for a court, audited with its reason
        return r.IsOpen && await access.VictimPositionVisibleAsync(caller, v);
    }
}
