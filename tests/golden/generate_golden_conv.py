#!/usr/bin/env python3
"""Golden data for small convolutional spiking nets trained online (OTTT_A / SLTT).

Calls SpikingJelly (no SpikingJelly code is copied here) and PyTorch on the CPU and writes
data/conv.txt next to this script:

  ottt_a    OTTTSequential: Conv2d, OTTTLIF, AvgPool2d, WSConv2d, OTTTLIF, AdaptiveAvgPool, Linear
  ottt_max  OTTTSequential: Conv2d, OTTTLIF, MaxPool2d, WSConv2d, OTTTLIF, Scale(2.74), AdaptiveAvgPool, WSLinear
  sltt_bn   nn.Sequential: Conv2d, BN, SLTTLIF, AvgPool2d, WSConv2d, BN, SLTTLIF, AdaptiveAvgPool, Linear
  sltt_res  SLTT pre-activation ResNet (two PreAct blocks, identity and 1x1/2 conv shortcut)

The text format, writer, reader and self-check are those of generate_golden.py (imported from it):
  <name> <ndims> <d0> ... <d{ndims-1}> <v0> <v1> ...   ('%.9g' of float32, '#' lines are comments)

Usage: python generate_golden_conv.py      (writes data/conv.txt and re-reads it as a check)
Deterministic: running it twice gives a byte-identical file.
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# generate_golden sets torch.set_num_threads(1), float32 default dtype and deterministic algorithms
# at import time; it is repeated here so this script does not depend on that.
from generate_golden import GoldenWriter, log, read_golden, self_check, sj_version  # noqa: E402,F401

from spikingjelly.activation_based import functional, layer, neuron, surrogate  # noqa: E402
from spikingjelly.activation_based.learning.online_learning import ottt_online_training  # noqa: E402
from spikingjelly.activation_based.model.spiking_vggws_ottt import Scale  # noqa: E402

DATA_DIR = os.path.join(HERE, "data")

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)

# ----------------------------------------------------------------------------------------------
# settings
# ----------------------------------------------------------------------------------------------
C_IN, H, W = 2, 8, 8
B, T, BATCHES, NCLS = 4, 4, 3, 3
LAMBDA = 0.05
LR, MOMENTUM = 0.05, 0.9
SCALE = 2.74
X_GRID = 32.0  # inputs are floor(32 * rand) / 32: uniform on {0, 1/32, ..., 31/32}, short to print
DATA_SEED = 909
RUNS = ("ottt_a", "ottt_max", "sltt_bn", "sltt_res")
INIT_SEED = {"ottt_a": 31101, "ottt_max": 31102, "sltt_bn": 31103, "sltt_res": 31104}
# init perturbation (after the PyTorch default init), drawn from torch.Generator(INIT_SEED + 1000):
# every plain nn.Conv2d weight (conv<k>.weight, not the WS convs) *= this; for the BN runs this makes the
# pre-BN activations roughly unit-variance, so the eval pass (running stats) still fires
CONV_W_GAIN = {"ottt_a": 4.0, "ottt_max": 4.0, "sltt_bn": 5.0, "sltt_res": 4.0}
WS_GAIN_RANGE = {  # WS gain = lo + width * rand per output channel (SpikingJelly inits it to 1); (lo, width)
    "ottt_a": {"wsconv": (3.0, 2.0)},
    "ottt_max": {"wsconv": (4.0, 2.0), "wslinear": (0.5, 1.0)},
    "sltt_bn": {"wsconv": (3.0, 2.0)},
}
BN_RANGE = {  # BN weight = lo + width * rand, BN bias = lo + width * rand per channel (PyTorch: 1 / 0)
    "sltt_bn": ((1.5, 1.0), (0.5, 0.5)),
    "sltt_res": ((0.8, 0.6), (0.1, 0.4)),
}


def sltt_res_neuron():
    return neuron.SLTTLIFNode(
        tau=1.1, decay_input=False, v_reset=None, surrogate_function=surrogate.PiecewiseQuadratic()
    )


class PreActBlock(nn.Module):
    """SLTT PreActBlock (spec F.3) without dropout. Modules are registered in network order
    (bn1, sn1, conv1, bn2, sn2, conv2, shortcut) so the name counters follow that order."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.sn1 = sltt_res_neuron()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=True)
        self.bn2 = nn.BatchNorm2d(cout)
        self.sn2 = sltt_res_neuron()
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=True)
        if stride != 1 or cin != cout:
            self.shortcut = nn.Conv2d(cin, cout, 1, stride=stride, bias=True)
        else:
            self.shortcut = None

    def forward(self, x):
        a = self.sn1(self.bn1(x))
        out = self.conv1(a)
        out = self.conv2(self.sn2(self.bn2(out)))
        return out + (a if self.shortcut is None else self.shortcut(a))


class SLTTResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(C_IN, 4, 3, stride=1, padding=1, bias=False)
        self.block_a = PreActBlock(4, 4, 1)
        self.block_b = PreActBlock(4, 8, 2)
        self.bn = nn.BatchNorm2d(8)
        self.sn = sltt_res_neuron()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.linear = nn.Linear(8, NCLS)

    def forward(self, x):
        x = self.block_b(self.block_a(self.conv0(x)))
        return self.linear(self.flatten(self.pool(self.sn(self.bn(x)))))


def make_net(run):
    if run == "ottt_a":
        return layer.OTTTSequential(
            nn.Conv2d(C_IN, 4, 3, padding=1),
            neuron.OTTTLIFNode(),
            nn.AvgPool2d(2),
            layer.WSConv2d(4, 6, 3, padding=1),
            neuron.OTTTLIFNode(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(6, NCLS),
        )
    if run == "ottt_max":
        return layer.OTTTSequential(
            nn.Conv2d(C_IN, 4, 3, padding=1),
            neuron.OTTTLIFNode(),
            nn.MaxPool2d(2),
            layer.WSConv2d(4, 6, 3, padding=1),
            neuron.OTTTLIFNode(),
            Scale(SCALE),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            layer.WSLinear(6, NCLS),
        )
    if run == "sltt_bn":
        return nn.Sequential(
            nn.Conv2d(C_IN, 4, 3, padding=1),
            nn.BatchNorm2d(4),
            neuron.SLTTLIFNode(),
            nn.AvgPool2d(2),
            layer.WSConv2d(4, 6, 3, padding=1),
            nn.BatchNorm2d(6),
            neuron.SLTTLIFNode(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(6, NCLS),
        )
    if run == "sltt_res":
        return SLTTResNet()
    raise ValueError(run)


# ----------------------------------------------------------------------------------------------
# naming: <prefix><k>.<field>, per-prefix counter k in network order (module registration order)
# ----------------------------------------------------------------------------------------------
def prefix_of(m):
    if isinstance(m, layer.WSConv2d):
        return "wsconv"
    if isinstance(m, layer.WSLinear):
        return "wslinear"
    if isinstance(m, nn.Conv2d):
        return "conv"
    if isinstance(m, nn.Linear):
        return "linear"
    if isinstance(m, nn.BatchNorm2d):
        return "bn"
    return None


def named_tensors(net):
    """-> (params, buffers): ordered lists of (my_name, tensor) with the tensors of `net`
    (gain is the [out,1,1,1] / [out,1] tensor; it is flattened only when written)."""
    params, buffers, counters = [], [], {}
    covered = set()
    for m in net.modules():
        pre = prefix_of(m)
        if pre is None:
            assert not list(m.parameters(recurse=False)), type(m)
            continue
        k = counters.get(pre, 0)
        counters[pre] = k + 1
        for field in ("weight", "bias", "gain"):
            p = getattr(m, field, None)
            if p is not None:
                params.append(("%s%d.%s" % (pre, k, field), p))
                covered.add(id(p))
        if pre == "bn":
            buffers.append(("%s%d.running_mean" % (pre, k), m.running_mean))
            buffers.append(("%s%d.running_var" % (pre, k), m.running_var))
    assert covered == {id(p) for p in net.parameters()}, "parameter naming does not cover the net"
    return params, buffers


def flat_gain(name, t):
    """WS gain is written flattened to [out]."""
    return t.reshape(-1) if name.endswith(".gain") else t


def neuron_modules(net):
    return [m for m in net.modules() if isinstance(m, (neuron.OTTTLIFNode, neuron.SLTTLIFNode))]


# ----------------------------------------------------------------------------------------------
# init / data
# ----------------------------------------------------------------------------------------------
def make_init(run):
    """PyTorch default init under torch.manual_seed(INIT_SEED[run]), then the documented
    perturbations drawn from torch.Generator(INIT_SEED[run] + 1000) in network order.
    Returns {my_name: tensor} for parameters (gain in SpikingJelly's shape) and BN buffers."""
    torch.manual_seed(INIT_SEED[run])
    net = make_net(run)
    g = torch.Generator().manual_seed(INIT_SEED[run] + 1000)
    params, buffers = named_tensors(net)
    bn_seen = set()
    with torch.no_grad():
        for name, p in params:
            pre = name.split(".")[0].rstrip("0123456789")
            field = name.split(".")[1]
            if pre == "conv" and field == "weight":
                p.mul_(CONV_W_GAIN[run])
            if field == "gain":
                lo, width = WS_GAIN_RANGE[run][pre]
                p.copy_(lo + width * torch.rand(p.shape, generator=g))
            if pre == "bn":
                bn = name.split(".")[0]
                if bn not in bn_seen:
                    bn_seen.add(bn)
                    (wlo, wwid), (blo, bwid) = BN_RANGE[run]
                    wt = dict(params)[bn + ".weight"]
                    bs = dict(params)[bn + ".bias"]
                    wt.copy_(wlo + wwid * torch.rand(wt.shape, generator=g))
                    bs.copy_(blo + bwid * torch.rand(bs.shape, generator=g))
    init = {n: p.detach().clone() for n, p in params}
    init.update({n: b.detach().clone() for n, b in buffers})
    return init


def build(run, init):
    net = make_net(run)
    params, buffers = named_tensors(net)
    with torch.no_grad():
        for n, t in params + buffers:
            t.copy_(init[n])
    net.train()
    return net


def make_data():
    g = torch.Generator().manual_seed(DATA_SEED)
    xs, labels = [], []
    for _ in range(BATCHES):
        xs.append(torch.floor(torch.rand((B, T, C_IN, H, W), generator=g) * X_GRID) / X_GRID)
        labels.append(torch.randint(0, NCLS, (B,), generator=g))
    x_eval = torch.floor(torch.rand((B, T, C_IN, H, W), generator=g) * X_GRID) / X_GRID
    return xs, labels, x_eval


def loss_fn(run, y, label):
    if run.startswith("ottt"):
        target = F.one_hot(label, NCLS).to(y.dtype)
    else:
        target = torch.full_like(y, 1.0)
    return ((1 - LAMBDA) * F.cross_entropy(y, label) + LAMBDA * F.mse_loss(y, target)) / T


# ----------------------------------------------------------------------------------------------
# training loop (schedule of ottt_online_training(online=False))
# ----------------------------------------------------------------------------------------------
def first_max_indices(s):
    """Index (into the flattened HxW map) of the FIRST maximum of every 2x2 window in row-major
    window order (0,0),(0,1),(1,0),(1,1); s: [N,C,H,W]. Returns (idx, ties, all_zero)."""
    n, c, h, w = s.shape
    win = s.reshape(n, c, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    mx = win.max(dim=-1).values
    is_max = win == mx.unsqueeze(-1)
    first = torch.argmax(is_max.to(torch.int64), dim=-1)  # argmax returns the first maximal index
    dy, dx = first // 2, first % 2
    oy = torch.arange(h // 2).view(1, 1, -1, 1) * 2 + dy
    ox = torch.arange(w // 2).view(1, 1, 1, -1) * 2 + dx
    idx = oy * w + ox
    ties = int((is_max.sum(-1) > 1).sum())
    zero = int((mx == 0).sum())
    return idx, ties, zero


def run_training(run, init, xs, labels, x_eval, rec):
    """rec(name, tensor) records a result. Returns (rates per neuron layer, maxpool stats)."""
    net = build(run, init)
    params, buffers = named_tensors(net)
    neurons = neuron_modules(net)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)

    captured = {}

    def hook(i):
        def fn(mod, inp, out):
            s = out[0] if isinstance(out, list) else out
            captured[i] = s.detach().clone()

        return fn

    handles = [n.register_forward_hook(hook(i)) for i, n in enumerate(neurons)]
    spike_sum = [0.0] * len(neurons)
    spike_cnt = [0] * len(neurons)
    eval_sum = [0.0] * len(neurons)
    eval_cnt = [0] * len(neurons)
    mp = {"windows": 0, "ties": 0, "all_zero": 0}

    for b in range(BATCHES):
        x_seq = xs[b].transpose(0, 1)  # [T, B, ...], as ottt_online_training does
        label = labels[b]
        opt.zero_grad()
        for t in range(T):
            y = net(x_seq[t])
            assert isinstance(y, torch.Tensor)
            loss = loss_fn(run, y, label)
            loss.backward()
            p = "%s/b%d/t%d/" % (run, b, t)
            rec(p + "logits", y.detach())
            rec(p + "loss", loss.detach())
            rec(p + "s0", captured[0])
            for i in range(len(neurons)):
                spike_sum[i] += captured[i].sum().item()
                spike_cnt[i] += captured[i].numel()
            if run == "ottt_max":
                s = captured[0]
                _, ref_idx = F.max_pool2d(s, 2, return_indices=True)
                my_idx, ties, zero = first_max_indices(s)
                assert torch.equal(ref_idx, my_idx), "MaxPool2d tie rule is not 'first max in row-major order'"
                mp["windows"] += ref_idx.numel()
                mp["ties"] += ties
                mp["all_zero"] += zero
            functional.detach_net(net)
        for name, prm in params:
            assert prm.grad is not None, (run, name)
            rec("%s/b%d/grad/%s" % (run, b, name), flat_gain(name, prm.grad))
        opt.step()
        for name, prm in params:
            rec("%s/b%d/param/%s" % (run, b, name), flat_gain(name, prm.detach()))
        for name, buf in buffers:
            rec("%s/b%d/buffer/%s" % (run, b, name), buf)
        functional.reset_net(net)

    # eval pass
    net.eval()
    with torch.no_grad():
        x_seq = x_eval.transpose(0, 1)
        for t in range(T):
            y = net(x_seq[t])
            assert isinstance(y, torch.Tensor)
            rec("%s/eval/t%d/logits" % (run, t), y)
            for i in range(len(neurons)):
                eval_sum[i] += captured[i].sum().item()
                eval_cnt[i] += captured[i].numel()
    functional.reset_net(net)
    for h in handles:
        h.remove()
    rates = [spike_sum[i] / spike_cnt[i] for i in range(len(neurons))]
    eval_rates = [eval_sum[i] / eval_cnt[i] for i in range(len(neurons))]
    return rates, eval_rates, mp


def crosscheck_with_sj_loop(run, init, xs, labels, x_eval, ref):
    """Re-run the batches through spikingjelly's own ottt_online_training(online=False) and
    compare logits, parameters and BN buffers after every batch (and the eval logits) bitwise."""
    net = build(run, init)
    params, buffers = named_tensors(net)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    for b in range(BATCHES):
        target_seq = labels[b].unsqueeze(1).repeat(1, T)  # [B, T]
        _, y_all = ottt_online_training(
            net, opt, xs[b], target_seq, lambda y, lab: loss_fn(run, y, lab), online=False
        )
        for t in range(T):
            assert torch.equal(y_all[:, t], ref["%s/b%d/t%d/logits" % (run, b, t)]), (run, b, t)
        for name, prm in params:
            assert torch.equal(flat_gain(name, prm.detach()), ref["%s/b%d/param/%s" % (run, b, name)]), (run, b, name)
        for name, buf in buffers:
            assert torch.equal(buf, ref["%s/b%d/buffer/%s" % (run, b, name)]), (run, b, name)
        functional.reset_net(net)
    net.eval()
    with torch.no_grad():
        for t in range(T):
            y = net(x_eval[:, t])
            assert torch.equal(y, ref["%s/eval/t%d/logits" % (run, t)]), (run, "eval", t)
    functional.reset_net(net)
    log("cross-check OK: %s matches spikingjelly ottt_online_training bitwise" % run)


# ----------------------------------------------------------------------------------------------
# documentation
# ----------------------------------------------------------------------------------------------
NEURON_LAYERS = {
    "ottt_a": ["n0 OTTTLIF after conv0 [B,4,8,8]", "n1 OTTTLIF after wsconv0 [B,6,4,4]"],
    "ottt_max": ["n0 OTTTLIF after conv0 [B,4,8,8]", "n1 OTTTLIF after wsconv0 [B,6,4,4]"],
    "sltt_bn": ["n0 SLTTLIF after bn0 [B,4,8,8]", "n1 SLTTLIF after bn1 [B,6,4,4]"],
    "sltt_res": [
        "n0 block A LIF(bn0) [B,4,8,8]",
        "n1 block A LIF(bn1) [B,4,8,8]",
        "n2 block B LIF(bn2) [B,4,8,8]",
        "n3 block B LIF(bn3) [B,8,4,4]",
        "n4 head LIF(bn4) [B,8,4,4]",
    ],
}

RUN_DOC = {
    "ottt_a": [
        "layers: layer.OTTTSequential(",
        "  nn.Conv2d(2,4,3,padding=1)            conv0.weight [4,2,3,3], conv0.bias [4]",
        "  neuron.OTTTLIFNode()                  defaults: tau 2, decay_input False, v_th 1, soft reset, Sigmoid(alpha=4)",
        "  nn.AvgPool2d(2)                       8x8 -> 4x4, applied to spike (grad) and trace (no grad)",
        "  layer.WSConv2d(4,6,3,padding=1)       wsconv0.weight [6,4,3,3], .bias [6], .gain [6] (SJ shape [6,1,1,1]), eps 1e-4",
        "  neuron.OTTTLIFNode()",
        "  nn.AdaptiveAvgPool2d(1), nn.Flatten() applied to spike and trace",
        "  nn.Linear(6,3) )                      linear0.weight [3,6], linear0.bias [3]",
        "conv0 sees the raw input (plain autograd, no trace); wsconv0 and linear0 get [spike, trace]",
        "  (GradwithTrace: value from the spikes, weight/gain gradient from the pooled trace).",
    ],
    "ottt_max": [
        "layers: layer.OTTTSequential(",
        "  nn.Conv2d(2,4,3,padding=1)            conv0.weight [4,2,3,3], conv0.bias [4]",
        "  neuron.OTTTLIFNode()                  defaults (as ottt_a)",
        "  nn.MaxPool2d(2)                       applied separately to spike (with grad) and to trace (no grad):",
        "                                        the pooled trace is max(trace), NOT the trace of max(spike)",
        "  layer.WSConv2d(4,6,3,padding=1)       wsconv0.weight [6,4,3,3], .bias [6], .gain [6] (SJ [6,1,1,1]), eps 1e-4",
        "  neuron.OTTTLIFNode()",
        "  Scale(2.74)                           spiking_vggws_ottt.Scale: x * 2.74 on spike and trace",
        "  nn.AdaptiveAvgPool2d(1), nn.Flatten()",
        "  layer.WSLinear(6,3) )                 wslinear0.weight [3,6], .bias [3], .gain [3] (SJ shape [3,1]), eps 1e-4",
        "WSLinear in spikingjelly 2.0.0: WSLinear(in, out, bias=True, step_mode='s', gain=True, eps=1e-4);",
        "  gain = Parameter(ones(out_features, 1)) (2.0.0 uses out_features: the old out_channels bug is fixed);",
        "  get_weight(): mean/var over dim 1 (unbiased torch.var), fan_in = in_features,",
        "  W_hat = (W - mean) / (var * fan_in + eps) ** 0.5 * gain; forward = F.linear(x, W_hat, bias); bias init = nn.Linear's.",
        "MaxPool2d(2) ties (spikes are 0/1, so most windows tie): the gradient goes to the FIRST maximal element",
        "  of the 2x2 window in row-major order (0,0),(0,1),(1,0),(1,1); an all-zero window routes it to (0,0).",
        "  Checked for every step against F.max_pool2d(..., return_indices=True).",
    ],
    "sltt_bn": [
        "layers: nn.Sequential(",
        "  nn.Conv2d(2,4,3,padding=1)            conv0.weight [4,2,3,3], conv0.bias [4]",
        "  nn.BatchNorm2d(4)                     bn0.weight/bias [4], buffers bn0.running_mean/var [4]",
        "  neuron.SLTTLIFNode()                  defaults: tau 2, decay_input True, v_th 1, hard v_reset 0, Sigmoid(alpha=4)",
        "  nn.AvgPool2d(2)",
        "  layer.WSConv2d(4,6,3,padding=1)       wsconv0.weight [6,4,3,3], .bias [6], .gain [6] (SJ [6,1,1,1]), eps 1e-4",
        "  nn.BatchNorm2d(6)                     bn1.*",
        "  neuron.SLTTLIFNode()",
        "  nn.AdaptiveAvgPool2d(1), nn.Flatten()",
        "  nn.Linear(6,3) )                      linear0.weight [3,6], linear0.bias [3]",
        "plain autograd within a step (SLTT: only the neuron's v[t-1] is detached, weight grads use s[t]).",
        "conv0.bias and wsconv0.bias/gain feed a train-mode BN: their gradients are 0 up to rounding (BN removes",
        "  a per-channel shift; wsconv0.gain acts only through BN's eps) - compare them with an absolute tolerance.",
    ],
    "sltt_res": [
        "layers (own nn.Modules, spec F.3 PreActResNet without dropout), neuron = LIF =",
        "  neuron.SLTTLIFNode(tau=1.1, decay_input=False, v_reset=None (soft), v_th 1,",
        "                     surrogate_function=surrogate.PiecewiseQuadratic() (alpha=1))",
        "  stem   nn.Conv2d(2,4,3,padding=1,bias=False)                       conv0.weight [4,2,3,3]",
        "  blockA x:[B,4,8,8]  a = LIF(bn0(x))                                bn0 = nn.BatchNorm2d(4)",
        "         out = conv1(a)  nn.Conv2d(4,4,3,stride=1,padding=1)         conv1.weight [4,4,3,3], conv1.bias [4]",
        "         out = conv2(LIF(bn1(out)))  nn.Conv2d(4,4,3,padding=1)      bn1 [4]; conv2 [4,4,3,3], [4]",
        "         y = out + a          (identity shortcut on the SPIKES a, not on x)",
        "  blockB x:[B,4,8,8]  a = LIF(bn2(x))                                bn2 [4]",
        "         out = conv3(a)  nn.Conv2d(4,8,3,stride=2,padding=1)         conv3 [8,4,3,3], [8]  -> 4x4",
        "         out = conv4(LIF(bn3(out)))  nn.Conv2d(8,8,3,padding=1)      bn3 [8]; conv4 [8,8,3,3], [8]",
        "         y = out + conv5(a)   conv5 = nn.Conv2d(4,8,1,stride=2)      conv5.weight [8,4,1,1], conv5.bias [8]",
        "  head   LIF(bn4(y)) -> nn.AdaptiveAvgPool2d(1) -> nn.Flatten -> nn.Linear(8,3)   bn4 [8]; linear0 [3,8], [3]",
        "conv1..conv5 biases all feed a train-mode BN (bn1, bn2 via y, bn3, bn4 via y): their gradients are 0",
        "  up to rounding - compare them with an absolute tolerance.",
    ],
}


def init_doc(run):
    lines = [
        "init: torch.manual_seed(%d), then the modules are constructed in network order with PyTorch's default"
        % INIT_SEED[run],
        "  init (Conv/Linear and WS: kaiming_uniform(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias; WS gain 1;",
        "  BN weight 1, bias 0, running_mean 0, running_var 1).",
    ]
    lines.append("  then every conv<k>.weight (plain nn.Conv2d, not WS) *= %r (moderate firing rates; for BN nets"
                 % CONV_W_GAIN[run])
    lines.append("  this makes the pre-BN activations roughly unit-variance so that the eval pass still fires).")
    draws = []
    for pre, (lo, width) in WS_GAIN_RANGE.get(run, {}).items():
        draws.append("%s<k>.gain = %r + %r * rand(gain.shape)" % (pre, lo, width))
    if run in BN_RANGE:
        (wlo, wwid), (blo, bwid) = BN_RANGE[run]
        draws.append("bn<k>.weight = %r + %r * rand([C]) then bn<k>.bias = %r + %r * rand([C])"
                     % (wlo, wwid, blo, bwid))
    if draws:
        lines.append("  then torch.Generator(%d) draws, module by module in network order:" % (INIT_SEED[run] + 1000))
        for d in draws:
            lines.append("    " + d)
    lines.append("  BN running stats keep 0 / 1 (written as init/bn<k>.running_mean / running_var).")
    return lines


def gen_conv():
    w = GoldenWriter("spikefuse golden data: small convolutional spiking nets trained online (OTTT_A, SLTT)")
    xs, labels, x_eval = make_data()
    w.comment("")
    w.comment("common: input per sample [2,8,8], B=%d, T=%d, %d training batches, %d classes, then one eval batch."
              % (B, T, BATCHES, NCLS))
    w.comment("data: torch.Generator(%d): per batch x = floor(32 * rand([B,T,2,8,8])) / 32 (uniform on k/32, k=0..31)"
              % DATA_SEED)
    w.comment("  then label = randint(0,3,[B]); after the 3 batches x_eval the same way. Input at step t is x[:, t]")
    w.comment("  (a different input every step, no encoder). The same x/labels are used (and repeated) in every run.")
    w.comment("loss per step: L_t = ((1 - lambda) * F.cross_entropy(y_t, label) + lambda * F.mse_loss(y_t, target)) / T,")
    w.comment("  lambda = 0.05 (1 - lambda = 0.95 in double), target = one_hot(label,3).float() for ottt_*,")
    w.comment("  torch.full_like(y_t, 1.0) for sltt_*. <run>/b<b>/t<t>/loss includes the /T.")
    w.comment("optimizer: torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9) (dampening 0, no nesterov, no wd),")
    w.comment("  one optimizer per run, CPU for-loop impl; first step: buf = grad; then buf = 0.9*buf + grad; p -= lr*buf.")
    w.comment("schedule (ottt_online_training(online=False), OTTT_A and SLTT alike): per batch zero_grad once;")
    w.comment("  for t in 0..T-1: y = net(x[:, t]) (train mode), loss.backward(), functional.detach_net(net);")
    w.comment("  record b<b>/grad/*, optimizer.step(), record b<b>/param/* and b<b>/buffer/*, functional.reset_net(net).")
    w.comment("eval: after the 3 batches net.eval(), torch.no_grad(), y = net(x_eval[:, t]) for t = 0..T-1 ->")
    w.comment("  <run>/eval/t<t>/logits, then reset_net. Eval neurons: same forward, OTTT nodes return only the spike,")
    w.comment("  BN uses running stats.")
    w.comment("BN (sltt_*): nn.BatchNorm2d(C) eps=1e-5, momentum=0.1, affine, track_running_stats. Train mode, applied")
    w.comment("  per time step: normalise with the batch mean and BIASED variance over (N,H,W) of that step;")
    w.comment("  running_mean = 0.9*running_mean + 0.1*mean, running_var = 0.9*running_var + 0.1*var_unbiased")
    w.comment("  (n/(n-1) factor, n = N*H*W), updated at every step, i.e. T=4 times per batch (num_batches_tracked")
    w.comment("  also counts steps but is unused because momentum is set). Eval: (x - running_mean)/sqrt(running_var+eps).")
    w.comment("WS (layer.WSConv2d / WSLinear, spikingjelly %s): fan_in = prod(weight.shape[1:]); per output channel" % sj_version())
    w.comment("  mean = weight.mean(dims 1..), var = weight.var(dims 1.., unbiased); W_hat = (W - mean) / (var*fan_in + eps)**0.5;")
    w.comment("  W_hat *= gain; recomputed in every forward (twice per step under GradwithTrace), gradient flows")
    w.comment("  through it into weight and gain. eps = 1e-4.")
    w.comment("OTTT dispatch (layer.OTTTSequential, spikingjelly %s): tensor input -> module(x); list [spike, trace]:" % sj_version())
    w.comment("  OTTTLIFNode -> node(spike) (its own trace is returned), parameter-free module -> [m(spike), no_grad m(trace)],")
    w.comment("  module with parameters -> GradwithTrace (value m(spike) under no_grad, gradient through m(trace)).")
    w.comment("  OTTTLIFNode trace = trace*(1-1/tau) + spike (no grad, starts at 0, reset by reset_net).")
    w.comment("names: <prefix><k>.<field>, prefixes conv (nn.Conv2d), wsconv (layer.WSConv2d), linear (nn.Linear),")
    w.comment("  wslinear (layer.WSLinear), bn (nn.BatchNorm2d); k counts per prefix in network order. Conv weight")
    w.comment("  [out,in,kh,kw], bias [out], WS gain flattened to [out], linear weight [out,in], BN weight/bias/running_* [C].")
    w.comment("recorded per run <run>/: init/<name> (all parameters, then BN buffers), x_b<b> [B,T,2,8,8], label_b<b> [B];")
    w.comment("  b<b>/t<t>/logits [B,3], b<b>/t<t>/loss (0-d), b<b>/t<t>/s0 (spikes of the first neuron layer,")
    w.comment("  [B,4,8,8]); b<b>/grad/<name> (.grad just before optimizer.step(), summed over the T steps),")
    w.comment("  b<b>/param/<name> (after the step), b<b>/buffer/<name> (BN running stats after the batch);")
    w.comment("  x_eval [B,T,2,8,8], eval/t<t>/logits [B,3].")
    w.comment("all four runs were cross-checked bitwise against spikingjelly's learning.online_learning.ottt_online_training")
    w.comment("  (online=False): logits of every step, parameters and BN buffers after every batch, eval logits.")

    w.tensor("conv/T", torch.tensor(float(T)))
    w.tensor("conv/B", torch.tensor(float(B)))
    w.tensor("conv/batches", torch.tensor(float(BATCHES)))
    w.tensor("conv/lambda", torch.tensor(LAMBDA))
    w.tensor("conv/lr", torch.tensor(LR))
    w.tensor("conv/momentum", torch.tensor(MOMENTUM))
    w.tensor("conv/classes", torch.tensor(float(NCLS)))
    w.tensor("conv/input_shape", torch.tensor([float(C_IN), float(H), float(W)]))
    w.tensor("conv/scale", torch.tensor(SCALE))

    summary = {}
    for run in RUNS:
        init = make_init(run)
        recorded = []

        def rec(name, t, recorded=recorded):
            recorded.append((name, t.detach().clone()))

        rates, eval_rates, mp = run_training(run, init, xs, labels, x_eval, rec)
        summary[run] = (rates, eval_rates, mp)
        log("conv %-8s firing rates (train): %s   eval: %s" % (
            run, " ".join("%.3f" % r for r in rates), " ".join("%.3f" % r for r in eval_rates)))
        for r in rates:
            if not (0.10 <= r <= 0.50):
                log("WARNING: %s firing rate %.3f outside [0.10, 0.50]" % (run, r))
        all_rec = dict(recorded)

        w.comment("")
        w.comment("==== run %s ====" % run)
        for line in RUN_DOC[run] + init_doc(run):
            w.comment(line)
        w.comment("firing rates (mean spike over all elements, training batches and steps / eval batch):")
        for name, r, e in zip(NEURON_LAYERS[run], rates, eval_rates):
            w.comment("  %-40s train %.4f  eval %.4f" % (name, r, e))
        if run == "ottt_max":
            w.comment("MaxPool2d windows over the training steps: %d, with tied maxima: %d, all-zero: %d"
                      % (mp["windows"], mp["ties"], mp["all_zero"]))
        if run.startswith("sltt"):
            noisy = [n for n in init if n.endswith(".bias") and n.startswith(("conv", "wsconv"))]
            worst = max(all_rec["%s/b%d/grad/%s" % (run, b, n)].abs().max().item()
                        for b in range(BATCHES) for n in noisy)
            w.comment("largest |grad| of the BN-cancelled conv biases (%s): %.3g" % (", ".join(noisy), worst))
            gains = [n for n in init if n.endswith(".gain")]
            if gains:
                worst = max(all_rec["%s/b%d/grad/%s" % (run, b, n)].abs().max().item()
                            for b in range(BATCHES) for n in gains)
                w.comment("largest |grad| of the BN-cancelled WS gains (%s): %.3g" % (", ".join(gains), worst))
        for name, t in init.items():
            w.tensor("%s/init/%s" % (run, name), flat_gain(name, t))
        for b in range(BATCHES):
            w.tensor("%s/x_b%d" % (run, b), xs[b])
            w.tensor("%s/label_b%d" % (run, b), labels[b].to(torch.float32))
        w.tensor("%s/x_eval" % run, x_eval)
        for name, t in recorded:
            w.tensor(name, t)
        crosscheck_with_sj_loop(run, init, xs, labels, x_eval, all_rec)
    return w, summary


def main():
    log("torch %s, spikingjelly %s" % (torch.__version__, sj_version()))
    wc, _ = gen_conv()
    path = wc.save(os.path.join(DATA_DIR, "conv.txt"))
    self_check(wc, path)


if __name__ == "__main__":
    main()
