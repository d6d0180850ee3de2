using System.Security.Cryptography;
using System.Text;
using Proximity.Api.Problems;
using Proximity.Spatial.Bans;

namespace Proximity.Api.Registry;

/// <summary>
/// The registry in memory: one lock, so every change is validated and applied atomically, and its event raised in
/// the order the changes were made (handlers must be quick and must not call back into the registry).
/// </summary>
public sealed class InMemoryRegistry : IRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Offender> _offenders = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Victim> _victims = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (Device Device, byte[] Salt, byte[] Hash)> _devices = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<BanRecord>> _bans = new(StringComparer.Ordinal);
    /// <summary>Ban ids by their current offender, so one offender's bans are found without a scan of all of them
    /// (a case file of 100 000 devices imports 100 000 bans at start-up).</summary>
    private readonly Dictionary<string, List<string>> _banIdsByOffender = new(StringComparer.Ordinal);

    public event Action<string, IReadOnlyList<Ban>>? BansChanged;
    public event Action<DeviceChange>? DeviceChanged;

    public Task<IReadOnlyList<Offender>> OffendersAsync()
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<Offender>>(_offenders.Values.OrderBy(o => o.Id, StringComparer.Ordinal).ToList());
    }

    public Task<Offender?> OffenderAsync(string id)
    {
        lock (_lock) return Task.FromResult(_offenders.GetValueOrDefault(id));
    }

    public Task<Offender> SaveOffenderAsync(Offender offender, int? expectedVersion)
    {
        RegistryRules.CheckPerson(offender.Id, "offender", offender.Name, offender.Home, offender.Work);
        lock (_lock)
        {
            if (_victims.ContainsKey(offender.Id)) throw ApiProblemException.Conflict($"'{offender.Id}' is already a victim's id.");
            var saved = offender with { Version = NextVersion(_offenders.GetValueOrDefault(offender.Id)?.Version, expectedVersion, "offender", offender.Id) };
            _offenders[offender.Id] = saved;
            return Task.FromResult(saved);
        }
    }

    public Task<IReadOnlyList<Victim>> VictimsAsync()
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<Victim>>(_victims.Values.OrderBy(v => v.Id, StringComparer.Ordinal).ToList());
    }

    public Task<Victim?> VictimAsync(string id)
    {
        lock (_lock) return Task.FromResult(_victims.GetValueOrDefault(id));
    }

    public Task<Victim> SaveVictimAsync(Victim victim, int? expectedVersion)
    {
        RegistryRules.CheckPerson(victim.Id, "victim", victim.Name, victim.Home, victim.Work);
        lock (_lock)
        {
            if (_offenders.ContainsKey(victim.Id)) throw ApiProblemException.Conflict($"'{victim.Id}' is already an offender's id.");
            var saved = victim with { Version = NextVersion(_victims.GetValueOrDefault(victim.Id)?.Version, expectedVersion, "victim", victim.Id) };
            _victims[victim.Id] = saved;
            return Task.FromResult(saved);
        }
    }

    public Task<IReadOnlyList<Device>> DevicesAsync()
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<Device>>(_devices.Values.Select(d => d.Device).OrderBy(d => d.Id, StringComparer.Ordinal).ToList());
    }

    public Task<Device?> DeviceAsync(string id)
    {
        lock (_lock) return Task.FromResult(_devices.TryGetValue(id, out var d) ? d.Device : null);
    }

    public Task<DeviceWithSecret> RegisterDeviceAsync(string id, DeviceKind kind, DateTimeOffset now, string? secret = null)
    {
        RegistryRules.CheckId(id, "device");
        RegistryRules.CheckKind(kind);
        secret = string.IsNullOrEmpty(secret) ? RegistryRules.NewSecret() : secret;
        var (salt, hash) = Hash(secret);
        Device device;
        lock (_lock)
        {
            if (_devices.ContainsKey(id)) throw ApiProblemException.Conflict($"device '{id}' is already registered.");
            device = new Device { Id = id, Kind = kind, RegisteredAt = now, SecretSetAt = now };
            _devices[id] = (device, salt, hash);
            DeviceChanged?.Invoke(new DeviceChange(device, secret));
        }
        return Task.FromResult(new DeviceWithSecret(device, secret));
    }

    public Task<Device> AssignDeviceAsync(string id, string? personId)
    {
        Device device;
        lock (_lock)
        {
            var entry = ActiveDevice(id);
            if (personId is not null) RegistryRules.CheckAssignment(entry.Device, personId, _offenders.ContainsKey(personId), _victims.ContainsKey(personId));
            device = entry.Device with { PersonId = personId };
            _devices[id] = entry with { Device = device };
            DeviceChanged?.Invoke(new DeviceChange(device, null));
        }
        return Task.FromResult(device);
    }

    public Task<DeviceWithSecret> RotateSecretAsync(string id, DateTimeOffset now)
    {
        string secret = RegistryRules.NewSecret();
        var (salt, hash) = Hash(secret);
        Device device;
        lock (_lock)
        {
            device = ActiveDevice(id).Device with { SecretSetAt = now };
            _devices[id] = (device, salt, hash);
            DeviceChanged?.Invoke(new DeviceChange(device, secret));
        }
        return Task.FromResult(new DeviceWithSecret(device, secret));
    }

    public Task<Device> RetireDeviceAsync(string id, DateTimeOffset now)
    {
        Device device;
        lock (_lock)
        {
            var entry = ActiveDevice(id);
            device = entry.Device with { Status = DeviceStatus.Retired, RetiredAt = now, PersonId = null };
            _devices[id] = entry with { Device = device };
            DeviceChanged?.Invoke(new DeviceChange(device, null));
        }
        return Task.FromResult(device);
    }

    public Task<bool> VerifyDeviceSecretAsync(string id, string secret)
    {
        (Device Device, byte[] Salt, byte[] Hash) entry;
        lock (_lock)
        {
            if (!_devices.TryGetValue(id, out entry) || entry.Device.Status != DeviceStatus.Active) return Task.FromResult(false);
        }
        return Task.FromResult(CryptographicOperations.FixedTimeEquals(Hash(secret, entry.Salt), entry.Hash));
    }

    public Task<IReadOnlyList<BanRecord>> BansAsync(string? offenderId = null)
    {
        lock (_lock)
            return Task.FromResult<IReadOnlyList<BanRecord>>(_bans.Values.Select(v => v[^1])
                .Where(b => offenderId is null || b.OffenderId == offenderId)
                .OrderBy(b => b.Id, StringComparer.Ordinal).ToList());
    }

    public Task<BanRecord?> BanAsync(string id)
    {
        lock (_lock) return Task.FromResult(_bans.TryGetValue(id, out var v) ? v[^1] : null);
    }

    public Task<IReadOnlyList<BanRecord>> BanHistoryAsync(string id)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<BanRecord>>(_bans.TryGetValue(id, out var v) ? v.ToList() : []);
    }

    public Task<BanRecord> CreateBanAsync(BanRecord version1)
    {
        RegistryRules.CheckFirstVersion(version1);
        lock (_lock)
        {
            CheckBanPeople(version1);
            if (_bans.ContainsKey(version1.Id)) throw ApiProblemException.Conflict($"ban '{version1.Id}' already exists; amend it instead.");
            _bans[version1.Id] = [version1];
            BanIdsOf(version1.OffenderId).Add(version1.Id);
            BansChanged?.Invoke(version1.OffenderId, CoreBans(version1.OffenderId));
        }
        return Task.FromResult(version1);
    }

    public Task<BanRecord> AppendBanVersionAsync(BanRecord next)
    {
        lock (_lock)
        {
            if (!_bans.TryGetValue(next.Id, out var versions)) throw ApiProblemException.NotFound("ban", next.Id);
            var last = versions[^1];
            RegistryRules.CheckNextVersion(last, next);
            CheckBanPeople(next);
            versions.Add(next);
            if (last.OffenderId != next.OffenderId)
            {
                BanIdsOf(last.OffenderId).Remove(next.Id);
                BanIdsOf(next.OffenderId).Add(next.Id);
            }
            BansChanged?.Invoke(next.OffenderId, CoreBans(next.OffenderId));
            if (last.OffenderId != next.OffenderId) BansChanged?.Invoke(last.OffenderId, CoreBans(last.OffenderId));
        }
        return Task.FromResult(next);
    }

    private void CheckBanPeople(BanRecord ban) =>
        RegistryRules.CheckBanPeople(ban, _offenders.ContainsKey(ban.OffenderId), ban.VictimId is not { } v || _victims.ContainsKey(v));

    private List<Ban> CoreBans(string offenderId) =>
        _banIdsByOffender.TryGetValue(offenderId, out var ids) ? ids.Select(id => _bans[id][^1].Core).ToList() : [];

    private List<string> BanIdsOf(string offenderId)
    {
        if (!_banIdsByOffender.TryGetValue(offenderId, out var ids)) _banIdsByOffender[offenderId] = ids = [];
        return ids;
    }

    private (Device Device, byte[] Salt, byte[] Hash) ActiveDevice(string id)
    {
        var entry = _devices.GetValueOrDefault(id);
        RegistryRules.Active(entry.Device, id);
        return entry;
    }

    private static int NextVersion(int? current, int? expected, string what, string id)
    {
        if (expected is { } e && e != (current ?? 0))
            throw ApiProblemException.Conflict($"{what} '{id}' is at version {current ?? 0}, not {e}; reload and try again.");
        return (current ?? 0) + 1;
    }

    private static (byte[] Salt, byte[] Hash) Hash(string secret)
    {
        var salt = RandomNumberGenerator.GetBytes(16);
        return (salt, Hash(secret, salt));
    }

    // Device secrets are long random strings, so one salted SHA-256 is enough (no password stretching needed).
    private static byte[] Hash(string secret, byte[] salt) => SHA256.HashData([.. salt, .. Encoding.UTF8.GetBytes(secret)]);
}
