#!/usr/bin/env python3
"""SpikingJelly side of bench/compare: time one workload in SpikingJelly, print one JSON line.

    sj_worker.py --workload {mlp,csnn,vgg11ws,resnet18,neuron_only,linear_lif} --rule {ottt,sltt,bptt}
                 --batch B --T T [--reps 20] [--warmup 3] [--device cpu|cuda] [--n N] [--fp16] [--tf32]
                 [--threads K]

One measurement per process; the result is ONE JSON line on stdout, everything else goes to stderr.
Keys: impl, workload, rule, batch, T, device, precision, median_ms, p10_ms, p90_ms, reps, peak_bytes,
memory, backend, torch, spikingjelly, threads, params, last_loss (and n for the kernel anchors).

What is timed (median_ms, p10_ms, p90_ms: percentiles with linear interpolation over `reps` timed
repetitions, after `warmup` untimed ones; on CUDA torch.cuda.synchronize() before each clock read)
-----------------------------------------------------------------------------------------------------
Training workloads (mlp, csnn, vgg11ws, resnet18): one repetition = ONE TRAINING BATCH, the work of
spikefuse's train_batch (bench/compare/spikefuse_worker.cpp):

  ottt / sltt   functional.reset_net(net); opt.zero_grad()
                for t in range(T):  out = net(x); loss_t = ((1-0.05)·CE(out,y) + 0.05·MSE(out,onehot(y)))/T
                                    loss_t.backward()            # online: a backward at every step
                opt.step()
  bptt          functional.reset_net(net); opt.zero_grad()
                out = net(x_seq)   (x_seq = x repeated T times, [T,B,...], multi-step layers and neurons)
                loss = mean over t of ((1-0.05)·CE(out[t],y) + 0.05·MSE(out[t],onehot(y))); loss.backward()
                opt.step()

x = torch.rand(B, *input_shape) (seed 0) and random labels, the same every batch (a static input at
every step, direct encoding). Model in train mode (BatchNorm uses batch statistics and updates its
running statistics at every step). Optimizer: Adam(lr 1e-3) for mlp and csnn, SGD(lr 1e-3,
momentum 0.9) for vgg11ws and resnet18 — as in spikefuse's worker.

Networks (the spikefuse networks, layer by layer; init as spikefuse's where it specifies one):
  mlp       Linear(784,800) → LIF → Linear(800,10)                                      636,010 params
  csnn      models/fashion_mnist_csnn.hpp, input 1×28×28: Conv(1,32,3,p1,no bias) BN LIF AvgPool2
            Conv(32,64,3,p1,no bias) BN LIF AvgPool2 Flatten Linear(3136,256) LIF Linear(256,10)  824,554
  vgg11ws   models/ottt_vgg11_ws.hpp, input 3×32×32: 8 × [WSConv2d(3×3,p1,bias,gain) → LIF → ×2.74],
            AvgPool2 after blocks 2, 4, 6, AdaptiveAvgPool(1), Flatten, Linear(512,10)     9,228,362
            (convs Kaiming-normal fan-out, biases 0, gains 1; classifier N(0, 0.01²), bias 0)
  resnet18  models/sltt_resnet18.hpp: SLTT pre-activation ResNet-18, Conv(3,64,3,p1,no bias), 8 PreAct
            blocks a = LIF(BN(x)); y = Conv(LIF(BN(Conv_s(a)))) + shortcut(a) (1×1 conv when the shape
            changes, else identity on the spikes a), BN, LIF, AvgPool4, Flatten, Linear(512,10)  11,176,906
            (convs Kaiming-normal fan-out, conv biases 0)
  LIF = neuron.OTTTLIFNode() under ottt (inside layer.OTTTSequential: parameter layers after a neuron
        take their weight gradient from the trace), neuron.SLTTLIFNode() under sltt (nn.Sequential),
        for resnet18 the SLTT paper's neuron SLTTLIFNode(tau=1.1, decay_input=False, v_reset=None,
        surrogate PiecewiseQuadratic(alpha=1)) = spikefuse SLTTPaperLIF;
        under bptt a multi-step neuron.LIFNode with OTTTLIFNode's parameters (tau 2, decay_input False,
        soft reset, Sigmoid(4), detach_reset) — bptt is offered for mlp and vgg11ws only.

Kernel anchors (one repetition = one forward + backward over the whole sequence):
  neuron_only  multi-step LIF alone on x [T, batch, n] (SpikingJelly's Triton-tutorial configuration
               T=32, batch 64, n 65536), x ~ U[0,2); backward with a random output gradient
               g ~ U[-1,1) (= backward of sum(spikes·g)); fp32, or fp16 with --fp16.
  linear_lif   Linear(n, n, no bias) + multi-step LIF, input [T, batch, n] (the Open Neuromorphic
               configuration: batch 16, T 500), the same x ~ U[0,1) at every step, W ~ U[-0.02,0.02);
               the Linear runs as ONE GEMM over all T·batch rows (multi-step), then the LIF; backward
               with g ~ U[-1,1) gives dW and dx.
  Both call functional.lif_multi_step (what LIFNode(step_mode='m') runs) with an fp32 initial
  membrane potential, so fp16 inputs still reach the fused kernel; the neuron is spikefuse's anchor
  neuron SLTTLIF<> = SLTTLIFNode()'s parameters: tau 2, decay_input True, hard reset to 0,
  Sigmoid(4), detach_reset. SpikingJelly's backward propagates through time (BPTT of the neuron).

backend: the neuron implementation SpikingJelly 2.0 dispatches to (functional.neuron_implementation):
on CUDA its automatic choice — native 'cuda' extension if built, else 'triton', else 'torch' — which
is its fastest available; 'torch' on CPU. SpikingJelly 2.0 has no cupy backend and no per-module
backend switch; its single-step OTTT/SLTT neurons run the same kernels with T = 1.

Memory (peak_bytes): CPU ('rss_delta') — VmHWM minus VmRSS, the resident size after imports and the
input data, read just before the network is built; the peak is reset there by writing 5 to
/proc/self/clear_refs ('rss_delta_unreset_peak' if that failed). So parameters, gradients, optimizer
state, activations and the allocator's caching count; the interpreter, libraries and input do not.
GPU ('cuda_max_allocated') — torch.cuda.max_memory_allocated() at the end: every tensor torch
allocated (input, parameters, gradients, optimizer state, activations), not the caching reserve or
the CUDA context.

Precision: fp32 by default — on CUDA TF32 is switched OFF for matmuls and cuDNN convolutions (PyTorch
enables it for convolutions by default); --tf32 switches it on for both.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time
from importlib.metadata import version

import torch
import torch.nn as nn
import torch.nn.functional as F
from spikingjelly.activation_based import functional, layer, neuron, surrogate

LAMBDA = 0.05  # weight of the MSE term of the loss
VGG_SCALE = 2.74  # scaled weight standardisation: every VGG neuron's output × 2.74
TRAINING = ("mlp", "csnn", "vgg11ws", "resnet18")
ANCHORS = ("neuron_only", "linear_lif")
EXPECTED_PARAMS = {"mlp": 636_010, "csnn": 824_554, "vgg11ws": 9_228_362, "resnet18": 11_176_906}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# networks
# ----------------------------------------------------------------------------------------------
class Scale(nn.Module):
    """x * scale (spikingjelly.activation_based.model.spiking_vggws_ottt.Scale). Parameter-free, so
    OTTTSequential applies it to spike and trace alike; elementwise, so it works in either step mode."""

    def __init__(self, scale):
        super().__init__()
        self.scale = scale

    def forward(self, x):
        return x * self.scale


def make_neuron(rule, paper_sltt=False):
    """A factory for the network's LIF neuron under `rule`."""
    if rule == "ottt":
        return lambda: neuron.OTTTLIFNode()
    if rule == "sltt":
        if paper_sltt:  # spikefuse SLTTPaperLIF
            return lambda: neuron.SLTTLIFNode(tau=1.1, decay_input=False, v_reset=None,
                                              surrogate_function=surrogate.PiecewiseQuadratic(alpha=1.0))
        return lambda: neuron.SLTTLIFNode()
    # bptt: multi-step LIF with OTTTLIFNode()'s parameters
    return lambda: neuron.LIFNode(tau=2.0, decay_input=False, v_threshold=1.0, v_reset=None,
                                  surrogate_function=surrogate.Sigmoid(), detach_reset=True, step_mode="m")


def container(rule):
    return layer.OTTTSequential if rule == "ottt" else nn.Sequential


def mlp(rule):
    sm = "m" if rule == "bptt" else "s"
    lif = make_neuron(rule)
    return container(rule)(layer.Linear(784, 800, step_mode=sm), lif(), layer.Linear(800, 10, step_mode=sm))


def csnn(rule):
    lif = make_neuron(rule)
    return container(rule)(
        nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), lif(), nn.AvgPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), lif(), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(64 * 7 * 7, 256), lif(),
        nn.Linear(256, 10),
    )


def vgg11ws(rule):
    """SpikingJelly's ottt_spiking_vggws (cfg 'S') flattened into one container, as spikefuse's."""
    sm = "m" if rule == "bptt" else "s"
    lif = make_neuron(rule)
    layers, cin = [], 3
    for v in (64, 128, "A", 256, 256, "A", 512, 512, "A", 512, 512):
        if v == "A":
            layers.append(layer.AvgPool2d(2, step_mode=sm))
            continue
        conv = layer.WSConv2d(cin, v, 3, padding=1, bias=True, gain=True, step_mode=sm)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        nn.init.zeros_(conv.bias)
        layers += [conv, lif(), Scale(VGG_SCALE)]
        cin = v
    classifier = layer.Linear(512, 10, step_mode=sm)
    nn.init.normal_(classifier.weight, 0.0, 0.01)
    nn.init.zeros_(classifier.bias)
    layers += [layer.AdaptiveAvgPool2d(1, step_mode=sm), layer.Flatten(step_mode=sm), classifier]
    return container(rule)(*layers)


def resnet_conv(cin, cout, kernel, stride, bias=True):
    conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=bias)
    nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
    if bias:
        nn.init.zeros_(conv.bias)
    return conv


class PreActBlock(nn.Module):
    """SLTT PreActBlock without dropout: a = LIF(BN(x)); y = conv2(LIF(BN(conv1(a)))) + shortcut(a)."""

    def __init__(self, cin, cout, stride, lif):
        super().__init__()
        self.bn1, self.sn1 = nn.BatchNorm2d(cin), lif()
        self.conv1 = resnet_conv(cin, cout, 3, stride)
        self.bn2, self.sn2 = nn.BatchNorm2d(cout), lif()
        self.conv2 = resnet_conv(cout, cout, 3, 1)
        self.shortcut = resnet_conv(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        a = self.sn1(self.bn1(x))
        out = self.conv2(self.sn2(self.bn2(self.conv1(a))))
        return out + self.shortcut(a)


class SLTTResNet18(nn.Module):
    def __init__(self, lif, classes=10):
        super().__init__()
        self.conv0 = resnet_conv(3, 64, 3, 1, bias=False)
        stages = [(64, 64, 1), (64, 64, 1), (64, 128, 2), (128, 128, 1),
                  (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1)]
        self.blocks = nn.Sequential(*[PreActBlock(cin, cout, s, lif) for cin, cout, s in stages])
        self.head = nn.Sequential(nn.BatchNorm2d(512), lif(), nn.AvgPool2d(4), nn.Flatten(), nn.Linear(512, classes))

    def forward(self, x):
        return self.head(self.blocks(self.conv0(x)))


def resnet18(rule):
    if rule != "sltt":
        raise ValueError("resnet18 is an SLTT workload (--rule sltt)")
    return SLTTResNet18(make_neuron("sltt", paper_sltt=True))


BUILDERS = {"mlp": mlp, "csnn": csnn, "vgg11ws": vgg11ws, "resnet18": resnet18}
INPUT_SHAPE = {"mlp": (784,), "csnn": (1, 28, 28), "vgg11ws": (3, 32, 32), "resnet18": (3, 32, 32)}


# ----------------------------------------------------------------------------------------------
# measurement helpers
# ----------------------------------------------------------------------------------------------
def status_bytes(field):
    """A field of /proc/self/status (VmRSS, VmHWM) in bytes, 0 where there is none."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError as e:
        log("note: could not reset the peak RSS through /proc/self/clear_refs (%s); "
            "peak_bytes counts from the process's earlier peak" % e)
        return False


def percentile(values, q):
    """Linear interpolation between closest ranks (as spikefuse_worker's percentile)."""
    v = sorted(values)
    at = q * (len(v) - 1)
    lo = int(at)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (at - lo)


def time_reps(step, warmup, reps, device):
    """Run step() warmup + reps times; the wall time in ms of each timed run."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for _ in range(warmup):
        step()
    times = []
    for _ in range(reps):
        sync()
        t0 = time.perf_counter()
        step()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def neuron_backend(device):
    """The LIF implementation SpikingJelly dispatches to on `device`."""
    if device.type != "cuda":
        return "torch"
    return functional.neuron_implementation("lif", device)["implementation"]


def set_precision(device, tf32):
    if device.type != "cuda":
        if tf32:
            log("note: --tf32 has no effect on the CPU")
        return
    mode = "tf32" if tf32 else "ieee"
    if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # torch >= 2.9
        torch.backends.cuda.matmul.fp32_precision = mode
        torch.backends.cudnn.conv.fp32_precision = mode
    else:
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32


# ----------------------------------------------------------------------------------------------
# workloads: each returns (step, info) once its data exist; the harness in main() times step()
# ----------------------------------------------------------------------------------------------
def training_workload(args, device, memory_mark=lambda: None):
    torch.manual_seed(0)
    x = torch.rand(args.batch, *INPUT_SHAPE[args.workload]).to(device)
    y = torch.randint(0, 10, (args.batch,)).to(device)
    onehot = F.one_hot(y, 10).float()
    if args.rule == "bptt":
        x_seq = x.unsqueeze(0).repeat(args.T, *([1] * x.dim()))  # [T, B, ...], part of the input data
        y_seq, onehot_seq = y.repeat(args.T), onehot.repeat(args.T, 1)
    memory_mark()  # baseline: after imports and input data, before the network

    net = BUILDERS[args.workload](args.rule).to(device)
    net.train()
    params = sum(p.numel() for p in net.parameters())
    assert params == EXPECTED_PARAMS[args.workload], \
        "%s has %d parameters, spikefuse's has %d" % (args.workload, params, EXPECTED_PARAMS[args.workload])
    if args.workload in ("mlp", "csnn"):
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9)
    losses = []  # detached losses of the last batch (read after timing: no sync inside the timed work)

    def loss_of(out, label, target):
        return (1 - LAMBDA) * F.cross_entropy(out, label) + LAMBDA * F.mse_loss(out, target)

    def online_batch():
        functional.reset_net(net)
        opt.zero_grad()
        losses.clear()
        for _ in range(args.T):
            loss = loss_of(net(x), y, onehot) / args.T
            loss.backward()
            losses.append(loss.detach())
        opt.step()

    def bptt_batch():
        functional.reset_net(net)
        opt.zero_grad()
        out = net(x_seq)  # [T, B, 10]
        # CE and MSE means over T·B rows = mean over t of the per-step means
        loss = loss_of(out.flatten(0, 1), y_seq, onehot_seq)
        loss.backward()
        opt.step()
        losses[:] = [loss.detach()]

    step = bptt_batch if args.rule == "bptt" else online_batch
    return step, {"params": params, "last_loss": lambda: float(sum(losses))}


def anchor_workload(args, device, memory_mark=lambda: None):
    dtype = torch.float16 if args.fp16 else torch.float32
    n = args.n or (65536 if args.workload == "neuron_only" else 4096)
    shape = (args.T, args.batch, n)
    g = torch.Generator(device="cpu").manual_seed(0)

    def uniform(size, lo, hi):
        return (lo + (hi - lo) * torch.rand(size, generator=g)).to(device=device, dtype=dtype)

    grad = uniform(shape, -1.0, 1.0)
    # SLTTLIFNode()'s parameters = spikefuse's anchor neuron SLTTLIF<>
    lif = dict(tau=2.0, decay_input=True, v_threshold=1.0, v_reset=0.0,
               surrogate_function=surrogate.Sigmoid(), detach_reset=True)

    if args.workload == "neuron_only":
        x = uniform(shape, 0.0, 2.0).requires_grad_()
        memory_mark()
        params = 0

        def step():
            x.grad = None
            v0 = torch.zeros(shape[1:], device=device, dtype=torch.float32)
            spikes, _, _ = functional.lif_multi_step(x, v0, **lif)
            spikes.backward(grad)  # = backward of (spikes * grad).sum()
    else:
        x = uniform((args.batch, n), 0.0, 1.0).repeat(args.T, 1, 1).requires_grad_()  # static input
        memory_mark()
        weight = nn.Parameter(uniform((n, n), -0.02, 0.02))
        params = weight.numel()

        def step():
            weight.grad = None
            x.grad = None
            z = F.linear(x, weight)  # one GEMM over T·batch rows
            v0 = torch.zeros(shape[1:], device=device, dtype=torch.float32)
            spikes, _, _ = functional.lif_multi_step(z, v0, **lif)
            spikes.backward(grad)  # dW and dx

    return step, {"params": params, "n": n}


# ----------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__)
    ap.add_argument("--workload", required=True, choices=TRAINING + ANCHORS)
    ap.add_argument("--rule", required=True, choices=("ottt", "sltt", "bptt"),
                    help="training rule (the kernel anchors ignore it and echo it back)")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--T", type=int, required=True)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--n", type=int, default=0, help="anchors: features (default neuron_only 65536, linear_lif 4096)")
    ap.add_argument("--fp16", action="store_true", help="anchors only: fp16 tensors")
    ap.add_argument("--tf32", action="store_true", help="CUDA: TF32 matmuls and convolutions (default: off, true fp32)")
    ap.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: all cores)")
    args = ap.parse_args()

    if args.batch < 1 or args.T < 1 or args.reps < 1 or args.warmup < 0 or args.n < 0:
        ap.error("batch, T and reps must be positive, warmup and n non-negative")
    if args.workload in TRAINING:
        if args.fp16:
            ap.error("--fp16 is for the kernel anchors (neuron_only, linear_lif)")
        if args.rule == "bptt" and args.workload not in ("mlp", "vgg11ws"):
            ap.error("--rule bptt is offered for mlp and vgg11ws")
        if args.workload == "resnet18" and args.rule != "sltt":
            ap.error("resnet18 is an SLTT workload (--rule sltt)")
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda, but torch sees no CUDA device")

    torch.set_num_threads(args.threads or os.cpu_count())
    device = torch.device(args.device)
    set_precision(device, args.tf32)

    make = training_workload if args.workload in TRAINING else anchor_workload
    # One step of a tiny instance of the same workload first: SpikingJelly's lazy imports, the library
    # code pages a step touches, thread pools, cuBLAS/cuDNN handles and kernel compilation (Triton) are
    # the process's, not the workload's, and must not count as its memory.
    tiny_step, _ = make(argparse.Namespace(**{**vars(args), "batch": 1, "T": 1, "n": 64}), device)
    tiny_step()
    del tiny_step
    gc.collect()

    baseline = {}

    def memory_mark():
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats(device)  # the peak restarts from what is allocated (the input)
            return
        baseline["rss"] = status_bytes("VmRSS")
        baseline["reset"] = reset_peak_rss()

    step, info = make(args, device, memory_mark)
    times = time_reps(step, args.warmup, args.reps, device)

    if device.type == "cuda":
        peak, memory = torch.cuda.max_memory_allocated(device), "cuda_max_allocated"
    else:
        peak = status_bytes("VmHWM") - baseline["rss"]
        memory = "rss_delta" if baseline["reset"] else "rss_delta_unreset_peak"

    row = {
        "impl": "spikingjelly", "workload": args.workload, "rule": args.rule,
        "batch": args.batch, "T": args.T, "device": args.device,
        "precision": "fp16" if args.fp16 else ("tf32" if args.tf32 and device.type == "cuda" else "fp32"),
        "median_ms": round(statistics.median(times), 4),
        "p10_ms": round(percentile(times, 0.1), 4), "p90_ms": round(percentile(times, 0.9), 4),
        "reps": args.reps, "peak_bytes": int(peak), "memory": memory,
        "backend": neuron_backend(device),
        "torch": torch.__version__, "spikingjelly": version("spikingjelly"),
        "threads": torch.get_num_threads(), "params": info["params"],
    }
    if "n" in info:
        row["n"] = info["n"]
    if "last_loss" in info:
        row["last_loss"] = round(info["last_loss"](), 6)
    if device.type == "cuda":
        row["device_name"] = torch.cuda.get_device_name(device)
    print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
