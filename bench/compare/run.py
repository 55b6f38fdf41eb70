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

Prints a markdown table and writes the raw rows with device, date, commit and this command line.
"""
import argparse
import datetime
import json
import os
import platform
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SWEEP_T = [1, 2, 4, 8, 16, 32, 64]


def workloads(args):
    gpu = args.device == "cuda"
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
    table = [(tag, w, rule, batch, T, impl) for tag, w, rule, batch, T in rows for impl in ("spikefuse", "spikingjelly")]
    if "e" in args.workloads:
        for T in SWEEP_T:
            table.append(("e", "vgg11ws", "ottt", sweep_batch, T, "spikefuse"))
            table.append(("e", "vgg11ws", "ottt", sweep_batch, T, "spikingjelly"))
            table.append(("e", "vgg11ws", "bptt", sweep_batch, T, "spikingjelly"))
    return table


def run_one(args, tag, workload, rule, batch, T, impl):
    reps = args.sweep_reps if tag == "e" and args.sweep_reps else args.reps
    common = ["--workload", workload, "--rule", rule, "--batch", str(batch), "--T", str(T), "--reps", str(reps),
              "--warmup", str(args.warmup), "--device", args.device]
    if impl == "spikefuse":
        cmd = [os.path.join(args.build, "bench", "spikefuse_worker")] + common + ["--precision", args.precision]
        if args.device == "cuda":
            cmd += ["--conv", args.conv]
    else:
        cmd = [args.sj_python, os.path.join(HERE, "sj_worker.py")] + common
        if args.precision == "tf32":
            cmd.append("--tf32")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode != 0:
        # A configuration that does not fit (out of memory at large T for BPTT) is a result too.
        err = (proc.stderr.strip().splitlines() or ["exit code %d" % proc.returncode])[-1]
        return {"impl": impl, "workload": workload, "rule": rule, "batch": batch, "T": T, "tag": tag,
                "error": err, "command": shlex.join(cmd)}
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    row["tag"] = tag
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
    by_key = {}
    for r in rows:
        by_key.setdefault((r["tag"], r["workload"], r["rule"], r["batch"], r["T"]), {})[r["impl"]] = r
    print("| | workload | rule | batch | T | spikefuse ms | SpikingJelly ms | speed-up | spikefuse MiB | SpikingJelly MiB | memory ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for (tag, w, rule, batch, T), pair in by_key.items():
        ours, theirs = pair.get("spikefuse"), pair.get("spikingjelly")
        cells = []
        for r in (ours, theirs):
            cells.append(("%.1f" % r["median_ms"]) if r and "median_ms" in r else (r.get("error", "-")[:40] if r else "-"))
        speed = "%.2fx" % (theirs["median_ms"] / ours["median_ms"]) if ours and theirs and "median_ms" in ours and "median_ms" in theirs else "-"
        mem = [mib(r.get("peak_bytes")) if r and "peak_bytes" in r else "-" for r in (ours, theirs)]
        ratio = ("%.2f" % (ours["peak_bytes"] / theirs["peak_bytes"])
                 if ours and theirs and ours.get("peak_bytes") and theirs.get("peak_bytes") else "-")
        print("| %s | %s | %s | %d | %d | %s | %s | %s | %s | %s | %s |" % (tag, w, rule.upper(), batch, T, cells[0], cells[1],
                                                                     speed, mem[0], mem[1], ratio))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sj-python", default=sys.executable, help="python with torch and spikingjelly (default: this one)")
    ap.add_argument("--workloads", default="abcde", help="letters of the workloads to run (default abcde)")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--sweep-reps", type=int, default=0, help="reps for workload e (default: --reps)")
    ap.add_argument("--sweep-batch", type=int, default=0)
    ap.add_argument("--cpu-conv-batch", type=int, default=4)
    ap.add_argument("--precision", choices=["fp32", "tf32"], default="fp32")
    ap.add_argument("--conv", choices=["im2col", "cudnn"], default="im2col",
                    help="GPU: how spikefuse runs its convolutions (SpikingJelly uses cuDNN either way)")
    ap.add_argument("--timeout", type=int, default=3600, help="seconds per measurement")
    ap.add_argument("--out", default="")
    ap.add_argument("--commit", default="", help="the commit the worker was built from (default: git HEAD here)")
    args = ap.parse_args()
    if not os.path.exists(os.path.join(args.build, "bench", "spikefuse_worker")):
        sys.exit("error: %s/bench/spikefuse_worker not found: build the target spikefuse_worker first" % args.build)

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
        print("  %s %-9s %-5s batch %-3d T %-2d %-12s %s" % (spec[0], spec[1], spec[2], spec[3], spec[4], spec[5], shown),
              file=sys.stderr, flush=True)
    print_table(rows)
    print("raw rows: %s" % os.path.relpath(out, ROOT))


if __name__ == "__main__":
    main()
