using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace Proximity.Server.Health;

/// <summary>
/// The health endpoints of the configuration contract, as container platforms probe them:
/// <c>/health/live</c> answers 200 while the process serves HTTP (a failed dependency must not get the
/// node restarted), <c>/health/ready</c> runs every registered check (ingest, database, cluster) and
/// answers 503 while one fails, so load balancers and rolling updates wait for the node.
/// </summary>
public static class HealthEndpoints
{
    public const string LivePath = "/health/live";
    public const string ReadyPath = "/health/ready";

    public static IEndpointRouteBuilder MapProximityHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks(LivePath, new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks(ReadyPath);
        return endpoints;
    }
}
