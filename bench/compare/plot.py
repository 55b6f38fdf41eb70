#!/usr/bin/env python3
"""Plots of a bench/compare/run.py result: the step-time ratio per workload and memory / time against T.

    ~/sjvenv/bin/python bench/compare/plot.py bench/results/<date>-<device>-compare.json [--out-dir docs/img]

Writes <stem>-speedup.png (SpikingJelly time / spikefuse time for workloads a-d; with several rounds
the median and their range),
<stem>-memory-vs-T.png and <stem>-time-vs-T.png (workload e: spikefuse OTTT, SpikingJelly OTTT,
SpikingJelly BPTT), each titled with device, date and commit.
"""
import argparse
import json
import os
import statistics

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from rows import group, round_ratios  # noqa: E402


def label(r, variant=""):
    return "%s%s %s\nbatch %d, T %d" % (r["workload"], " (%s)" % variant if variant else "", r["rule"].upper(), r["batch"], r["T"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("result")
    ap.add_argument("--out-dir", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "img"))
    args = ap.parse_args()
    with open(args.result) as f:
        data = json.load(f)
    m = data["machine"]
    stem = os.path.splitext(os.path.basename(args.result))[0]
    os.makedirs(args.out_dir, exist_ok=True)
    title = "%s | %s | commit %s" % (m["device"], m["date"], m["commit"])
    rows = [r for r in data["rows"] if "median_ms" in r]
    written = []

    # Speed-up per workload (a-d): the median of the rounds' ratios (run.py --rounds), their range as a bar.
    names, ratios, low, high = [], [], [], []
    for key, impls in group(r for r in rows if r["tag"] in "abcd").items():
        per_round = round_ratios(impls)
        if per_round:
            names.append(label(impls["spikefuse"][0], key[5]))
            ratios.append(statistics.median(per_round))
            low.append(ratios[-1] - min(per_round))
            high.append(max(per_round) - ratios[-1])
    if ratios:
        fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(ratios)), 4))
        spread = [low, high] if any(low) or any(high) else None
        bars = ax.bar(range(len(ratios)), ratios, color="#3572a5", yerr=spread, capsize=4 if spread else 0)
        ax.bar_label(bars, labels=["%.1fx" % v for v in ratios])
        ax.axhline(1.0, color="gray", lw=0.8)
        ax.set_xticks(range(len(ratios)), names, fontsize=8)
        ax.set_ylabel("SpikingJelly time / spikefuse time")
        ax.set_title("Training step (one batch): speed-up over SpikingJelly\n" + title, fontsize=9)
        fig.tight_layout()
        path = os.path.join(args.out_dir, stem + "-speedup.png")
        fig.savefig(path, dpi=110)
        written.append(path)

    # Memory and time against T (e).
    sweep = [r for r in rows if r["tag"] == "e"]
    # spikefuse: a line per convolution path where the run measured several (run.py --conv im2col,cudnn)
    ours = sorted({r.get("variant", "") for r in sweep if r["impl"] == "spikefuse"})
    series = {("spikefuse OTTT (%s)" % v if v else "spikefuse OTTT"): ("spikefuse", "ottt", v) for v in ours}
    series.update({"SpikingJelly OTTT": ("spikingjelly", "ottt", ""), "SpikingJelly BPTT": ("spikingjelly", "bptt", "")})
    if sweep:
        for what, key, unit, scale in (("memory", "peak_bytes", "MiB", 2.0**-20), ("time", "median_ms", "ms per batch", 1.0)):
            fig, ax = plt.subplots(figsize=(6, 4))
            for name, (impl, rule, variant) in series.items():
                pts = sorted((r["T"], r[key] * scale) for r in sweep
                             if r["impl"] == impl and r["rule"] == rule and r.get("variant", "") == variant)
                if pts:
                    ax.plot([t for t, _ in pts], [v for _, v in pts], marker="o", label=name)
            ax.set_xscale("log", base=2)
            if what == "time":
                ax.set_yscale("log")
            ax.set_xlabel("T (time steps)")
            ax.set_ylabel(unit)
            batch = sweep[0]["batch"]
            ax.set_title("OTTT VGG-11-WS, batch %d: %s against T\n%s" % (batch, what, title), fontsize=9)
            ax.legend()
            ax.grid(alpha=0.3)
            fig.tight_layout()
            path = os.path.join(args.out_dir, "%s-%s-vs-T.png" % (stem, what))
            fig.savefig(path, dpi=110)
            written.append(path)
    for p in written:
        print(os.path.relpath(p))


if __name__ == "__main__":
    main()
