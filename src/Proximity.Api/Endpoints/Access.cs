using Proximity.Api.Alerts;
using Proximity.Api.Audit;
using Proximity.Api.Auth;
using Proximity.Api.Problems;
using Proximity.Api.Registry;
using Proximity.Spatial.Bans;

namespace Proximity.Api.Endpoints;

/// <summary>The data rules that roles alone cannot express: caseloads, routing, open alerts.</summary>
public sealed class Access(IRegistry registry, IAlertDirectory alerts, IAuditLog audit)
{
    /// <summary>The offender, if the caller may see them; 404 when unknown, 403 outside a probation officer's caseload.</summary>
    public async Task<Offender> OffenderAsync(Caller caller, string id)
    {
        var offender = await registry.OffenderAsync(id) ?? throw ApiProblemException.NotFound("offender", id);
        if (!MaySee(caller, offender))
            throw ApiProblemException.Forbidden($"offender '{id}' is not in the caseload of {caller.User}.");
        return offender;
    }

    public static bool MaySee(Caller caller, Offender offender) =>
        !caller.LimitedToCaseload || string.Equals(offender.CaseOfficer, caller.User, StringComparison.Ordinal);

    public async Task<bool> MaySeeAlertAsync(Caller caller, AlertRecord r)
    {
        if (caller.LimitedToPoliceRouting && !r.Alert.Recipients.HasFlag(AlertRecipients.PoliceControlRoom)) return false;
        if (caller.LimitedToCaseload)
            return await registry.OffenderAsync(r.Alert.OffenderId) is { } o && MaySee(caller, o);
        return true;
    }

    public async Task<AlertRecord> AlertAsync(Caller caller, string id)
    {
        var r = await alerts.GetAsync(id) ?? throw ApiProblemException.NotFound("alert", id);
        if (!await MaySeeAlertAsync(caller, r))
            throw ApiProblemException.Forbidden($"alert '{id}' is not routed to {caller.User}'s role or caseload.");
        return r;
    }

    /// <summary>
    /// Offender positions: probation's control room and auditors always, a probation officer for their own
    /// caseload, the police control room only while an alert routed to the police about the offender is open.
    /// </summary>
    public async Task CheckOffenderPositionAsync(Caller caller, string offenderId, string reason)
    {
        await OffenderAsync(caller, offenderId);
        if (caller.LimitedToPoliceRouting && !await alerts.HasOpenAlertAboutOffenderAsync(offenderId, policeRoutedOnly: true))
            await RefuseAsync(caller, $"offender/{offenderId}", reason,
                "The police control room sees an offender's position only while an alert routed to the police about them is open.");
    }

    /// <summary>A victim's live position: control rooms only, and only while an alert about that victim is open.</summary>
    public async Task CheckVictimPositionAsync(Caller caller, string victimId, string reason)
    {
        _ = await registry.VictimAsync(victimId) ?? throw ApiProblemException.NotFound("victim", victimId);
        if (!await VictimPositionVisibleAsync(caller, victimId))
            await RefuseAsync(caller, $"victim/{victimId}", reason,
                "A victim's position is shown only to the control rooms and only while an alert about that victim is open.");
    }

    public async Task<bool> VictimPositionVisibleAsync(Caller caller, string victimId)
    {
        if (!caller.IsControlRoom) return false;
        if (!caller.LimitedToPoliceRouting) return await alerts.HasOpenAlertAboutVictimAsync(victimId);
        var open = await alerts.ListAsync(new AlertFilter { VictimId = victimId, Open = true, Limit = 5000 });
        return open.Any(r => r.Alert.Recipients.HasFlag(AlertRecipients.PoliceControlRoom));
    }

    /// <summary>A refused read of location data is audited too, then refused.</summary>
    private async Task RefuseAsync(Caller caller, string subject, string reason, string detail)
    {
        await audit.WriteAsync(caller.User, caller.RoleList, "position-refused", subject, reason, detail);
        throw ApiProblemException.Forbidden(detail);
    }
}
