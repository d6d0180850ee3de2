using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Runtime.ExceptionServices;
using Proximity.Protocol;
using Proximity.Spatial.Bans;

namespace Proximity.Grains.Registry;

public enum PersonRole { Offender, Victim }

public sealed record DeviceEntry(string DeviceId, string PersonId, PersonRole Role, SecretHash? Secret);

/// <summary>
/// A device as the registry now holds it (registered, assigned, re-keyed or retired through the API).
/// <paramref name="PersonId"/> null: nobody carries it. <paramref name="Secret"/> null: the secret did not change.
/// </summary>
public sealed record DeviceUpdate(string DeviceId, string? PersonId, PersonRole Role, bool Retired, SecretHash? Secret);

/// <summary>What <see cref="ProximityRegistry.ApplyDevice"/> changed: the entry before and after (null: not live).</summary>
public sealed record DeviceApplied(DeviceEntry? Before, DeviceEntry? After)
{
    public bool Changed => Before != After;

    /// <summary>A connection made with what was before may no longer stand: retired, carried by someone else, or re-keyed.</summary>
    public bool EndsAccess => Before is not null && (After is null || After.PersonId != Before.PersonId || !Equals(After.Secret, Before.Secret));
}

/// <summary>
/// Who is who: devices, the people they belong to, bans and control-room integrations, loaded from the case
/// file; bans are replaced whole per offender and devices one by one when the API changes them. Shared by the
/// grains and ingest.
/// </summary>
public sealed class ProximityRegistry
{
    private static readonly Ban[] NoBans = [];
    private static readonly string[] None = [];
    private readonly ConcurrentDictionary<string, DeviceEntry> _devices;
    private readonly ConcurrentDictionary<string, string[]> _devicesByPerson;
    // Active devices nobody carries: their secret, for when someone does (an assignment does not repeat it). Under _devicesLock.
    private readonly Dictionary<string, SecretHash?> _unassigned = new(StringComparer.Ordinal);
    private readonly Lock _devicesLock = new();
    private readonly Lock _bansLock = new();
    private volatile FrozenDictionary<string, Ban[]> _bansByOffender;
    private volatile FrozenDictionary<string, string[]> _offendersByVictim;
    private readonly FrozenDictionary<string, SecretHash> _integrations;

    public ProximityRegistry(CaseFile caseFile, int hashIterations = SecretHash.DefaultIterations)
    {
        var devices = new Dictionary<string, DeviceEntry>(StringComparer.Ordinal);
        var listed = caseFile.Offenders.Select(p => (Person: p, Role: PersonRole.Offender)).Concat(caseFile.Victims.Select(p => (Person: p, Role: PersonRole.Victim)))
            .SelectMany(p => p.Person.Devices.Select(d => (Device: d, p.Person, p.Role))).ToArray();
        foreach (var (device, _, _) in listed) CheckId(device.Id, "device");
        var secrets = listed.Select(d => d.Device.SecretHash is { } stored ? SecretHash.Parse(stored) : null).ToArray();
        // Hashing a case file's secrets is most of starting from one (about 5 ms each at the default iterations): on every core.
        try
        {
            Parallel.For(0, listed.Length, i =>
            {
                if (secrets[i] is null && listed[i].Device.Secret is { } secret) secrets[i] = SecretHash.Create(secret, hashIterations);
            });
        }
        catch (AggregateException e) { ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); }
        for (int i = 0; i < listed.Length; i++)
            devices[listed[i].Device.Id] = new DeviceEntry(listed[i].Device.Id, listed[i].Person.Id, listed[i].Role, secrets[i]);
        _devices = new ConcurrentDictionary<string, DeviceEntry>(devices, StringComparer.Ordinal);
        _devicesByPerson = new ConcurrentDictionary<string, string[]>(caseFile.Offenders.Concat(caseFile.Victims)
            .Select(p => KeyValuePair.Create(p.Id, p.Devices.Select(d => d.Id).ToArray())), StringComparer.Ordinal);
        (_bansByOffender, _offendersByVictim) = Index(caseFile.Bans);
        var integrations = new Dictionary<string, SecretHash>(StringComparer.Ordinal);
        foreach (var i in caseFile.Integrations)
        {
            CheckId(i.Id, "integration");
            if (devices.ContainsKey(i.Id)) throw new CaseFileException($"integration {i.Id} has the id of a device");
            integrations[i.Id] = SecretHash.Create(i.Secret, hashIterations);
        }
        _integrations = integrations.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static ProximityRegistry Empty { get; } = new(new CaseFile([], [], [], []));

    public int DeviceCount => _devices.Count;

    public IEnumerable<DeviceEntry> AllDevices => _devices.Values;

    public DeviceEntry? Device(string deviceId) => _devices.GetValueOrDefault(deviceId);

    public IReadOnlyList<string> DevicesOf(string personId) => _devicesByPerson.GetValueOrDefault(personId) ?? None;

    /// <summary>
    /// Puts one device's registry state in place: a retired device or one nobody carries is no longer live (it
    /// cannot log in and its messages are refused); an assigned one routes to its person and logs in with its
    /// current secret. Applying the same state again changes nothing.
    /// </summary>
    public DeviceApplied ApplyDevice(DeviceUpdate update)
    {
        CheckId(update.DeviceId, "device");
        if (_integrations.ContainsKey(update.DeviceId))
            throw new ArgumentException($"device {update.DeviceId} has the id of an integration", nameof(update));
        lock (_devicesLock)
        {
            var before = _devices.GetValueOrDefault(update.DeviceId);
            var secret = update.Secret ?? before?.Secret ?? _unassigned.GetValueOrDefault(update.DeviceId);
            DeviceEntry? after = update.Retired || update.PersonId is null ? null : new DeviceEntry(update.DeviceId, update.PersonId, update.Role, secret);
            _unassigned.Remove(update.DeviceId);
            if (!update.Retired && after is null) _unassigned[update.DeviceId] = secret;
            if (after == before) return new DeviceApplied(before, before);

            // Replaced in place, never removed and added: a reader sees the old or the new entry.
            if (after is not null) _devices[update.DeviceId] = after;
            else _devices.TryRemove(update.DeviceId, out _);
            if (before is not null) _devicesByPerson[before.PersonId] = DevicesOf(before.PersonId).Where(d => d != update.DeviceId).ToArray();
            if (after is not null) _devicesByPerson[after.PersonId] = [.. DevicesOf(after.PersonId).Where(d => d != update.DeviceId), update.DeviceId];
            return new DeviceApplied(before, after);
        }
    }

    public IReadOnlyList<Ban> BansOf(string offenderId) => _bansByOffender.GetValueOrDefault(offenderId) ?? NoBans;

    /// <summary>The offenders a victim is protected from by a contact ban.</summary>
    public IReadOnlyList<string> OffendersOf(string victimId) => _offendersByVictim.GetValueOrDefault(victimId) ?? None;

    /// <summary>The victims an offender must keep away from.</summary>
    public IReadOnlyList<string> VictimsOf(string offenderId) =>
        BansOf(offenderId).OfType<ContactBan>().Select(b => b.VictimId).Distinct(StringComparer.Ordinal).ToArray();

    /// <summary>Where a device alert about an offender goes: the widest routing among the offender's bans.</summary>
    public AlertRecipients RecipientsForOffender(string offenderId) =>
        BansOf(offenderId).Aggregate(AlertRecipients.MonitoringCentre, (r, b) => r | b.Recipients);

    /// <summary>Where a device alert about a victim goes: the widest routing among the bans protecting the victim.</summary>
    public AlertRecipients RecipientsForVictim(string victimId) =>
        OffendersOf(victimId).SelectMany(BansOf).OfType<ContactBan>().Where(b => b.VictimId == victimId)
            .Aggregate(AlertRecipients.MonitoringCentre, (r, b) => r | b.Recipients);

    /// <summary>
    /// Replaces the bans of one offender (created, amended or ended through the API). Readers see either the old
    /// or the new set, never a mix; the offender's grain must then be told to refresh.
    /// </summary>
    public void ReplaceBans(string offenderId, IReadOnlyList<Ban> bans)
    {
        if (bans.Any(b => b.OffenderId != offenderId))
            throw new ArgumentException($"every ban must belong to offender {offenderId}", nameof(bans));
        lock (_bansLock)
        {
            var all = _bansByOffender.Where(kv => kv.Key != offenderId).SelectMany(kv => kv.Value).Concat(bans);
            (_bansByOffender, _offendersByVictim) = Index(all);
        }
    }

    private static (FrozenDictionary<string, Ban[]>, FrozenDictionary<string, string[]>) Index(IEnumerable<Ban> bans)
    {
        var list = bans.ToList();
        return (list.GroupBy(b => b.OffenderId).ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal),
            list.OfType<ContactBan>().GroupBy(b => b.VictimId)
                .ToFrozenDictionary(g => g.Key, g => g.Select(b => b.OffenderId).Distinct().ToArray(), StringComparer.Ordinal));
    }

    /// <summary>The device's entry when <paramref name="secret"/> is its secret (the entry checked, to record as the login).</summary>
    public DeviceEntry? Authenticate(string deviceId, string? secret) =>
        _devices.TryGetValue(deviceId, out var d) && d.Secret is not null && d.Secret.Verify(secret) ? d : null;

    public bool IsIntegration(string id) => _integrations.ContainsKey(id);

    /// <summary>Control-room integrations: the case file's and the configured ones.</summary>
    public int IntegrationCount => _integrations.Count;

    public bool VerifyIntegration(string id, string? secret) =>
        _integrations.TryGetValue(id, out var h) && h.Verify(secret);

    // Ids become MQTT topic levels and grain keys: no separators or wildcards.
    private static void CheckId(string id, string what)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 128 || id[0] == '$' || id.AsSpan().IndexOfAny("/+#\0 ") >= 0)
            throw new CaseFileException($"{what} id '{id}' must be 1–128 characters without '/', '+', '#', spaces or a leading '$'");
    }
}
