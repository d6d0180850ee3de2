using System.Text.Json;
using Proximity.Api.Registry;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Decisions;
using Proximity.Spatial.Monitoring;

namespace Proximity.Api.Tests;

/// <summary>
/// A small case in Amsterdam: offender off-1 (caseload of po1) with a contact ban against vic-1 (routed to the
/// police) and an exclusion zone around the victim's home; off-2 belongs to po2.
/// </summary>
public static class Seed
{
    public static readonly Place VictimHome = new(52.3700, 4.8900, "victim home");
    public static readonly Place OffenderHome = new(52.3000, 4.9500, "offender home");
    public static readonly DateTimeOffset T0 = DateTimeOffset.UtcNow.AddMinutes(-20);

    /// <summary>A ~600 m square around the victim's home.</summary>
    public const string VictimZone = """{"type":"Polygon","coordinates":[[[4.8855,52.3673],[4.8945,52.3673],[4.8945,52.3727],[4.8855,52.3727],[4.8855,52.3673]]]}""";

    public static async Task CaseAsync(ApiHost host)
    {
        var r = host.Registry;
        await r.SaveOffenderAsync(new Offender { Id = "off-1", Name = "Jan Jansen", CaseOfficer = "po1", Home = OffenderHome }, 0);
        await r.SaveOffenderAsync(new Offender { Id = "off-2", Name = "Piet Pietersen", CaseOfficer = "po2" }, 0);
        await r.SaveVictimAsync(new Victim { Id = "vic-1", Name = "Anna de Vries", Home = VictimHome }, 0);
        await r.RegisterDeviceAsync("dev-o1", DeviceKind.AnkleMonitor, T0);
        await r.AssignDeviceAsync("dev-o1", "off-1");
        await r.RegisterDeviceAsync("dev-v1", DeviceKind.VictimDevice, T0);
        await r.AssignDeviceAsync("dev-v1", "vic-1");
        await r.CreateBanAsync(BanFactory.Build("ban-c1", 1, ContactBan(), "po1", T0));
        await r.CreateBanAsync(BanFactory.Build("ban-z1", 1, ZoneBan(), "po1", T0));
        for (int i = 0; i < 10; i++)
        {
            host.Positions.Record("off-1", new PositionFix("dev-o1", i, T0.AddMinutes(i), 52.3500 + i * 0.001, 4.8900, 12), T0.AddMinutes(i));
            host.Positions.Record("vic-1", new PositionFix("dev-v1", i, T0.AddMinutes(i), 52.3600, 4.8900, 8), T0.AddMinutes(i));
        }
        await RaiseAsync(host, "seed-alert", police: true);
    }

    public static BanRequest ContactBan(string offender = "off-1") => new()
    {
        Type = "contact", OffenderId = offender, VictimId = "vic-1", LegalBasis = LegalBasis.Article38vSr,
        IssuingAuthority = "Rechtbank Amsterdam", CaseReference = "13/123456-26", MonitoringLevel = 3,
        MinDistanceMeters = 500, WarningDistanceMeters = 1000,
    };

    public static BanRequest ZoneBan(string offender = "off-1", string area = VictimZone) => new()
    {
        Type = "exclusion", OffenderId = offender, LegalBasis = LegalBasis.Article509hhSv,
        IssuingAuthority = "Openbaar Ministerie", CaseReference = "OM-2026-77", MonitoringLevel = 2,
        WarningBufferMeters = 200, Area = JsonDocument.Parse(area).RootElement.Clone(),
    };

    /// <summary>An open contact-ban breach about off-1 and vic-1, as the decision core would raise it.</summary>
    public static async Task<string> RaiseAsync(ApiHost host, string id, bool police = true, string offender = "off-1", AlertSeverity severity = AlertSeverity.Critical)
    {
        var at = DateTimeOffset.UtcNow.AddSeconds(-5);
        var alert = new Alert
        {
            Id = id, Type = AlertType.ContactBanBreach, Severity = severity, OffenderId = offender, VictimId = "vic-1",
            BanId = "ban-c1", BanVersion = 1, DeviceId = "dev-o1", RaisedAt = at, DecidedAt = at,
            Recipients = police ? AlertRecipients.MonitoringCentre | AlertRecipients.PoliceControlRoom : AlertRecipients.MonitoringCentre,
            Evidence = new AlertEvidence
            {
                Rule = "Certain", Certainty = "Certain", DistanceMeters = 120, LimitMeters = 500, DepthMeters = 380, UncertaintyMeters = 20,
                Summary = "ContactBanBreach: offender 120 m from the victim (limit 500 m); the whole uncertainty (±20 m) is on the violating side.",
                Fixes =
                [
                    new FixEvidence("offender", "dev-o1", 9, at, 52.3590, 4.8900, 12, 0, 12, false),
                    new FixEvidence("victim", "dev-v1", 9, at, 52.3600, 4.8900, 8, 3, 9, false),
                ],
            },
        };
        await host.Alerts.PublishAsync(new MonitorEvent(MonitorEventKind.Raised, alert));
        return id;
    }
}
