"""bench/compare's table: with --rounds the speed-up is the median of the per-round ratios, and a side that failed shows its error."""
import contextlib
import io
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "compare"))
import rows  # noqa: E402
import run  # noqa: E402


def row(impl, ms, round_index=None, tag="a", workload="mlp", rule="ottt", peak=2**20):
    r = {"impl": impl, "tag": tag, "workload": workload, "rule": rule, "batch": 128, "T": 6, "median_ms": ms, "peak_bytes": peak}
    if round_index is not None:
        r["round"] = round_index
    return r


def table(rs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run.print_table(rs)
    return out.getvalue().splitlines()


# Three rounds, the sides alternating: ratios 3, 2 and 5 (a round's SpikingJelly over its spikefuse).
three = [row("spikefuse", 10.0, 0), row("spikingjelly", 30.0, 0), row("spikingjelly", 40.0, 1), row("spikefuse", 20.0, 1),
         row("spikefuse", 10.0, 2), row("spikingjelly", 50.0, 2)]
groups = rows.group(three)
assert rows.group(r for r in three) == groups  # plot.py passes a generator
assert list(groups) == [("a", "mlp", "ottt", 128, 6, "")]
assert rows.round_ratios(groups[("a", "mlp", "ottt", 128, 6, "")]) == [3.0, 2.0, 5.0]
lines = table(three)
assert "median of 3 rounds" in lines[0], lines[0]
# Medians over the rounds: 10 ms and 40 ms; the speed-up is the median ratio (3), not 40 / 10.
assert "| 10.0 | 40.0 | 3.00x (2.00-5.00) |" in lines[2], lines[2]

# A result written before rounds existed (no "round" field): one ratio, no range.
old = [row("spikefuse", 8.0, tag="b", workload="csnn"), row("spikingjelly", 20.0, tag="b", workload="csnn")]
lines = table(old)
assert "rounds" not in lines[0] and "| 8.0 | 20.0 | 2.50x |" in lines[2], lines

# A side that failed: its error in the time cell, no speed-up.
failed = [row("spikefuse", 5.0, 0), {"impl": "spikingjelly", "tag": "a", "workload": "mlp", "rule": "ottt", "batch": 128, "T": 6,
                                      "round": 0, "error": "CUDA out of memory"}]
lines = table(failed)
assert "| 5.0 | CUDA out of memory | - |" in lines[2], lines[2]

# Two convolution paths (run.py --conv im2col,cudnn), SpikingJelly measured once and first in round 1:
# a line per path, each against the same SpikingJelly time; a path that failed shows its own error.
def conv_row(impl, ms, round_index, variant=None):
    r = row(impl, ms, round_index, tag="c", workload="vgg11ws")
    if variant:
        r["variant"] = variant
    return r


paths = [conv_row("spikefuse", 20.0, 0, "im2col"), conv_row("spikefuse", 10.0, 0, "cudnn"), conv_row("spikingjelly", 40.0, 0),
         conv_row("spikingjelly", 60.0, 1), conv_row("spikefuse", 30.0, 1, "im2col"),
         {"impl": "spikefuse", "tag": "c", "workload": "vgg11ws", "rule": "ottt", "batch": 128, "T": 6, "round": 1,
          "variant": "cudnn", "error": "cuDNN could not be loaded"}]
groups = rows.group(paths)
assert list(groups) == [("c", "vgg11ws", "ottt", 128, 6, "im2col"), ("c", "vgg11ws", "ottt", 128, 6, "cudnn")], list(groups)
assert rows.round_ratios(groups[("c", "vgg11ws", "ottt", 128, 6, "im2col")]) == [2.0, 2.0]
assert rows.round_ratios(groups[("c", "vgg11ws", "ottt", 128, 6, "cudnn")]) == [4.0]
lines = table(paths)
assert "| vgg11ws (im2col) | OTTT | 128 | 6 | 25.0 | 50.0 | 2.00x (2.00-2.00) |" in lines[2], lines[2]
assert "| vgg11ws (cudnn) | OTTT | 128 | 6 | 10.0 | 50.0 | 4.00x |" in lines[3], lines[3]

# SpikingJelly failed for a workload with two paths: both lines show its error.
sj_failed = [conv_row("spikefuse", 20.0, 0, "im2col"), conv_row("spikefuse", 10.0, 0, "cudnn"),
             {"impl": "spikingjelly", "tag": "c", "workload": "vgg11ws", "rule": "ottt", "batch": 128, "T": 6, "round": 0,
              "error": "CUDA out of memory"}]
lines = table(sj_failed)
assert "| 20.0 | CUDA out of memory | - |" in lines[2] and "| 10.0 | CUDA out of memory | - |" in lines[3], lines


# The run plan: one SpikingJelly measurement per workload and round, one spikefuse measurement per path
# for the networks with convolutions only, the sides alternating between rounds.
def plan(*argv):
    import argparse
    ns = argparse.Namespace(device="cuda", workloads="ab", rounds=2, conv="im2col,cudnn", cpu_conv_batch=4, sweep_batch=0)
    for k, v in zip(argv[::2], argv[1::2]):
        setattr(ns, k, v)
    return [(t[1], t[5], t[6], t[8]) for t in run.workloads(ns)]


p = plan()
mlp = [e for e in p if e[0] == "mlp"]
assert mlp[:4] == [("mlp", "spikefuse", "im2col", 0), ("mlp", "spikingjelly", None, 0),
                   ("mlp", "spikingjelly", None, 1), ("mlp", "spikefuse", "im2col", 1)], mlp
csnn = [e for e in p if e[0] == "csnn"]
assert csnn[:6] == [("csnn", "spikefuse", "im2col", 0), ("csnn", "spikefuse", "cudnn", 0), ("csnn", "spikingjelly", None, 0),
                    ("csnn", "spikingjelly", None, 1), ("csnn", "spikefuse", "im2col", 1), ("csnn", "spikefuse", "cudnn", 1)], csnn
# On the CPU there is one convolution path.
assert all(e[2] in (None, "im2col") for e in plan("device", "cpu")), plan("device", "cpu")
print("bench/compare table: rounds, old results, failures and convolution paths as expected")
