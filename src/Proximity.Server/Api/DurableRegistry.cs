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
/// Keeps this node's <see cref="ProximityRegistry"/> equal to the database when other nodes change bans or devices:
/// every few seconds it compares each ban's current version with what it knows and reloads the offenders whose bans
/// changed (then tells their grains to refresh), and applies the devices changed since it last looked (a retired or
/// re-keyed device loses its connection here too). Polling rather than LISTEN/NOTIFY: it needs no dedicated
/// connection, misses nothing across a database outage or a restart (it compares state, not messages), and two small
/// queries every few seconds cost nothing; a change reaches the other nodes within the interval. The node that made
/// the change applies it at once (<see cref="BanChangeForwarder"/>, <see cref="DeviceChangeForwarder"/>).
/// </summary>
public sealed class RegistrySync(BanStore bans, RegistryStore devices, PostgresRegistry registry, ProximityRegistry live, LiveDevices liveDevices,
    IGrainFactory grains, IConfiguration configuration, ILogger<RegistrySync> logger, LoadedRegistry? loaded = null) : BackgroundService
{
    public const string IntervalKey = "Proximity:Registry:PollSeconds";
    // Devices are asked for from a little before the last look: a change committed late carries the time it was made.
    private static readonly TimeSpan Overlap = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = TimeSpan.FromSeconds(configuration.GetValue(IntervalKey, 2.0));
        var known = new Dictionary<string, (string OffenderId, int Version)>(loaded?.Versions ?? await bans.VersionsAsync(stoppingToken), StringComparer.Ordinal);
        var devicesSince = (loaded?.DevicesReadAt ?? await devices.NowAsync(stoppingToken)) - Overlap;
        using var timer = new PeriodicTimer(interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SyncBansAsync(known, stoppingToken);
                devicesSince = await SyncDevicesAsync(devicesSince, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning("registry changes of other nodes not read ({Problem}); trying again in {Interval}", e.Message, interval);
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
        foreach (var device in changed) await liveDevices.ApplyAsync(LiveDevices.FromStored(device));
        return askedAt - Overlap;
    }
}
