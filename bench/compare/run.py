#!/usr/bin/env python3
"""spikefuse against SpikingJelly: the same network, batch, T, precision and training rule on this machine, in one run.

    bench/compare/setup_venv.sh                      # once: a venv with torch, spikingjelly, matplotlib
    ~/sjvenv/bin/python bench/compare/run.py --device cpu [--build build] [--out FILE.json]
    ~/sjvenv/bin/python bench/compare/plot.py FILE.json            # the PNGs of docs/benchmarks.md

Every measurement runs in a fresh process, one at a time: build/bench/spikefuse_worker for spikefuse,
bench/compare/sj_worker.py for SpikingJelly (torch backend, the only one its OTTT/SLTT neurons have;
for BPTT its fastest multi-step backend). Each times one training batch — T online steps, each a
forward and a backward, then the optimizer update — `--reps` times after `--warmup` batches, and
reports the median (and 10th/90th percentiles) and the peak memory (CPU: peak resident set size
above the process's size before the network is built; GPU: the device memory the model holds /
torch.cuda.max_memory_allocated). Workloads:

  a  Fashion-MNIST MLP 784-800-10, batch 128, T = 6, OTTT and SLTT
  b  Fashion-MNIST CSNN, batch 64 (CPU) / 128 (GPU), T = 4, OTTT and SLTT
  c  OTTT VGG-11-WS, 3x32x32, T = 6, batch 128 (GPU) / --cpu-conv-batch (CPU, default 4)
  d  SLTT ResNet-18, the same shapes
  e  VGG-11-WS against T in {1, 2, 4, 8, 16, 32, 64}: spikefuse OTTT, SpikingJelly OTTT and
     SpikingJelly BPTT (multi-step LIF), batch --sweep-batch (CPU default 1, GPU 32)

On the GPU, --conv im2col,cudnn measures spikefuse once per convolution path for the workloads
with convolutions (b-e) and SpikingJelly once: the table has a line per path, each against the same
SpikingJelly measurement (SpikingJelly runs cuDNN either way).

With --rounds N (workloads a-d) each workload is measured N times, the two sides alternating
(spikefuse first in odd rounds, SpikingJelly first in even ones), and the table gives the median of
the N per-round speed-ups with their range: on a machine whose speed drifts over minutes (a shared
VM), a ratio within one round is what compares.

Prints a markdown table and writes the raw rows with device, date, commit and this command line; exits
with an error when a spikefuse measurement failed (a SpikingJelly failure, such as BPTT out of memory, is
a result in the table).
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys

from rows import group, key_of, median_of, round_ratios

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SWEEP_T = [1, 2, 4, 8, 16, 32, 64]


CONV_WORKLOADS = {"csnn", "vgg11ws", "resnet18"}


def conv_paths(args):
    """spikefuse's convolution paths to measure: the --conv list on the GPU; the CPU has one path."""
    paths = [c for c in args.conv.split(",") if c]
    bad = [c for c in paths if c not in ("im2col", "cudnn")]
    if bad or not paths or len(set(paths)) != len(paths):
        sys.exit("error: --conv takes im2col, cudnn or both, comma-separated (got %r)" % args.conv)
    return paths if args.device == "cuda" else paths[:1]


def workloads(args):
    gpu = args.device == "cuda"
    paths = conv_paths(args)
    conv_batch = 128 if gpu else args.cpu_conv_batch
    sweep_batch = args.sweep_batch or (32 if gpu else 1)
    rows = []
    if "a" in args.workloads:
        rows += [("a", "mlp", rule, 128, 6) for rule in ("ottt", "sltt")]
    if "b" in args.workloads:
        rows += [("b", "csnn", rule, 128 if gpu else 64, 4) for rule in ("ottt", "sltt")]
    if "c" in args.workloads:
        rows.append(("c", "vgg11ws", "ottt", conv_batch, 6))
    if "d" in args.workloads:
        rows.append(("d", "resnet18", "sltt", conv_batch, 6))
    def ours(w):  # one spikefuse measurement per convolution path (a variant where there are several)
        if w not in CONV_WORKLOADS or len(paths) == 1:
            return [("spikefuse", paths[0], "")]
        return [("spikefuse", c, c) for c in paths]

    theirs = [("spikingjelly", None, "")]
    table = []
    for tag, w, rule, batch, T in rows:
        for k in range(args.rounds):
            order = ours(w) + theirs if k % 2 == 0 else theirs + ours(w)
            table += [(tag, w, rule, batch, T, impl, conv, variant, k) for impl, conv, variant in order]
    if "e" in args.workloads:
        for T in SWEEP_T:
            table += [("e", "vgg11ws", "ottt", sweep_batch, T, impl, conv, variant, 0) for impl, conv, variant in ours("vgg11ws")]
            table.append(("e", "vgg11ws", "ottt", sweep_batch, T, "spikingjelly", None, "", 0))
            table.append(("e", "vgg11ws", "bptt", sweep_batch, T, "spikingjelly", None, "", 0))
    return table


def run_one(args, tag, workload, rule, batch, T, impl, conv, variant, round_index):
    reps = args.sweep_reps if tag == "e" and args.sweep_reps else args.reps
    common = ["--workload", workload, "--rule", rule, "--batch", str(batch), "--T", str(T), "--reps", str(reps),
              "--warmup", str(args.warmup), "--device", args.device]
    if impl == "spikefuse":
        cmd = [os.path.join(args.build, "bench", "spikefuse_worker")] + common + ["--precision", args.precision]
        if args.device == "cuda":
            cmd += ["--conv", conv]
    else:
        cmd = [args.sj_python, os.path.join(HERE, "sj_worker.py")] + common
        if args.precision == "tf32":
            cmd.append("--tf32")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        err = None
        if proc.returncode != 0:
            # A configuration that does not fit (out of memory at large T for BPTT) is a result too.
            err = (proc.stderr.strip().splitlines() or ["exit code %d" % proc.returncode])[-1]
    except subprocess.TimeoutExpired:
        err = "timed out after %d s" % args.timeout
    if err is not None:
        row = {"impl": impl, "workload": workload, "rule": rule, "batch": batch, "T": T, "tag": tag,
               "round": round_index, "error": err, "command": shlex.join(cmd)}
        if variant:
            row["variant"] = variant
        return row
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    if variant:
        row["variant"] = variant
    row["tag"] = tag
    row["round"] = round_index
    row["command"] = shlex.join(cmd)
    return row


def machine(args):
    info = {"date": datetime.date.today().isoformat(),
            "commit": args.commit or subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                                    text=True).stdout.strip(),
            "command": shlex.join([os.path.relpath(sys.argv[0], ROOT)] + sys.argv[1:]),
            "cores": os.cpu_count(), "platform": platform.platform()}
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    if args.device == "cuda":
        q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                           capture_output=True, text=True)
        info["gpu"] = q.stdout.strip()
    info["device"] = info.get("gpu") if args.device == "cuda" else "cpu: %s, %d cores" % (info["cpu"], info["cores"])
    return info


def mib(b):
    return "%.1f" % (b / 2**20) if b is not None else "-"


def print_table(rows):
    rounds = max((r.get("round", 0) for r in rows), default=0) + 1
    print("| | workload | rule | batch | T | spikefuse ms | SpikingJelly ms | speed-up%s | spikefuse MiB | SpikingJelly MiB | memory ratio |"
          % (" (median of %d rounds, range)" % rounds if rounds > 1 else ""))
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    errors = {}
    for r in rows:
        if "error" in r:
            variant = r.get("variant", "") if r["impl"] == "spikefuse" else ""
            errors.setdefault(key_of(r) + (variant, r["impl"]), r["error"])
    for (tag, w, rule, batch, T, variant), impls in group(rows).items():
        cells, mem = [], []
        for impl in ("spikefuse", "spikingjelly"):
            ms, peak = median_of(impls.get(impl, []), "median_ms"), median_of(impls.get(impl, []), "peak_bytes")
            error_key = (tag, w, rule, batch, T, variant if impl == "spikefuse" else "", impl)
            cells.append("%.1f" % ms if ms is not None else errors.get(error_key, "-")[:40])
            mem.append(peak)
        ratios = round_ratios(impls)
        speed = "-"
        if ratios:
            speed = "%.2fx" % statistics.median(ratios)
            if len(ratios) > 1:
                speed += " (%.2f-%.2f)" % (min(ratios), max(ratios))
        ratio = "%.2f" % (mem[0] / mem[1]) if mem[0] and mem[1] else "-"
        shown = "%s (%s)" % (w, variant) if variant else w
        print("| %s | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s |" % (tag, shown, rule.upper(), batch, T, cells[0], cells[1],
                                                                     speed, mib(mem[0]), mib(mem[1]), ratio))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sj-python", default=sys.executable, help="python with torch and spikingjelly (default: this one)")
    ap.add_argument("--workloads", default="abcde", help="letters of the workloads to run (default abcde)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=1, help="workloads a-d: measure each this many times, alternating sides")
    ap.add_argument("--sweep-reps", type=int, default=0, help="reps for workload e (default: --reps)")
    ap.add_argument("--sweep-batch", type=int, default=0)
    ap.add_argument("--cpu-conv-batch", type=int, default=4)
    ap.add_argument("--precision", choices=["fp32", "tf32"], default="fp32")
    ap.add_argument("--conv", default="im2col",
                    help="GPU: how spikefuse runs its convolutions: im2col, cudnn, or im2col,cudnn for a line each "
                         "(SpikingJelly uses cuDNN either way)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per measurement")
    ap.add_argument("--out", default="")
    ap.add_argument("--commit", default="", help="the commit the worker was built from (default: git HEAD here)")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.build, "bench", "spikefuse_worker")):
        sys.exit("error: %s/bench/spikefuse_worker not found: build the target spikefuse_worker first" % args.build)

    conv_paths(args)  # a bad --conv fails before anything runs
    info = machine(args)
    print("# %s; %s; commit %s" % (info["date"], info["device"], info["commit"]), flush=True)
    out = args.out or os.path.join(ROOT, "bench", "results", "%s-%s-compare.json" % (info["date"], args.device))
    rows = []
    for spec in workloads(args):
        row = run_one(args, *spec)
        rows.append(row)
        with open(out, "w") as f:  # after every row: a run cut short by a time limit keeps what it measured
            json.dump({"machine": info, "rows": rows}, f, indent=1)
        shown = ("%.1f ms, %s MiB" % (row["median_ms"], mib(row["peak_bytes"]))) if "median_ms" in row else row["error"]
        impl = "%s (%s)" % (spec[5], spec[7]) if spec[7] else spec[5]
        print("  %s %-9s %-5s batch %-3d T %-2d %-12s %s%s" % (spec[0], spec[1], spec[2], spec[3], spec[4], impl, shown,
                                                                "  (round %d)" % (spec[8] + 1) if args.rounds > 1 else ""),
              file=sys.stderr, flush=True)
    print_table(rows)
    blas = sorted({r["blas"] for r in rows if r.get("blas") and r.get("device") == "cpu"})
    if blas:  # on the CPU the GEMMs are most of a conv net's time: which kernels ran matters
        print("spikefuse CPU GEMMs: %s" % "; ".join(blas))
    print("raw rows: %s" % os.path.relpath(out, ROOT))
    # SpikingJelly failing (BPTT out of memory at large T) is a result; spikefuse failing is not.
    failed = sum(1 for r in rows if r["impl"] == "spikefuse" and "error" in r)
    if failed:
        sys.exit("error: %d spikefuse measurement(s) failed (their errors are in the table and in %s)" % (failed, out))


if __name__ == "__main__":
    main()
