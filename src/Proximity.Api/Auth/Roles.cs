namespace Proximity.Api.Auth;

/// <summary>The roles a token can carry, and which roles may do what. One table, so tests and pages agree.</summary>
public static class Roles
{
    /// <summary>Probation's monitoring centre (EM unit): watches offenders' alerts around the clock.</summary>
    public const string MonitoringCentre = nameof(MonitoringCentre);
    public const string PoliceControlRoom = nameof(PoliceControlRoom);
    public const string ProbationOfficer = nameof(ProbationOfficer);
    /// <summary>Police on the street: street lookup only.</summary>
    public const string PoliceOfficer = nameof(PoliceOfficer);
    public const string Auditor = nameof(Auditor);
    /// <summary>Registry administration; deliberately no access to location data or alerts.</summary>
    public const string Admin = nameof(Admin);

    public static readonly IReadOnlyList<string> All =
        [MonitoringCentre, PoliceControlRoom, ProbationOfficer, PoliceOfficer, Auditor, Admin];

    public static readonly string[] ControlRooms = [MonitoringCentre, PoliceControlRoom];

    // Policies (name = what is allowed).
    public const string ReadPeople = "read-people";
    public const string WriteRegistry = "write-registry";
    public const string ReadDevices = "read-devices";
    public const string ReadBans = "read-bans";
    public const string ReadAlerts = "read-alerts";
    public const string HandleAlerts = "handle-alerts";
    public const string ReadOffenderPositions = "read-offender-positions";
    public const string ReadVictimPositions = "read-victim-positions";
    public const string StreetLookup = "street-lookup";
    public const string ReadAudit = "read-audit";
    public const string Administer = "administer";

    public static readonly IReadOnlyDictionary<string, string[]> Policies = new Dictionary<string, string[]>
    {
        [ReadPeople] = [MonitoringCentre, PoliceControlRoom, ProbationOfficer, Auditor, Admin],
        [WriteRegistry] = [ProbationOfficer, Admin],
        [ReadDevices] = [MonitoringCentre, ProbationOfficer, Auditor, Admin],
        [ReadBans] = [MonitoringCentre, PoliceControlRoom, ProbationOfficer, Auditor, Admin],
        [ReadAlerts] = [MonitoringCentre, PoliceControlRoom, ProbationOfficer, Auditor],
        [HandleAlerts] = ControlRooms,
        [ReadOffenderPositions] = [MonitoringCentre, PoliceControlRoom, ProbationOfficer, Auditor],
        [ReadVictimPositions] = ControlRooms,
        [StreetLookup] = [PoliceOfficer, PoliceControlRoom, MonitoringCentre],
        [ReadAudit] = [Auditor],
        [Administer] = [Admin],
    };

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);
}
