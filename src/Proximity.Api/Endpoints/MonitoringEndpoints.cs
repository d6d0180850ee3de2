using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Proximity.Api.Auth;
using Proximity.Api.Monitoring;

namespace Proximity.Api.Endpoints;

/// <summary><c>/api/monitoring</c>: whether the live pipeline hears its devices (also pushed on the alert stream).</summary>
public static class MonitoringEndpoints
{
    public static void Map(IEndpointRouteBuilder api) =>
        api.MapGet("/monitoring", (IMonitoringStatus status) => TypedResults.Ok(status.Current))
            .WithTags("Monitoring").RequireAuthorization(Roles.ReadAlerts);
}
