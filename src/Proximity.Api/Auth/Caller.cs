using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Proximity.Api.Problems;

namespace Proximity.Api.Auth;

/// <summary>Who is calling, read from the validated token.</summary>
public sealed record Caller(string User, IReadOnlySet<string> Roles)
{
    public static Caller From(HttpContext http)
    {
        var p = http.User;
        string user = p.FindFirstValue("sub") ?? p.FindFirstValue(ClaimTypes.NameIdentifier) ?? p.FindFirstValue("name") ?? "?";
        var roles = p.Claims.Where(c => c.Type is "role" or ClaimTypes.Role).Select(c => c.Value).ToHashSet(StringComparer.Ordinal);
        return new Caller(user, roles);
    }

    public bool Is(string role) => Roles.Contains(role);

    public bool IsControlRoom => Is(Auth.Roles.MonitoringCentre) || Is(Auth.Roles.PoliceControlRoom);

    /// <summary>A probation officer who holds no wider role is limited to the offenders of their own caseload.</summary>
    public bool LimitedToCaseload => Is(Auth.Roles.ProbationOfficer) && !Roles.Any(r => r is Auth.Roles.MonitoringCentre
        or Auth.Roles.PoliceControlRoom or Auth.Roles.Auditor or Auth.Roles.Admin);

    /// <summary>A police control room without probation's role sees only alerts routed to the police.</summary>
    public bool LimitedToPoliceRouting => Is(Auth.Roles.PoliceControlRoom) && !Is(Auth.Roles.MonitoringCentre)
        && !Is(Auth.Roles.Auditor);

    public string RoleList => string.Join(",", Roles.Order(StringComparer.Ordinal));

    /// <summary>The reason for reading location data: query <c>reason</c> or header <c>X-Reason</c>; required.</summary>
    public static string RequiredReason(HttpContext http)
    {
        string? reason = http.Request.Query["reason"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(reason)) reason = http.Request.Headers["X-Reason"].FirstOrDefault();
        if (string.IsNullOrWhiteSpace(reason))
            throw new ApiProblemException(StatusCodes.Status400BadRequest, "Reason required",
                "Reading location data requires a reason: give the query parameter 'reason' or the header 'X-Reason'.");
        reason = reason.Trim();
        if (reason.Length > 500) throw new ApiProblemException(StatusCodes.Status400BadRequest, "Reason too long", "A reason has at most 500 characters.");
        return reason;
    }
}
