namespace Proximity.Spatial.Registry;

/// <summary>
/// A uniform grid of bounding boxes for point queries: each cell lists the boxes that overlap it, with the
/// boxes stored inline (as floats rounded outward) so that a query reads one cell's entries contiguously
/// instead of chasing the levels of a tree through memory. Boxes spanning many cells go to a packed Hilbert
/// R-tree instead, so a few large zones cannot blow up the grid. Immutable after construction.
/// </summary>
internal sealed class BoxGrid
{
    private const int MaxCellsPerSide = 16; // a box wider than this many cells goes to the tree
    private const int MaxCells = 1 << 22;

    private readonly struct Entry(float minX, float minY, float maxX, float maxY, int item)
    {
        public readonly float MinX = minX, MinY = minY, MaxX = maxX, MaxY = maxY;
        public readonly int Item = item;
    }

    private readonly double _originX, _originY, _inverseCellW, _inverseCellH;
    private readonly int _nx, _ny;
    private readonly int[] _cellStart = [0];
    private readonly Entry[] _entries = [];
    private readonly int[] _largeItems;
    private readonly PackedHilbertRTree _large;

    public BoxGrid(double[] minX, double[] minY, double[] maxX, double[] maxY)
    {
        int n = minX.Length;
        Count = n;
        var large = new List<int>();
        if (n == 0)
        {
            _largeItems = [];
            _large = new PackedHilbertRTree([], [], [], []);
            return;
        }

        // Cells about the size of a typical box: most boxes then touch one to four cells.
        double ox = double.MaxValue, oy = double.MaxValue, ex = double.MinValue, ey = double.MinValue;
        var widths = new double[n];
        var heights = new double[n];
        for (int i = 0; i < n; i++)
        {
            ox = Math.Min(ox, minX[i]); oy = Math.Min(oy, minY[i]);
            ex = Math.Max(ex, maxX[i]); ey = Math.Max(ey, maxY[i]);
            widths[i] = maxX[i] - minX[i];
            heights[i] = maxY[i] - minY[i];
        }
        double spanX = Math.Max(ex - ox, 1e-9), spanY = Math.Max(ey - oy, 1e-9);
        double cellW = Math.Max(Median(widths), spanX / 4096), cellH = Math.Max(Median(heights), spanY / 4096);
        _nx = Math.Max(1, (int)Math.Ceiling(spanX / cellW));
        _ny = Math.Max(1, (int)Math.Ceiling(spanY / cellH));
        while ((long)_nx * _ny > Math.Max(MaxCells / 4, Math.Min(MaxCells, 4L * n)))
        {
            cellW *= 1.5; cellH *= 1.5;
            _nx = Math.Max(1, (int)Math.Ceiling(spanX / cellW));
            _ny = Math.Max(1, (int)Math.Ceiling(spanY / cellH));
        }
        _originX = ox; _originY = oy;
        _inverseCellW = 1 / cellW; _inverseCellH = 1 / cellH;

        // Two passes: count entries per cell, then place them.
        var counts = new int[_nx * _ny + 1];
        var isLarge = new bool[n];
        for (int i = 0; i < n; i++)
        {
            var (x0, y0, x1, y1) = CellRange(minX[i], minY[i], maxX[i], maxY[i]);
            if (x1 - x0 >= MaxCellsPerSide || y1 - y0 >= MaxCellsPerSide) { isLarge[i] = true; large.Add(i); continue; }
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) counts[y * _nx + x + 1]++;
        }
        for (int c = 0; c < _nx * _ny; c++) counts[c + 1] += counts[c];
        _cellStart = counts;
        _entries = new Entry[counts[^1]];
        var fill = (int[])counts.Clone();
        for (int i = 0; i < n; i++)
        {
            if (isLarge[i]) continue;
            var entry = new Entry(Down(minX[i]), Down(minY[i]), Up(maxX[i]), Up(maxY[i]), i);
            var (x0, y0, x1, y1) = CellRange(minX[i], minY[i], maxX[i], maxY[i]);
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++) _entries[fill[y * _nx + x]++] = entry;
        }

        _largeItems = large.ToArray();
        _large = new PackedHilbertRTree(
            _largeItems.Select(i => minX[i]).ToArray(), _largeItems.Select(i => minY[i]).ToArray(),
            _largeItems.Select(i => maxX[i]).ToArray(), _largeItems.Select(i => maxY[i]).ToArray(), _largeItems);
    }

    public int Count { get; }

    /// <summary>Items in the R-tree rather than the grid (boxes spanning many cells).</summary>
    public int LargeCount => _largeItems.Length;

    /// <summary>
    /// Visits every item whose box contains (x, y), boundary included, each at most once; it may also visit an item
    /// whose box misses the point by less than the float rounding of the box (about 1e-5 of the coordinates).
    /// </summary>
    public void Query<TVisitor>(double x, double y, ref TVisitor visitor) where TVisitor : struct, IItemVisitor, allows ref struct
    {
        if (Count == 0) return;
        double fx = (x - _originX) * _inverseCellW, fy = (y - _originY) * _inverseCellH;
        if (fx >= 0 && fy >= 0 && fx < _nx + 1 && fy < _ny + 1)
        {
            int c = Math.Min((int)fy, _ny - 1) * _nx + Math.Min((int)fx, _nx - 1);
            var entries = _entries.AsSpan(_cellStart[c], _cellStart[c + 1] - _cellStart[c]);
            foreach (ref readonly var e in entries)
                if (x >= e.MinX && x <= e.MaxX && y >= e.MinY && y <= e.MaxY) visitor.Visit(e.Item);
        }
        if (_largeItems.Length > 0) _large.Query(x, y, ref visitor);
    }

    private (int X0, int Y0, int X1, int Y1) CellRange(double minX, double minY, double maxX, double maxY) =>
        (Cell(minX, _originX, _inverseCellW, _nx), Cell(minY, _originY, _inverseCellH, _ny),
         Cell(maxX, _originX, _inverseCellW, _nx), Cell(maxY, _originY, _inverseCellH, _ny));

    private static int Cell(double v, double origin, double inverse, int count) =>
        Math.Clamp((int)((v - origin) * inverse), 0, count - 1);

    private static float Down(double v)
    {
        float f = (float)v;
        return f > v ? MathF.BitDecrement(f) : f;
    }

    private static float Up(double v)
    {
        float f = (float)v;
        return f < v ? MathF.BitIncrement(f) : f;
    }

    private static double Median(double[] values)
    {
        var copy = (double[])values.Clone();
        Array.Sort(copy);
        return copy[copy.Length / 2];
    }
}
