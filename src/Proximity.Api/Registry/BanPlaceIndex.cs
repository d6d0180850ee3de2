using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Registry;

namespace Proximity.Api.Registry;

/// <summary>
/// "Which bans are in force here, now" for street lookup: the spatial core's <see cref="BanZoneIndex"/> over the
/// active zone bans, rebuilt on the first query after the registry's bans changed.
/// </summary>
public sealed class BanPlaceIndex
{
    private sealed record Snapshot(long Version, BanZoneIndex Index, BanRecord[] Records);

    private readonly IRegistry _registry;
    private Snapshot? _snapshot;
    private long _version;

    public BanPlaceIndex(IRegistry registry)
    {
        _registry = registry;
        registry.BansChanged += (_, _) => Interlocked.Increment(ref _version);
    }

    public async Task<IReadOnlyList<(BanRecord Ban, bool Inside)>> QueryAsync(GeoPoint point, DateTimeOffset now)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        long version = Interlocked.Read(ref _version);
        if (snapshot is null || snapshot.Version != version)
        {
            var records = (await _registry.BansAsync()).Where(b => b.Status == BanStatus.Active && b.Core is ZoneBan).ToArray();
            snapshot = new Snapshot(version, new BanZoneIndex(records.Select(b => (ZoneBan)b.Core)), records);
            Volatile.Write(ref _snapshot, snapshot); // a change meanwhile bumped the version: the next query rebuilds
        }
        var hits = new List<BanHit>();
        snapshot.Index.Query(point, now, hits);
        return hits.Select(h => (snapshot.Records[h.Index], h.Inside)).ToList();
    }
}
