namespace Proximity.Spatial.Registry;

/// <summary>Receives the items whose box contains a query point.</summary>
internal interface IItemVisitor
{
    void Visit(int item);
}

/// <summary>
/// A static R-tree packed bottom-up in Hilbert order of the box centres (the flat-array layout of a packed
/// Hilbert R-tree): one array of boxes for items and nodes, no per-node objects, queries without allocation.
/// Build once, query from any thread; to change it, build a new one.
/// </summary>
internal sealed class PackedHilbertRTree
{
    public const int NodeSize = 16;
    private const int MaxStack = 512;

    // Boxes of items (positions 0..n-1, in Hilbert order) then of nodes level by level up to the root.
    private readonly double[] _minX, _minY, _maxX, _maxY;
    // For an item position: the item's index as given. For a node: the position of its first child.
    private readonly int[] _index;
    // Exclusive end position of each level (level 0 = items).
    private readonly int[] _levelEnd;

    /// <param name="ids">What to report for each box (default: its position in the arrays).</param>
    public PackedHilbertRTree(ReadOnlySpan<double> minX, ReadOnlySpan<double> minY, ReadOnlySpan<double> maxX, ReadOnlySpan<double> maxY,
        ReadOnlySpan<int> ids = default)
    {
        int n = minX.Length;
        if (minY.Length != n || maxX.Length != n || maxY.Length != n || (!ids.IsEmpty && ids.Length != n)) throw new ArgumentException("box arrays differ in length");
        Count = n;

        var levels = new List<int>();
        int total = n, count = n;
        levels.Add(n);
        while (count > 1)
        {
            count = (count + NodeSize - 1) / NodeSize;
            total += count;
            levels.Add(total);
        }
        _levelEnd = levels.ToArray();
        if (_levelEnd.Length * NodeSize > MaxStack) throw new ArgumentException("too many items for the query stack");
        _minX = new double[total]; _minY = new double[total]; _maxX = new double[total]; _maxY = new double[total];
        _index = new int[total];
        if (n == 0) return;

        double eMinX = double.MaxValue, eMinY = double.MaxValue, eMaxX = double.MinValue, eMaxY = double.MinValue;
        for (int i = 0; i < n; i++)
        {
            eMinX = Math.Min(eMinX, minX[i]); eMinY = Math.Min(eMinY, minY[i]);
            eMaxX = Math.Max(eMaxX, maxX[i]); eMaxY = Math.Max(eMaxY, maxY[i]);
        }
        double sx = 65535 / Math.Max(eMaxX - eMinX, 1e-12), sy = 65535 / Math.Max(eMaxY - eMinY, 1e-12);
        var keys = new uint[n];
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            uint hx = (uint)((0.5 * (minX[i] + maxX[i]) - eMinX) * sx);
            uint hy = (uint)((0.5 * (minY[i] + maxY[i]) - eMinY) * sy);
            keys[i] = Hilbert(hx, hy);
            order[i] = i;
        }
        Array.Sort(keys, order);
        for (int p = 0; p < n; p++)
        {
            int i = order[p];
            _minX[p] = minX[i]; _minY[p] = minY[i]; _maxX[p] = maxX[i]; _maxY[p] = maxY[i];
            _index[p] = ids.IsEmpty ? i : ids[i];
        }

        // Each node covers NodeSize consecutive entries of the level below.
        int pos = n;
        for (int level = 0; level + 1 < _levelEnd.Length; level++)
        {
            int start = level == 0 ? 0 : _levelEnd[level - 1], end = _levelEnd[level];
            for (int c = start; c < end; c += NodeSize)
            {
                double a = double.MaxValue, b = double.MaxValue, d = double.MinValue, e = double.MinValue;
                for (int k = c; k < Math.Min(c + NodeSize, end); k++)
                {
                    a = Math.Min(a, _minX[k]); b = Math.Min(b, _minY[k]);
                    d = Math.Max(d, _maxX[k]); e = Math.Max(e, _maxY[k]);
                }
                _minX[pos] = a; _minY[pos] = b; _maxX[pos] = d; _maxY[pos] = e;
                _index[pos] = c;
                pos++;
            }
        }
    }

    public int Count { get; }

    /// <summary>Visits every item whose box contains (x, y), boundary included, in no particular order.</summary>
    public void Query<TVisitor>(double x, double y, ref TVisitor visitor) where TVisitor : struct, IItemVisitor, allows ref struct
    {
        if (Count == 0) return;
        Span<int> stack = stackalloc int[MaxStack];
        int top = 0;
        int root = _minX.Length - 1;
        if (!Contains(root, x, y)) return;
        if (Count == 1) { visitor.Visit(_index[0]); return; }
        stack[top++] = root;
        while (top > 0)
        {
            int node = stack[--top];
            int first = _index[node];
            int end = Math.Min(first + NodeSize, LevelEndOf(first));
            bool leaves = first < Count;
            for (int p = first; p < end; p++)
            {
                if (!Contains(p, x, y)) continue;
                if (leaves) visitor.Visit(_index[p]);
                else stack[top++] = p;
            }
        }
    }

    private bool Contains(int p, double x, double y) =>
        x >= _minX[p] && x <= _maxX[p] && y >= _minY[p] && y <= _maxY[p];

    private int LevelEndOf(int position)
    {
        foreach (int end in _levelEnd)
            if (position < end) return end;
        return _minX.Length;
    }

    /// <summary>Index of (x, y) on the Hilbert curve of order 16 (both coordinates below 65536).</summary>
    internal static uint Hilbert(uint x, uint y)
    {
        // Walk the quadrants from the most significant bit, rotating the frame as the curve does.
        uint d = 0;
        for (uint s = 1u << 15; s > 0; s >>= 1)
        {
            uint rx = (x & s) > 0 ? 1u : 0u;
            uint ry = (y & s) > 0 ? 1u : 0u;
            d += s * s * ((3 * rx) ^ ry);
            if (ry == 0)
            {
                if (rx == 1)
                {
                    // Flipping every bit is enough: only the bits below s are read from here on.
                    x ^= 0xFFFF;
                    y ^= 0xFFFF;
                }
                (x, y) = (y, x);
            }
        }
        return d;
    }
}
