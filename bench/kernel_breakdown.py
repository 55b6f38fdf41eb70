#!/usr/bin/env python3
"""GPU time per kernel, from the Nsight Compute CSVs that scripts/gpu_session.sh's profile part writes.

    python3 bench/kernel_breakdown.py RESULTS/results.tar.gz [--steps 4] [--top 20] [--markdown]

Each CSV holds one row per kernel launch of a spikefuse_worker run (--warmup 1 --reps 1 --T 2: two
batches of two steps, so --steps 4 by default) with its gpu__time_duration. Kernels are grouped by
their name without template arguments and parameters (so the five instantiations of one neuron
kernel are one row), and by family (GEMM and convolution work of cuBLAS, the neuron kernels, im2col,
...). Times are per online step: the sum over the run divided by --steps. Under ncu the kernels run
one at a time, so this is the GPU work of a step without launch gaps or overlap.
"""
import argparse
import collections
import csv
import io
import re
import sys
import tarfile

UNIT_TO_US = {"nsecond": 1e-3, "ns": 1e-3, "usecond": 1.0, "us": 1.0, "msecond": 1e3, "ms": 1e3, "second": 1e6, "s": 1e6}

# (family, pattern on the short kernel name), first match wins.
FAMILIES = [
    ("GEMM (cuBLAS)", r"gemm|cutlass|sm\d\d_xmma|ampere_|hopper_|splitKreduce|gemv"),
    ("im2col / col2im", r"im2col|col2im|unfold|fold"),
    ("neuron (LIF, fused Scale / pooling)", r"lif|neuron"),
    ("conv gather / scatter (+ bias)", r"gather|scatter"),
    ("batch norm", r"batch_norm|bn_"),
    ("weight standardization", r"standardi"),
    ("pooling", r"pool"),
    ("bias / reductions", r"bias|reduce|sum"),
    ("residual add", r"^add_op$"),
    ("optimizer", r"adam|sgd|optimizer|momentum"),
    ("loss / head", r"loss|softmax|logit|head"),
]


def first_template_argument(name, after):
    """'... elementwise_kernel<spikefuse::im2col_op>(...)' with after='elementwise_kernel<' -> 'im2col_op'."""
    start = name.index(after) + len(after)
    depth, end = 0, start
    while end < len(name):
        ch = name[end]
        if ch == "<":
            depth += 1
        elif ch == ">" and depth == 0 or ch == "," and depth == 0:
            break
        elif ch == ">":
            depth -= 1
        end += 1
    return short_name(name[start:end])


def short_name(name):
    """'void spikefuse::cuda::detail::lif_forward<A, B>(float *, ...)' -> 'lif_forward'; the generic
    element-wise kernel and CUTLASS's Kernel2 are named by their operation / configuration."""
    for wrapper in ("elementwise_kernel<", "cutlass::Kernel2<"):
        if wrapper in name:
            return first_template_argument(name, wrapper)
    n = name
    depth, out = 0, []
    for ch in n:  # drop template arguments
        if ch == "<":
            depth += 1
        elif ch == ">":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    n = "".join(out)
    n = n.split("(")[0].strip()
    n = n.split(" ")[-1]
    return n.split("::")[-1] or name


def family(short):
    for fam, pat in FAMILIES:
        if re.search(pat, short, re.IGNORECASE):
            return fam
    return "other"


def read_rows(text):
    lines = [l for l in text.splitlines() if l.startswith('"')]
    if not lines:
        return []
    reader = csv.reader(io.StringIO("\n".join(lines)))
    header = next(reader)
    try:
        units = next(reader)
    except StopIteration:
        return []
    k_name = header.index("Kernel Name")
    k_time = header.index("gpu__time_duration.sum")
    scale = UNIT_TO_US.get(units[k_time].strip(), None)
    rows = []
    if scale is None:  # the units row is a data row (no units printed)
        scale = 1e-3
        rows.append(units)
    rows.extend(reader)
    out = []
    for r in rows:
        try:
            out.append((r[k_name], float(r[k_time].replace(",", "")) * scale))
        except (ValueError, IndexError):
            continue
    return out


def inputs(paths):
    for p in paths:
        if p.endswith((".tar.gz", ".tgz")):
            with tarfile.open(p) as tar:
                for m in tar.getmembers():
                    if m.name.endswith(".csv"):
                        yield m.name.split("/")[-1], tar.extractfile(m).read().decode(errors="replace")
        else:
            with open(p, errors="replace") as f:
                yield p.split("/")[-1], f.read()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--steps", type=int, default=4, help="online steps in the profiled run (default 4)")
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    for name, text in inputs(args.paths):
        rows = read_rows(text)
        if not rows:
            print(f"## {name}: no kernel rows\n")
            continue
        total = sum(t for _, t in rows)
        by_kernel = collections.defaultdict(lambda: [0.0, 0])
        by_family = collections.defaultdict(lambda: [0.0, 0])
        for kname, t in rows:
            s = short_name(kname)
            by_kernel[s][0] += t
            by_kernel[s][1] += 1
            by_family[family(s)][0] += t
            by_family[family(s)][1] += 1
        steps = args.steps
        print(f"## {name}: {len(rows)} launches, {total / steps / 1e3:.2f} ms of kernel time per step "
              f"({len(rows) / steps:.0f} launches per step)\n")
        print("| family | ms per step | share | launches per step |\n|---|---|---|---|")
        for fam, (t, n) in sorted(by_family.items(), key=lambda kv: -kv[1][0]):
            print(f"| {fam} | {t / steps / 1e3:.3f} | {100 * t / total:.1f}% | {n / steps:.0f} |")
        print(f"\n| kernel (top {args.top}) | ms per step | share | launches per step | mean µs |\n|---|---|---|---|---|")
        for k, (t, n) in sorted(by_kernel.items(), key=lambda kv: -kv[1][0])[: args.top]:
            print(f"| `{k[:70]}` | {t / steps / 1e3:.3f} | {100 * t / total:.1f}% | {n / steps:.1f} | {t / n:.1f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
