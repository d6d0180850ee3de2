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
    private readonly Item[] _items;
    private readonly PreparedZone?[] _polygons;
    private readonly PlaneProjection[] _planes;
    private readonly BoxGrid _boxes;

    /// <summary>
    /// What a query needs of one ban, in one 64-byte cache line: validity as UTC ticks (expired bans are dropped
    /// before any geometry), the warning buffer, the home plane, kind and flags, and for circles the centre and
    /// radius in that plane, so that the most common zone is decided without touching another object.
    /// </summary>
    private readonly struct Item(long validFrom, long validUntil, PlanePoint centre, double planeRadius, double scale, double buffer,
        int plane, ZoneKind kind, bool isCircle, bool hasSchedule)
    {
        public readonly long ValidFrom = validFrom, ValidUntil = validUntil;
        public readonly PlanePoint Centre = centre;
        public readonly double PlaneRadius = planeRadius, Scale = scale, Buffer = buffer;
        public readonly int Plane = plane;
        private readonly byte _flags = (byte)((isCircle ? 1 : 0) | (hasSchedule ? 2 : 0) | (kind == ZoneKind.Inclusion ? 4 : 0));

        public bool IsCircle => (_flags & 1) != 0;
        public bool HasSchedule => (_flags & 2) != 0;
        public ZoneKind Kind => (_flags & 4) != 0 ? ZoneKind.Inclusion : ZoneKind.Exclusion;
    }

    public BanZoneIndex(IEnumerable<ZoneBan> bans)
    {
        ArgumentNullException.ThrowIfNull(bans);
        _bans = bans.ToArray();
        int n = _bans.Length;
        _items = new Item[n];
        _polygons = new PreparedZone?[n];
        var planes = new List<PlaneProjection>();
        var minX = new double[n];
        var minY = new double[n];
        var maxX = new double[n];
        var maxY = new double[n];
        for (int i = 0; i < n; i++)
        {
            var ban = _bans[i] ?? throw new ArgumentException($"ban {i} is null", nameof(bans));
            var area = ban.Area;
            var home = area.HomePlane;
            int plane = planes.IndexOf(home);
            if (plane < 0) { plane = planes.Count; planes.Add(home); }
            double buffer = ban.Kind == ZoneKind.Exclusion && double.IsFinite(ban.WarningBufferMeters) ? Math.Max(0, ban.WarningBufferMeters) : 0;
            long from = ban.ValidFrom.UtcTicks, until = ban.ValidUntil is { } u ? u.UtcTicks : long.MaxValue;
            if (area.CircleCentre is { } c)
            {
                // The same arithmetic as the prepared circle, without an object per circle.
                var centre = home.Project(c);
                double scale = home.ScaleAt(centre);
                _items[i] = new Item(from, until, centre, area.CircleRadiusMeters * scale, scale, buffer, plane, ban.Kind, true, ban.Schedule is not null);
            }
            else
            {
                _polygons[i] = area.PreparedIn(home);
                _items[i] = new Item(from, until, default, 0, 1, buffer, plane, ban.Kind, false, ban.Schedule is not null);
            }

            var (south, west, north, east) = area.Bounds;
            double dLat = (buffer + SlackMeters) / MetersPerDegree;
            double cos = Math.Max(0.01, Math.Cos(Math.Max(Math.Abs(south), Math.Abs(north)) * Math.PI / 180));
            double dLon = dLat / cos;
            minX[i] = west - dLon; maxX[i] = east + dLon;
            minY[i] = south - dLat; maxY[i] = north + dLat;
            // A box that runs past the antimeridian would miss points on the far side: take every longitude.
            if (minX[i] < -180 || maxX[i] > 180) { minX[i] = -180; maxX[i] = 180; }
        }
        _planes = planes.ToArray();
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

    private bool TryHit(int i, GeoPoint point, DateTimeOffset now, ref int plane, ref PlanePoint projected, out BanHit hit)
    {
        hit = default;
        ref readonly var item = ref _items[i];
        long ticks = now.UtcTicks;
        if (ticks < item.ValidFrom || ticks >= item.ValidUntil) return false;
        // Candidates in one region share a plane: project the point once per plane, not once per zone.
        if (item.Plane != plane)
        {
            plane = item.Plane;
            projected = _planes[plane].Project(point);
        }
        double buffer = item.Buffer;
        bool inside, inBuffer;
        if (item.IsCircle)
        {
            double d = projected.DistanceTo(item.Centre);
            double boundary = Math.Abs(d - item.PlaneRadius);
            inside = d < item.PlaneRadius;
            inBuffer = !inside && buffer > 0 && boundary <= buffer * item.Scale && boundary / item.Scale <= buffer;
        }
        else
        {
            var location = _polygons[i]!.Locate(projected, buffer);
            inside = location.Inside;
            inBuffer = !inside && buffer > 0 && location.BoundaryDistanceMeters <= buffer;
        }
        if (!inside && !inBuffer) return false;
        if (item.HasSchedule && !_bans[i].Schedule!.IsActive(now)) return false;
        hit = new BanHit(i, item.Kind, inside);
        return true;
    }

    private ref struct HitCollector(BanZoneIndex index, GeoPoint point, DateTimeOffset now, Span<BanHit> hits) : IItemVisitor
    {
        private readonly Span<BanHit> _hits = hits;
        private int _plane = -1;
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
