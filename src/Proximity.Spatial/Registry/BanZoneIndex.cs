using System.Runtime.InteropServices;
using Proximity.Spatial.Bans;
using Proximity.Spatial.Geodesy;
using Proximity.Spatial.Zones;

namespace Proximity.Spatial.Registry;

/// <summary>
/// One zone ban found at a place: <see cref="Index"/> points into <see cref="BanZoneIndex.Bans"/>. When
/// <see cref="Inside"/> is false the place lies outside the zone but within the ban's warning buffer.
/// </summary>
public readonly record struct BanHit(int Index, ZoneKind Kind, bool Inside)
{
    public bool InWarningBuffer => !Inside;
}

/// <summary>
/// An immutable index of zone bans that answers, for police on the street, "which bans are in force at this
/// point, now": bounding boxes in a uniform grid (zones spanning many cells in a packed Hilbert R-tree) find the
/// candidates, each zone's prepared geometry
/// (in its home plane) decides inside and warning buffer exactly, and the ban's validity and schedule decide
/// whether it is in force. Queries are thread-safe and allocation-free; to change the bans, build a new index.
/// </summary>
public sealed class BanZoneIndex
{
    // Boxes are widened by this much beyond the zone so that straight plane edges between vertices, which
    // bow slightly against lines of constant latitude, can never fall outside their box.
    private const double SlackMeters = 2;
    private const double MetersPerDegree = 110_000; // less than any degree of latitude: boxes err on the wide side

    private readonly ZoneBan[] _bans;
    private readonly PreparedZone[] _zones;
    private readonly PlaneProjection[] _planes;
    private readonly double[] _buffers;
    // Validity as UTC ticks beside the boxes, so that expired bans are dropped before touching their geometry.
    private readonly long[] _validFrom, _validUntil;
    private readonly BoxGrid _boxes;

    public BanZoneIndex(IEnumerable<ZoneBan> bans)
    {
        ArgumentNullException.ThrowIfNull(bans);
        _bans = bans.ToArray();
        int n = _bans.Length;
        _zones = new PreparedZone[n];
        _planes = new PlaneProjection[n];
        _buffers = new double[n];
        _validFrom = new long[n];
        _validUntil = new long[n];
        var minX = new double[n];
        var minY = new double[n];
        var maxX = new double[n];
        var maxY = new double[n];
        for (int i = 0; i < n; i++)
        {
            var ban = _bans[i] ?? throw new ArgumentException($"ban {i} is null", nameof(bans));
            var area = ban.Area;
            _planes[i] = area.HomePlane;
            _zones[i] = area.PreparedIn(area.HomePlane);
            double buffer = ban.Kind == ZoneKind.Exclusion && double.IsFinite(ban.WarningBufferMeters) ? Math.Max(0, ban.WarningBufferMeters) : 0;
            _buffers[i] = buffer;
            _validFrom[i] = ban.ValidFrom.UtcTicks;
            _validUntil[i] = ban.ValidUntil is { } until ? until.UtcTicks : long.MaxValue;

            var (south, west, north, east) = area.Bounds;
            double dLat = (buffer + SlackMeters) / MetersPerDegree;
            double cos = Math.Max(0.01, Math.Cos(Math.Max(Math.Abs(south), Math.Abs(north)) * Math.PI / 180));
            double dLon = dLat / cos;
            minX[i] = west - dLon; maxX[i] = east + dLon;
            minY[i] = south - dLat; maxY[i] = north + dLat;
            // A box that runs past the antimeridian would miss points on the far side: take every longitude.
            if (minX[i] < -180 || maxX[i] > 180) { minX[i] = -180; maxX[i] = 180; }
        }
        _boxes = new BoxGrid(minX, minY, maxX, maxY);
    }

    public IReadOnlyList<ZoneBan> Bans => _bans;

    public int Count => _bans.Length;

    /// <summary>
    /// Writes the bans in force at <paramref name="point"/> at <paramref name="now"/> into <paramref name="hits"/>
    /// (zones containing the point, and exclusion zones whose warning buffer contains it) and returns how many
    /// there are. When that is more than <paramref name="hits"/> holds, only the first ones are written: call
    /// again with a larger buffer.
    /// </summary>
    public int Query(GeoPoint point, DateTimeOffset now, Span<BanHit> hits)
    {
        if (point.Problem() is { } problem) throw new ArgumentException($"point {point}: {problem}", nameof(point));
        var visitor = new HitCollector(this, point, now, hits);
        _boxes.Query(point.Longitude, point.Latitude, ref visitor);
        return visitor.Found;
    }

    /// <summary>Replaces the contents of <paramref name="hits"/> with the bans in force at the point; reuse the list to avoid allocating.</summary>
    public void Query(GeoPoint point, DateTimeOffset now, List<BanHit> hits)
    {
        ArgumentNullException.ThrowIfNull(hits);
        if (hits.Capacity < 8) hits.Capacity = 8;
        while (true)
        {
            CollectionsMarshal.SetCount(hits, hits.Capacity);
            int found = Query(point, now, CollectionsMarshal.AsSpan(hits));
            if (found <= hits.Count)
            {
                CollectionsMarshal.SetCount(hits, found);
                return;
            }
            hits.Capacity = found;
        }
    }

    private bool TryHit(int i, GeoPoint point, DateTimeOffset now, ref PlaneProjection? plane, ref PlanePoint projected, out BanHit hit)
    {
        hit = default;
        long ticks = now.UtcTicks;
        if (ticks < _validFrom[i] || ticks >= _validUntil[i]) return false;
        var zonePlane = _planes[i];
        // Candidates in one region share a plane: project the point once per plane, not once per zone.
        if (!ReferenceEquals(zonePlane, plane))
        {
            plane = zonePlane;
            projected = zonePlane.Project(point);
        }
        double buffer = _buffers[i];
        var location = _zones[i].Locate(projected, buffer);
        bool inBuffer = !location.Inside && location.BoundaryDistanceMeters <= buffer && buffer > 0;
        if (!location.Inside && !inBuffer) return false;
        var ban = _bans[i];
        if (!ban.IsInForce(now)) return false;
        hit = new BanHit(i, ban.Kind, location.Inside);
        return true;
    }

    private ref struct HitCollector(BanZoneIndex index, GeoPoint point, DateTimeOffset now, Span<BanHit> hits) : IItemVisitor
    {
        private readonly Span<BanHit> _hits = hits;
        private PlaneProjection? _plane;
        private PlanePoint _projected;

        public int Found { get; private set; }

        public void Visit(int item)
        {
            if (!index.TryHit(item, point, now, ref _plane, ref _projected, out var hit)) return;
            if (Found < _hits.Length) _hits[Found] = hit;
            Found++;
        }
    }
}
