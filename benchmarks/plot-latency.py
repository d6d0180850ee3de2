#!/usr/bin/env python3
"""Plots latency distributions (HdrHistogram percentile text, values in ms, as written by
proximity-sim load --histogram-out / --fix-histogram-out) to a PNG: latency against percentile on the usual
1/(1-p) axis, so the tail (p99, p99.9) is visible.

    python3 benchmarks/plot-latency.py --out latency.png "publish->decision=fix-latency.hgrm" [LABEL=FILE ...]

Needs matplotlib: apt-get install -y python3-matplotlib (Debian's package; nothing else is used).
"""
import argparse
import sys


def read_distribution(path):
    """(percentile, value ms) rows of HdrHistogram's percentile output; header and footer lines skipped."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) != 4 or line.lstrip().startswith("#"):
                continue
            try:
                value, percentile = float(parts[0]), float(parts[1])
            except ValueError:
                continue
            if percentile < 1.0:
                rows.append((percentile, value))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="PNG to write")
    parser.add_argument("--title", default="Proximity end-to-end latency")
    parser.add_argument("series", nargs="+", help="LABEL=FILE (HdrHistogram percentile text, ms)")
    args = parser.parse_args()
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot-latency: matplotlib is missing: apt-get install -y python3-matplotlib")

    fig, ax = plt.subplots(figsize=(9, 5.5))
    plotted = 0
    for item in args.series:
        label, sep, path = item.partition("=")
        if not sep:
            label, path = path or label, label
        try:
            rows = read_distribution(path)
        except OSError as e:
            print(f"plot-latency: {path}: {e.strerror}; skipped", file=sys.stderr)
            continue
        if not rows:
            print(f"plot-latency: {path}: no values; skipped", file=sys.stderr)
            continue
        xs = [1.0 / (1.0 - p) for p, _ in rows]
        ax.plot(xs, [v for _, v in rows], label=label, linewidth=1.6)
        plotted += 1
    if plotted == 0:
        sys.exit("plot-latency: nothing to plot")
    ticks = [1, 2, 10, 100, 1000, 10000]
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(ticks)
    ax.set_xticklabels(["0%", "50%", "90%", "99%", "99.9%", "99.99%"])
    ax.set_xlim(1, max(ticks))
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms)")
    ax.set_title(args.title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"plot-latency: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
