using Proximity.Spatial.Geodesy;

namespace Proximity.Spatial.Zones;

/// <summary>
/// A uniform grid over the edges of a polygonal area in a metric plane. It answers, without allocating,
/// whether a point is inside (parity of crossings from the cell centre, whose inside state is known) and
/// how far it is from the boundary up to a search radius. Each cell knows how far its centre lies from the
/// boundary, so a point whose boundary is beyond the search radius is answered in constant time.
/// </summary>
internal sealed class EdgeGrid
{
    private const int BruteForceEdges = 24;

    private readonly double[] _ax, _ay, _bx, _by;
    private readonly double _minX, _minY, _maxX, _maxY, _cell;
    private readonly int _nx, _ny;
    private readonly int[] _cellStart = [];
    private readonly int[] _cellEdges = [];
    private readonly bool[] _centreInside = [];
    private readonly int[] _emptyRings = [];
    private readonly double[] _centreDistance = [];

    public EdgeGrid(IReadOnlyList<PlanePoint[]> rings)
    {
        int n = 0;
        foreach (var ring in rings) n += ring.Length - 1;
        _ax = new double[n]; _ay = new double[n]; _bx = new double[n]; _by = new double[n];
        _minX = _minY = double.MaxValue; _maxX = _maxY = double.MinValue;
        int e = 0;
        foreach (var ring in rings)
        {
            for (int i = 0; i + 1 < ring.Length; i++, e++)
            {
                _ax[e] = ring[i].X; _ay[e] = ring[i].Y; _bx[e] = ring[i + 1].X; _by[e] = ring[i + 1].Y;
                _minX = Math.Min(_minX, ring[i].X); _maxX = Math.Max(_maxX, ring[i].X);
                _minY = Math.Min(_minY, ring[i].Y); _maxY = Math.Max(_maxY, ring[i].Y);
            }
        }
        EdgeCount = n;
        if (n <= BruteForceEdges) return;

        double w = Math.Max(_maxX - _minX, 1e-3), h = Math.Max(_maxY - _minY, 1e-3);
        _cell = Math.Sqrt(w * h / (2.0 * n));
        _cell = Math.Max(_cell, Math.Max(w, h) / 2048);
        _nx = Math.Max(1, (int)Math.Ceiling(w / _cell));
        _ny = Math.Max(1, (int)Math.Ceiling(h / _cell));
        (_cellStart, _cellEdges) = BucketEdges();
        _centreInside = new bool[_nx * _ny];
        for (int cy = 0; cy < _ny; cy++)
            for (int cx = 0; cx < _nx; cx++)
                _centreInside[cy * _nx + cx] = RayParity(_minX + (cx + 0.5) * _cell, _minY + (cy + 0.5) * _cell);
        _emptyRings = ChebyshevDistanceToEdges();
        _centreDistance = new double[_nx * _ny];
        for (int cy = 0; cy < _ny; cy++)
            for (int cx = 0; cx < _nx; cx++)
                _centreDistance[cy * _nx + cx] = RingSearch(_minX + (cx + 0.5) * _cell, _minY + (cy + 0.5) * _cell, cx, cy, double.PositiveInfinity);
    }

    public int EdgeCount { get; }

    /// <summary>
    /// Whether the point is inside, and its distance to the boundary; when the boundary is farther than
    /// <paramref name="searchRadius"/>, the distance returned is <see cref="double.PositiveInfinity"/>.
    /// </summary>
    public (bool Inside, double Distance) Locate(double px, double py, double searchRadius)
    {
        if (_nx == 0)
        {
            double best = double.PositiveInfinity;
            for (int i = 0; i < EdgeCount; i++) best = Math.Min(best, SegmentDistanceSquared(i, px, py));
            best = Math.Sqrt(best);
            return (RayParity(px, py), best <= searchRadius ? best : double.PositiveInfinity);
        }

        double outside = RectDistance(px, py, _minX, _minY, _maxX, _maxY);
        if (outside > 0)
        {
            if (outside > searchRadius) return (false, double.PositiveInfinity);
            int ccx = Math.Clamp((int)((px - _minX) / _cell), 0, _nx - 1);
            int ccy = Math.Clamp((int)((py - _minY) / _cell), 0, _ny - 1);
            if (BoundaryBeyond(ccx, ccy, px, py, searchRadius)) return (false, double.PositiveInfinity);
            return (false, RingSearch(px, py, ccx, ccy, searchRadius));
        }

        int cx = Math.Min((int)((px - _minX) / _cell), _nx - 1);
        int cy = Math.Min((int)((py - _minY) / _cell), _ny - 1);
        int c = cy * _nx + cx;
        bool inside = _centreInside[c];
        double ox = _minX + (cx + 0.5) * _cell, oy = _minY + (cy + 0.5) * _cell;
        for (int k = _cellStart[c]; k < _cellStart[c + 1]; k++)
            if (Crosses(_cellEdges[k], ox, oy, px, py)) inside = !inside;

        if (BoundaryBeyond(cx, cy, px, py, searchRadius)) return (inside, double.PositiveInfinity);
        return (inside, RingSearch(px, py, cx, cy, searchRadius));
    }

    /// <summary>
    /// A coarse first pass: the boundary is at least the cell centre's distance to it less the point's distance
    /// to that centre (triangle inequality). When that already exceeds the search radius (by a micrometre, so
    /// rounding cannot matter) the exact search would find nothing.
    /// </summary>
    private bool BoundaryBeyond(int cx, int cy, double px, double py, double searchRadius)
    {
        double dx = px - (_minX + (cx + 0.5) * _cell), dy = py - (_minY + (cy + 0.5) * _cell);
        return _centreDistance[cy * _nx + cx] - Math.Sqrt(dx * dx + dy * dy) > searchRadius + 1e-6;
    }

    private double RingSearch(double px, double py, int cx, int cy, double searchRadius)
    {
        double best2 = double.PositiveInfinity;
        int start = Math.Max(0, _emptyRings[cy * _nx + cx] - 1);
        int maxRing = Math.Max(_nx, _ny);
        for (int r = start; r <= maxRing; r++)
        {
            double ringLower = (r - 1) * _cell;
            if (ringLower > searchRadius || (ringLower > 0 && ringLower * ringLower > best2)) break;
            int x0 = cx - r, x1 = cx + r, y0 = cy - r, y1 = cy + r;
            for (int y = Math.Max(0, y0); y <= Math.Min(_ny - 1, y1); y++)
            {
                bool edgeRow = y == y0 || y == y1;
                for (int x = Math.Max(0, x0); x <= Math.Min(_nx - 1, x1); x++)
                {
                    if (!edgeRow && x != x0 && x != x1) { x = Math.Max(x, x1 - 1); continue; }
                    int c = y * _nx + x;
                    int from = _cellStart[c], to = _cellStart[c + 1];
                    if (from == to) continue;
                    // Every edge is listed in each cell it passes through, so a cell that lies farther away than
                    // the best edge so far cannot hold the nearest point of any edge.
                    double cellX = _minX + x * _cell, cellY = _minY + y * _cell;
                    double gx = Math.Max(Math.Max(cellX - px, 0), px - cellX - _cell);
                    double gy = Math.Max(Math.Max(cellY - py, 0), py - cellY - _cell);
                    if (gx * gx + gy * gy >= best2) continue;
                    for (int k = from; k < to; k++)
                    {
                        double d2 = SegmentDistanceSquared(_cellEdges[k], px, py);
                        if (d2 < best2) best2 = d2;
                    }
                }
            }
        }
        double best = Math.Sqrt(best2);
        return best <= searchRadius ? best : double.PositiveInfinity;
    }

    /// <summary>Even-odd test with a horizontal ray to +x over all edges (used to build and for tiny polygons).</summary>
    private bool RayParity(double px, double py)
    {
        bool inside = false;
        for (int i = 0; i < EdgeCount; i++)
        {
            double ay = _ay[i], by = _by[i];
            if ((ay > py) != (by > py))
            {
                double xCross = _ax[i] + (py - ay) / (by - ay) * (_bx[i] - _ax[i]);
                if (px < xCross) inside = !inside;
            }
        }
        return inside;
    }

    /// <summary>Does edge i cross the segment from (ox,oy) to (px,py)? Half-open at the edge's end points.</summary>
    private bool Crosses(int i, double ox, double oy, double px, double py)
    {
        double ax = _ax[i], ay = _ay[i], bx = _bx[i], by = _by[i];
        double da = Orient(ox, oy, px, py, ax, ay);
        double db = Orient(ox, oy, px, py, bx, by);
        if ((da > 0) == (db > 0)) return false;
        double dO = Orient(ax, ay, bx, by, ox, oy);
        double dP = Orient(ax, ay, bx, by, px, py);
        return (dO > 0) != (dP > 0);
    }

    private static double Orient(double ax, double ay, double bx, double by, double cx, double cy) =>
        (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);

    private double SegmentDistanceSquared(int i, double px, double py)
    {
        double ax = _ax[i], ay = _ay[i];
        double dx = _bx[i] - ax, dy = _by[i] - ay;
        double len2 = dx * dx + dy * dy;
        double t = len2 > 0 ? Math.Clamp(((px - ax) * dx + (py - ay) * dy) / len2, 0, 1) : 0;
        double ex = ax + t * dx - px, ey = ay + t * dy - py;
        return ex * ex + ey * ey;
    }

    private static double RectDistance(double px, double py, double minX, double minY, double maxX, double maxY)
    {
        double dx = Math.Max(Math.Max(minX - px, 0), px - maxX);
        double dy = Math.Max(Math.Max(minY - py, 0), py - maxY);
        return Math.Sqrt(dx * dx + dy * dy);
    }

    private (int[] Start, int[] Edges) BucketEdges()
    {
        var lists = new List<int>?[_nx * _ny];
        for (int i = 0; i < EdgeCount; i++)
        {
            int x0 = CellX(Math.Min(_ax[i], _bx[i])), x1 = CellX(Math.Max(_ax[i], _bx[i]));
            int y0 = CellY(Math.Min(_ay[i], _by[i])), y1 = CellY(Math.Max(_ay[i], _by[i]));
            for (int y = y0; y <= y1; y++)
            {
                for (int x = x0; x <= x1; x++)
                {
                    double cx = _minX + (x + 0.5) * _cell, cy = _minY + (y + 0.5) * _cell;
                    // Keep the edge only in cells it passes through (half a diagonal of the centre, plus slack).
                    if (SegmentDistanceSquared(i, cx, cy) > _cell * _cell * 0.5 * 1.0001) continue;
                    (lists[y * _nx + x] ??= []).Add(i);
                }
            }
        }
        var start = new int[_nx * _ny + 1];
        for (int c = 0; c < lists.Length; c++) start[c + 1] = start[c] + (lists[c]?.Count ?? 0);
        var edges = new int[start[^1]];
        for (int c = 0; c < lists.Length; c++) lists[c]?.CopyTo(edges, start[c]);
        return (start, edges);
    }

    /// <summary>For every cell, the Chebyshev ring at which the nearest cell holding an edge lies (0 = itself).</summary>
    private int[] ChebyshevDistanceToEdges()
    {
        var dist = new int[_nx * _ny];
        var queue = new Queue<int>();
        for (int c = 0; c < dist.Length; c++)
        {
            if (_cellStart[c + 1] > _cellStart[c]) { dist[c] = 0; queue.Enqueue(c); }
            else dist[c] = int.MaxValue;
        }
        while (queue.Count > 0)
        {
            int c = queue.Dequeue();
            int x = c % _nx, y = c / _nx;
            for (int dy = -1; dy <= 1; dy++)
            {
                for (int dx = -1; dx <= 1; dx++)
                {
                    int xx = x + dx, yy = y + dy;
                    if (xx < 0 || yy < 0 || xx >= _nx || yy >= _ny) continue;
                    int n = yy * _nx + xx;
                    if (dist[n] == int.MaxValue) { dist[n] = dist[c] + 1; queue.Enqueue(n); }
                }
            }
        }
        return dist;
    }

    private int CellX(double x) => Math.Clamp((int)((x - _minX) / _cell), 0, _nx - 1);
    private int CellY(double y) => Math.Clamp((int)((y - _minY) / _cell), 0, _ny - 1);
}
