using System.Text.Json;
using NetTopologySuite.Geometries;
using Proximity.Api.Problems;
using Proximity.Api.Registry;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Zones;
using Proximity.Storage.Bans;
using Proximity.Storage.Registry;
using StoredKind = Proximity.Storage.Registry.DeviceKind;

namespace Proximity.Api.Storage;

/// <summary>
/// The registry in PostgreSQL (production): people, devices (secrets only as PBKDF2 hashes, assignment history)
/// and bans with every version. Each change is written in one transaction with an optimistic version check
/// before <see cref="BansChanged"/> is raised, so what the live decisions use is always what was stored.
/// </summary>
public sealed class PostgresRegistry(RegistryStore people, BanStore bans, TimeProvider clock, int secretIterations = PostgresRegistry.DefaultSecretIterations)
    : IRegistry
{
    /// <summary>As the grains' <c>SecretHash.DefaultIterations</c>: secrets are long and random, not passwords.</summary>
    public const int DefaultSecretIterations = 20_000;

    // The person table requires a legal status; the API does not record one.
    private const string NoLegalStatus = "not recorded";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly GeometryFactory Wgs84 = new(new PrecisionModel(), 4326);

    public event Action<string, IReadOnlyList<Ban>>? BansChanged;
    public event Action<DeviceChange>? DeviceChanged;

    public async Task<IReadOnlyList<Offender>> OffendersAsync() =>
        (await people.PeopleAsync(PersonKind.Offender)).Select(ToOffender).ToList();

    public async Task<Offender?> OffenderAsync(string id) =>
        (await people.PeopleAsync(PersonKind.Offender, id)).Select(ToOffender).SingleOrDefault();

    public async Task<Offender> SaveOffenderAsync(Offender offender, int? expectedVersion)
    {
        RegistryRules.CheckPerson(offender.Id, "offender", offender.Name, offender.Home, offender.Work);
        int version = await Conflicts(() => people.SavePersonAsync(new Person(offender.Id, PersonKind.Offender, offender.Name, NoLegalStatus)
        {
            CaseOfficer = offender.CaseOfficer, HomeJson = PlaceJson(offender.Home), WorkJson = PlaceJson(offender.Work),
        }, expectedVersion));
        return offender with { Version = version };
    }

    public async Task<IReadOnlyList<Victim>> VictimsAsync() =>
        (await people.PeopleAsync(PersonKind.Victim)).Select(ToVictim).ToList();

    public async Task<Victim?> VictimAsync(string id) =>
        (await people.PeopleAsync(PersonKind.Victim, id)).Select(ToVictim).SingleOrDefault();

    public async Task<Victim> SaveVictimAsync(Victim victim, int? expectedVersion)
    {
        RegistryRules.CheckPerson(victim.Id, "victim", victim.Name, victim.Home, victim.Work);
        int version = await Conflicts(() => people.SavePersonAsync(new Person(victim.Id, PersonKind.Victim, victim.Name, NoLegalStatus)
        {
            HomeJson = PlaceJson(victim.Home), WorkJson = PlaceJson(victim.Work),
        }, expectedVersion));
        return victim with { Version = version };
    }

    public async Task<IReadOnlyList<Device>> DevicesAsync() => (await people.DevicesAsync()).Select(ToDevice).ToList();

    public async Task<Device?> DeviceAsync(string id) => (await people.DevicesAsync(id)).Select(ToDevice).SingleOrDefault();

    public async Task<DeviceWithSecret> RegisterDeviceAsync(string id, Registry.DeviceKind kind, DateTimeOffset now, string? secret = null)
    {
        RegistryRules.CheckId(id, "device");
        RegistryRules.CheckKind(kind);
        secret = string.IsNullOrEmpty(secret) ? RegistryRules.NewSecret() : secret;
        await Conflicts(async () =>
        {
            await people.RegisterDeviceAsync(id, kind == Registry.DeviceKind.AnkleMonitor ? StoredKind.AnkleMonitor : StoredKind.VictimDevice,
                secret, now, secretIterations);
            return 0;
        });
        return new DeviceWithSecret(Changed((await DeviceAsync(id))!, secret), secret);
    }

    public async Task<Device> AssignDeviceAsync(string id, string? personId)
    {
        var device = await ActiveDeviceAsync(id);
        var now = clock.GetUtcNow();
        if (personId is null) await people.UnassignDeviceAsync(id, now);
        else
        {
            bool offender = await OffenderAsync(personId) is not null, victim = !offender && await VictimAsync(personId) is not null;
            RegistryRules.CheckAssignment(device, personId, offender, victim);
            if (device.PersonId != personId) await people.AssignDeviceAsync(id, personId, now, "registry");
        }
        return Changed((await DeviceAsync(id))!, null);
    }

    public async Task<DeviceWithSecret> RotateSecretAsync(string id, DateTimeOffset now)
    {
        string secret = RegistryRules.NewSecret();
        if (!await people.SetSecretAsync(id, secret, now, secretIterations)) await ActiveDeviceAsync(id); // throws: unknown or retired
        return new DeviceWithSecret(Changed((await DeviceAsync(id))!, secret), secret);
    }

    public async Task<Device> RetireDeviceAsync(string id, DateTimeOffset now)
    {
        if (!await people.RetireDeviceAsync(id, now)) await ActiveDeviceAsync(id); // throws: unknown or retired
        return Changed((await DeviceAsync(id))!, null);
    }

    private Device Changed(Device device, string? newSecret)
    {
        DeviceChanged?.Invoke(new DeviceChange(device, newSecret));
        return device;
    }

    public Task<bool> VerifyDeviceSecretAsync(string id, string secret) => people.VerifyDeviceSecretAsync(id, secret);

    public async Task<IReadOnlyList<BanRecord>> BansAsync(string? offenderId = null) =>
        (await bans.CurrentAllAsync(offenderId)).Select(ToRecord).ToList();

    public async Task<BanRecord?> BanAsync(string id) => await bans.CurrentAsync(id) is { } v ? ToRecord(v) : null;

    public async Task<IReadOnlyList<BanRecord>> BanHistoryAsync(string id) => (await bans.HistoryAsync(id)).Select(ToRecord).ToList();

    public async Task<BanRecord> CreateBanAsync(BanRecord version1)
    {
        RegistryRules.CheckFirstVersion(version1);
        await CheckBanPeopleAsync(version1);
        await Save(version1, null, $"ban '{version1.Id}' already exists; amend it instead.");
        BansChanged?.Invoke(version1.OffenderId, await CoreBansAsync(version1.OffenderId));
        return (await BanAsync(version1.Id))!;
    }

    public async Task<BanRecord> AppendBanVersionAsync(BanRecord next)
    {
        var last = await BanAsync(next.Id) ?? throw ApiProblemException.NotFound("ban", next.Id);
        RegistryRules.CheckNextVersion(last, next);
        await CheckBanPeopleAsync(next);
        // The store checks the version again inside its transaction: of two editors of the same version one wins.
        await Save(next, last.Version, $"ban '{next.Id}' changed meanwhile; reload and try again.");
        BansChanged?.Invoke(next.OffenderId, await CoreBansAsync(next.OffenderId));
        if (last.OffenderId != next.OffenderId) BansChanged?.Invoke(last.OffenderId, await CoreBansAsync(last.OffenderId));
        return (await BanAsync(next.Id))!;
    }

    /// <summary>An offender's current bans as the decision core evaluates them.</summary>
    public async Task<IReadOnlyList<Ban>> CoreBansAsync(string offenderId) => (await BansAsync(offenderId)).Select(b => b.Core).ToList();

    private async Task Save(BanRecord record, int? expectedCurrentVersion, string conflict)
    {
        try { await bans.SaveAsync(ToVersion(record), expectedCurrentVersion); }
        catch (BanConflictException) { throw ApiProblemException.Conflict(conflict); }
        catch (ArgumentException e) { throw ApiProblemException.Invalid(e.Message); }
    }

    private async Task CheckBanPeopleAsync(BanRecord ban) => RegistryRules.CheckBanPeople(ban,
        await OffenderAsync(ban.OffenderId) is not null, ban.VictimId is not { } v || await VictimAsync(v) is not null);

    private async Task<Device> ActiveDeviceAsync(string id) => RegistryRules.Active(await DeviceAsync(id), id);

    private static async Task<T> Conflicts<T>(Func<Task<T>> change)
    {
        try { return await change(); }
        catch (RegistryConflictException e) { throw ApiProblemException.Conflict(e.Message); }
    }

    private static Offender ToOffender(Person p) => new()
    {
        Id = p.Id, Name = p.DisplayName, CaseOfficer = p.CaseOfficer, Home = Place(p.HomeJson), Work = Place(p.WorkJson), Version = p.Version,
    };

    private static Victim ToVictim(Person p) => new()
    {
        Id = p.Id, Name = p.DisplayName, Home = Place(p.HomeJson), Work = Place(p.WorkJson), Version = p.Version,
    };

    private static Device ToDevice(StoredDevice d) => new()
    {
        Id = d.Id,
        Kind = d.Kind == StoredKind.AnkleMonitor ? Registry.DeviceKind.AnkleMonitor : Registry.DeviceKind.VictimDevice,
        PersonId = d.PersonId,
        Status = d.RetiredAt is null ? DeviceStatus.Active : DeviceStatus.Retired,
        RegisteredAt = d.RegisteredAt,
        SecretSetAt = d.SecretSetAt,
        RetiredAt = d.RetiredAt,
    };

    private static string? PlaceJson(Place? place) => place is null ? null : JsonSerializer.Serialize(place, Json);

    private static Place? Place(string? json) => json is null ? null : JsonSerializer.Deserialize<Place>(json, Json);

    private static BanVersion ToVersion(BanRecord r)
    {
        var area = (r.Core as ZoneBan)?.Area;
        return new BanVersion
        {
            BanId = r.Id,
            OffenderId = r.OffenderId,
            Kind = r.Type switch { "contact" => BanKind.Contact, "inclusion" => BanKind.InclusionZone, _ => BanKind.ExclusionZone },
            Version = r.Version,
            LegalBasis = r.LegalBasis.ToString(),
            IssuingAuthority = r.IssuingAuthority,
            CaseReference = r.CaseReference,
            // No start means in force from the beginning: PostgreSQL's -infinity (Npgsql maps DateTime.MinValue to it).
            ValidFrom = r.ValidFrom ?? DateTimeOffset.MinValue,
            ValidUntil = r.ValidUntil,
            ScheduleJson = r.Schedule is null ? null : JsonSerializer.Serialize(r.Schedule, Json),
            MonitoringLevel = r.MonitoringLevel.ToString(System.Globalization.CultureInfo.InvariantCulture),
            VictimId = r.VictimId,
            MinDistanceMeters = r.MinDistanceMeters,
            WarningDistanceMeters = r.WarningDistanceMeters,
            WarningBufferMeters = r.WarningBufferMeters,
            Area = area is null ? null : Geometry(area),
            RadiusMeters = area?.IsCircle == true ? area.CircleRadiusMeters : null,
            AreaGeoJson = r.Area?.GetRawText(),
            RecordedBy = r.RecordedBy,
            RecordedAt = r.RecordedAt,
            ChangeReason = r.Note,
            Ended = r.Status == BanStatus.Ended,
        };
    }

    /// <summary>A stored version back as the API's record; its decision fields go through <see cref="BanFactory"/> as on create.</summary>
    private static BanRecord ToRecord(BanVersion v)
    {
        var request = new BanRequest
        {
            Type = v.Kind switch { BanKind.Contact => "contact", BanKind.InclusionZone => "inclusion", _ => "exclusion" },
            OffenderId = v.OffenderId,
            VictimId = v.VictimId,
            LegalBasis = Enum.TryParse<LegalBasis>(v.LegalBasis, out var basis) ? basis : LegalBasis.Other,
            IssuingAuthority = v.IssuingAuthority,
            CaseReference = v.CaseReference,
            ValidFrom = v.ValidFrom <= DateTimeOffset.MinValue.AddDays(1) ? null : v.ValidFrom,
            ValidUntil = v.ValidUntil,
            Schedule = v.ScheduleJson is null ? null : JsonSerializer.Deserialize<List<ScheduleWindowDto>>(v.ScheduleJson, Json),
            MonitoringLevel = int.TryParse(v.MonitoringLevel, out int level) ? level : null,
            MinDistanceMeters = v.MinDistanceMeters,
            WarningDistanceMeters = v.WarningDistanceMeters,
            WarningBufferMeters = v.WarningBufferMeters,
            Area = v.AreaGeoJson is null ? null : JsonDocument.Parse(v.AreaGeoJson).RootElement.Clone(),
            Note = v.ChangeReason,
        };
        return BanFactory.Build(v.BanId, v.Version, request, v.RecordedBy, v.RecordedAt) with
        {
            Status = v.Ended ? BanStatus.Ended : BanStatus.Active,
        };
    }

    private static Geometry Geometry(ZoneArea area)
    {
        if (area.CircleCentre is { } c) return Wgs84.CreatePoint(new Coordinate(c.Longitude, c.Latitude));
        var polygons = area.Polygons.Select(rings =>
        {
            // Rings are closed: ZoneArea refuses open ones.
            var linear = rings.Select(ring => Wgs84.CreateLinearRing([.. ring.Select(p => new Coordinate(p.Longitude, p.Latitude))])).ToList();
            return Wgs84.CreatePolygon(linear[0], [.. linear.Skip(1)]);
        }).ToArray();
        return polygons.Length == 1 ? polygons[0] : Wgs84.CreateMultiPolygon(polygons);
    }
}
