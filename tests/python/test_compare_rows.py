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
assert list(groups) == [("a", "mlp", "ottt", 128, 6)]
assert rows.round_ratios(groups[("a", "mlp", "ottt", 128, 6)]) == [3.0, 2.0, 5.0]
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
print("bench/compare table: rounds, old results and failures as expected")
