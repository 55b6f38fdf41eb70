#!/usr/bin/env python3
"""Time one OTTT_A / SLTT training batch of the 784-800-10 MLP in SpikingJelly and in spikefuse, same CPU.

Usage (from the repository root, after building bench_train_step):
    ~/sjvenv/bin/python bench/compare_spikingjelly.py [--build build] [--reps 10]

SpikingJelly side: layer.OTTTSequential(Linear(784,800), OTTTLIFNode(), Linear(800,10)) (OTTT) or
nn.Sequential(..., SLTTLIFNode(), ...) (SLTT), batch 128, Adam, per-step loss
((1-0.05)·CE + 0.05·MSE(one-hot))/T with backward every step and one optimizer step per batch,
functional.reset_net after the batch — the same work as spikefuse's train_batch. Inputs are uniform
random images (not zeros). Medians over --reps batches after 2 warm-up batches. Both sides use all
cores of the machine (torch.set_num_threads(os.cpu_count())).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from spikingjelly.activation_based import functional, layer, neuron

BATCH = 128
LAMBDA = 0.05


def build(rule):
    if rule == "ottt":
        return layer.OTTTSequential(nn.Linear(784, 800), neuron.OTTTLIFNode(), nn.Linear(800, 10))
    return nn.Sequential(nn.Linear(784, 800), neuron.SLTTLIFNode(), nn.Linear(800, 10))


def time_sj(rule, T, reps):
    torch.manual_seed(0)
    net = build(rule)
    net.train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x = torch.rand(BATCH, 784)
    y = torch.randint(0, 10, (BATCH,))
    onehot = F.one_hot(y, 10).float()

    def one_batch():
        opt.zero_grad()
        for _ in range(T):
            out = net(x)
            loss = ((1 - LAMBDA) * F.cross_entropy(out, y) + LAMBDA * F.mse_loss(out, onehot)) / T
            loss.backward()
        opt.step()
        functional.reset_net(net)

    for _ in range(2):
        one_batch()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        one_batch()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def time_spikefuse(build_dir):
    exe = os.path.join(build_dir, "bench", "bench_train_step")
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: build the target bench_train_step first")
    out = subprocess.run([exe, "--benchmark_format=json", "--benchmark_repetitions=5",
                          "--benchmark_report_aggregates_only=true"],
                         check=True, capture_output=True, text=True).stdout
    results = {}
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]  # train_batch<OTTTNet>/4/real_time
        rule = "ottt" if "OTTT" in name else "sltt"
        T = int(name.split("/")[1])
        results[(rule, T)] = b["real_time"]  # milliseconds
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    ours = time_spikefuse(args.build)
    cpu = platform.processor() or platform.machine()
    print(f"# CPU: {cpu}, {os.cpu_count()} cores; torch {torch.__version__}, threads {torch.get_num_threads()}")
    print("| rule | T | SpikingJelly ms/batch | spikefuse ms/batch | speed-up |")
    print("|---|---|---|---|---|")
    for rule in ("ottt", "sltt"):
        for T in (4, 16, 64):
            sj = time_sj(rule, T, args.reps)
            sf = ours[(rule, T)]
            print(f"| {rule.upper()} | {T} | {sj:.1f} | {sf:.1f} | {sj / sf:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
