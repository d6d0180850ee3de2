using Proximity.Api.Registry;
using Proximity.Api.Storage;
using Proximity.Grains;
using Proximity.Grains.Durability;
using Proximity.Grains.Registry;
using Proximity.Protocol;
using Proximity.Storage;
using Proximity.Storage.Bans;
using Proximity.Storage.Registry;

namespace Proximity.Server.Api;

/// <summary>
/// Each ban's offender and current version, and the database time the devices were read at, as the node loaded
/// them: where <see cref="RegistrySync"/> starts.
/// </summary>
public sealed record LoadedRegistry(IReadOnlyDictionary<string, (string OffenderId, int Version)> Versions, DateTimeOffset DevicesReadAt);

/// <summary>
/// Production start (<c>--storage postgres</c>): the database holds the registry. The case file, if any, is imported
/// into it (only what is missing, so a second start with the same file changes nothing and adds no ban versions),
/// then people, devices (with their secret hashes) and current bans are read back for the grains.
/// </summary>
public static class DurableRegistry
{
    private const long ImportLock = 0x5052_4F58_4341_5345; // "PROXCASE"

    public static async Task<(CaseFile Registry, LoadedRegistry Loaded)> LoadAsync(StorageChoice storage, CaseFile caseFile,
        int secretIterations, CancellationToken cancellationToken = default)
    {
        await using var database = ProximityDatabase.Open(storage.ConnectionString!);
        if (storage.MigrateOnStart) await Proximity.Storage.Migrations.Migrator.MigrateAsync(database.DataSource, cancellationToken);
        var store = new RegistryStore(database);
        var bans = new BanStore(database);
        var registry = new PostgresRegistry(store, bans, TimeProvider.System, secretIterations);
        // Nodes of a cluster start together with the same case file: one imports, the others then find it stored.
        await using (var gate = await database.DataSource.OpenConnectionAsync(cancellationToken))
        {
            await using (var take = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({ImportLock})", gate))
                await take.ExecuteNonQueryAsync(cancellationToken);
            try { await CaseImport.ImportAsync(registry, caseFile, DateTimeOffset.UtcNow); }
            finally
            {
                await using var release = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_unlock({ImportLock})", gate);
                await release.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }

        // Versions and time first: a change made meanwhile by another node shows as newer than known, and is loaded again.
        var versions = new LoadedRegistry(await bans.VersionsAsync(cancellationToken), await store.NowAsync(cancellationToken));
        var devices = (await store.DevicesAsync(cancellationToken: cancellationToken)).Where(d => d is { RetiredAt: null, PersonId: not null })
            .ToLookup(d => d.PersonId!, StringComparer.Ordinal);
        PersonSpec Person(string id) => new(id, devices[id].Select(d => new DeviceSpec(d.Id, null) { SecretHash = d.SecretHash }).ToList());
        var loaded = new CaseFile(
            (await registry.OffendersAsync()).Select(o => Person(o.Id)).ToList(),
            (await registry.VictimsAsync()).Select(v => Person(v.Id)).ToList(),
            (await registry.BansAsync()).Select(b => b.Core).ToList(),
            caseFile.Integrations);
        return (loaded, versions);
    }
}

/// <summary>
/// Keeps this node's <see cref="ProximityRegistry"/> equal to the database as bans and devices change, through any
/// node's API: every few seconds, and at once when this node's registry changed a device, it compares each ban's
/// current version with what it knows and reloads the offenders whose bans changed (then tells their grains to
/// refresh), and applies the devices changed since it last looked (with the embedded broker a retired, reassigned
/// or re-keyed device loses its connection here too). One path for all device changes, in order, from what is
/// stored. Polling rather than LISTEN/NOTIFY: it needs no dedicated connection, compares state rather than messages
/// (nothing is lost across a database outage or a restart), and two small queries every few seconds cost nothing.
/// The node that changed a ban tells its grains at once (<see cref="BanChangeForwarder"/>).
/// </summary>
public sealed class RegistrySync(BanStore bans, RegistryStore devices, PostgresRegistry registry, ProximityRegistry live, LiveDevices liveDevices,
    IGrainFactory grains, IConfiguration configuration, ILogger<RegistrySync> logger, LoadedRegistry? loaded = null) : BackgroundService
{
    public const string IntervalKey = "Proximity:Registry:PollSeconds";
    private const string FormerIntervalKey = "Proximity:Registry:BanPollSeconds";
    // Devices are asked for from a minute before the last look: a change committed late carries the time it was made,
    // and applying one again changes nothing.
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(60);
    private readonly SemaphoreSlim _deviceChanged = new(0, 1);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        registry.DeviceChanged += OnDeviceChanged;
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        registry.DeviceChanged -= OnDeviceChanged;
        await base.StopAsync(cancellationToken);
    }

    private void OnDeviceChanged(DeviceChange change)
    {
        try { _deviceChanged.Release(); } catch (SemaphoreFullException) { } // a look is due already
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(configuration.GetValue<double?>(IntervalKey) ?? configuration.GetValue(FormerIntervalKey, 2.0));
        var known = new Dictionary<string, (string OffenderId, int Version)>(loaded?.Versions ?? await bans.VersionsAsync(stoppingToken), StringComparer.Ordinal);
        var devicesSince = (loaded?.DevicesReadAt ?? await devices.NowAsync(stoppingToken)) - Overlap;
        while (!stoppingToken.IsCancellationRequested)
        {
            await _deviceChanged.WaitAsync(interval, stoppingToken);
            try { await SyncBansAsync(known, stoppingToken); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("ban changes not read ({Problem}); trying again in {Interval}", e.Message, interval);
            }
            try { devicesSince = await SyncDevicesAsync(devicesSince, stoppingToken); }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("device changes not read ({Problem}); trying again in {Interval}", e.Message, interval);
            }
        }
    }

    private async Task SyncBansAsync(Dictionary<string, (string OffenderId, int Version)> known, CancellationToken ct)
    {
        var current = await bans.VersionsAsync(ct);
        var changed = current.Where(b => !known.TryGetValue(b.Key, out var k) || k != b.Value).ToList();
        // A ban moved to another offender changes the bans of both.
        var offenders = changed.Select(b => b.Value.OffenderId)
            .Concat(changed.Where(b => known.ContainsKey(b.Key)).Select(b => known[b.Key].OffenderId)).Distinct(StringComparer.Ordinal);
        foreach (string offender in offenders)
        {
            live.ReplaceBans(offender, await registry.CoreBansAsync(offender));
            await grains.OffenderGrain(offender).RefreshBans();
        }
        foreach (var (id, value) in changed) known[id] = value;
    }

    private async Task<DateTimeOffset> SyncDevicesAsync(DateTimeOffset since, CancellationToken ct)
    {
        var (changed, askedAt) = await devices.DevicesChangedSinceAsync(since, ct);
        foreach (var device in changed) await liveDevices.ApplyAsync(LiveDevices.FromStored(device)); // never throws
        return askedAt - Overlap;
    }
}
