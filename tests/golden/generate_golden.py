#!/usr/bin/env python3
"""Golden-data generator for spikefuse's online-learning (OTTT / SLTT) implementation.

Calls SpikingJelly (no SpikingJelly code is copied here) and PyTorch on the CPU and writes
three plain-text files next to this script, in data/:

  neuron.txt  single OTTTLIFNode runs (forward, trace, input gradient, eval forward)
  mlp.txt     a 3-layer MLP trained with OTTT_A, OTTT_O, SLTT and SLTT-K
  optim.txt   torch.optim SGD / Adam / AdamW on fixed gradients

File format (one tensor per line, '#' lines are comments):
  <name> <ndims> <d0> ... <d{ndims-1}> <v0> <v1> ...
values in row-major order, each printed with '%.9g' of the float32 value (exact round trip).

Usage: python generate_golden.py          (writes data/*.txt and re-reads them as a check)
Deterministic: running it twice gives byte-identical files.
"""

import copy
import math
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

import spikingjelly
from spikingjelly.activation_based import functional, layer, neuron, surrogate
from spikingjelly.activation_based.learning.online_learning import ottt_online_training
from spikingjelly.activation_based.model.spiking_vggws_ottt import Scale

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.join(HERE, "data")

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
torch.use_deterministic_algorithms(True)


def sj_version():
    try:
        import importlib.metadata as md

        return md.version("spikingjelly")
    except Exception:  # pragma: no cover
        return getattr(spikingjelly, "__version__", "unknown")


def log(*args):
    print(*args, file=sys.stderr)


# ----------------------------------------------------------------------------------------------
# writer / reader
# ----------------------------------------------------------------------------------------------
class GoldenWriter:
    def __init__(self, title):
        self.lines = []
        self.tensors = {}
        self.comment(title)
        self.comment(
            "torch %s, spikingjelly %s, python %s, device cpu, float32, torch.set_num_threads(1)"
            % (torch.__version__, sj_version(), sys.version.split()[0])
        )
        self.comment(
            "format: <name> <ndims> <d0> ... <d{ndims-1}> <values...>  (row-major, '%.9g' of float32)"
        )

    def comment(self, text=""):
        for line in str(text).split("\n"):
            self.lines.append(("# " + line).rstrip())

    def tensor(self, name, value):
        assert " " not in name and "\t" not in name and name, name
        assert name not in self.tensors, "duplicate tensor name " + name
        t = torch.as_tensor(value).detach().to("cpu")
        t = t.to(torch.float32).contiguous().clone()
        assert torch.isfinite(t).all(), name + " has non-finite values"
        self.tensors[name] = t
        dims = list(t.shape)
        vals = " ".join("%.9g" % v for v in t.reshape(-1).tolist())
        head = "%s %d" % (name, len(dims))
        if dims:
            head += " " + " ".join(str(d) for d in dims)
        self.lines.append(head + " " + vals)

    def save(self, path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="ascii", newline="\n") as f:
            f.write("\n".join(self.lines) + "\n")
        return path


def read_golden(path):
    """Minimal parser mirroring what the C++ reader does; returns {name: float32 tensor}."""
    out = {}
    with open(path, "r", encoding="ascii") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            tok = line.split(" ")
            name, nd = tok[0], int(tok[1])
            dims = [int(d) for d in tok[2 : 2 + nd]]
            vals = tok[2 + nd :]
            count = 1
            for d in dims:
                count *= d
            if len(vals) != count:
                raise ValueError("%s:%d %s: %d values, expected %d" % (path, lineno, name, len(vals), count))
            if name in out:
                raise ValueError("%s:%d duplicate %s" % (path, lineno, name))
            out[name] = torch.tensor([float(v) for v in vals], dtype=torch.float32).reshape(dims)
    return out


def self_check(writer, path):
    back = read_golden(path)
    assert list(back.keys()) == list(writer.tensors.keys()), path + ": tensor list differs"
    nvals = 0
    for name, ref in writer.tensors.items():
        got = back[name]
        assert got.shape == ref.shape, (path, name, got.shape, ref.shape)
        # bitwise equality (also distinguishes -0 from +0)
        assert torch.equal(got.view(torch.int32), ref.view(torch.int32)), (path, name)
        nvals += ref.numel()
    size = os.path.getsize(path)
    log("self-check OK: %s  tensors=%d values=%d bytes=%d" % (os.path.relpath(path, HERE), len(back), nvals, size))
    return size


# ----------------------------------------------------------------------------------------------
# (a) neuron.txt
# ----------------------------------------------------------------------------------------------
# surrogate id table (order of the brief, Sigmoid first)
SURROGATES = [
    "Sigmoid",
    "ATan",
    "PiecewiseQuadratic",
    "PiecewiseExp",
    "SoftSign",
    "SuperSpike",
    "Erf",
    "NonzeroSignLogAbs",
    "PiecewiseLeakyReLU",
    "SquarewaveFourierSeries",
    "S2NN",
    "QPseudoSpike",
    "LeakyKReLU",
    "FakeNumericalGradient",
    "LogTailedReLU",
    "Rect",
]
NEURON_T = 16
NEURON_N = 32
THRESHOLD = 1.0
TAUS = (2.0, 1.1, 4.0)
DECAYS = (True, False)
RESETS = (None, 0.0, -0.5)
X_GRID = 32.0  # inputs are multiples of 1/32 (exact, short to print)
G_GRID = 64.0  # output gradients are multiples of 1/64
TIE_ELEMS = (0, 1, 2)  # at t=0 these get the exact-threshold input (h == theta)
BELOW_ELEM = 3  # one float32 ulp below the tie input
ABOVE_ELEM = 4  # one float32 ulp above the tie input
# (tau, decay_input, v_reset) combos that are also run with every non-Sigmoid surrogate
EXTRA_SURROGATE_BASES = [(2.0, False, None), (1.1, True, 0.0)]


def surrogate_params(fn):
    return dict(fn._sg_params)


def fmt_params(params):
    return " ".join("%s=%r" % (k, v) for k, v in params.items())


def sj_charge_reference(x, v, tau, decay_input, v_reset):
    """h for one step, with the same float32 op order as spikingjelly's LIF reference/CPU
    kernel (used only to find/verify exact-threshold inputs and to count ties)."""
    r = 0.0 if v_reset is None else v_reset
    if decay_input:
        return v + (x - (v - r)) / tau
    return v - (v - r) / tau + x


def find_tie_input(tau, decay_input, v_reset):
    """float32 x with charge(x, v0) == THRESHOLD exactly at t=0, or None."""
    v0 = torch.tensor([0.0 if v_reset is None else v_reset], dtype=torch.float32)
    r = 0.0 if v_reset is None else v_reset
    # analytic: decay_input: v0 + (x - (v0 - r))/tau = th ; else v0 - (v0-r)/tau + x = th
    if decay_input:
        x_est = (THRESHOLD - v0.item()) * tau + (v0.item() - r)
    else:
        x_est = THRESHOLD - v0.item() + (v0.item() - r) / tau
    x = torch.tensor([x_est], dtype=torch.float32)
    cands = [x]
    up, down = x.clone(), x.clone()
    for _ in range(16):
        up = torch.nextafter(up, torch.tensor([math.inf]))
        down = torch.nextafter(down, torch.tensor([-math.inf]))
        cands += [up, down]
    for c in cands:
        if sj_charge_reference(c, v0, tau, decay_input, v_reset).item() == THRESHOLD:
            return c.item()
    return None


def neuron_inputs(combo_index, tau, decay_input, v_reset):
    g = torch.Generator().manual_seed(1000 + combo_index)
    scale = tau if decay_input else 1.0
    x = torch.normal(0.6, 0.8, (NEURON_T, NEURON_N), generator=g) * scale
    x = torch.round(x * X_GRID) / X_GRID
    gout = torch.randn((NEURON_T, NEURON_N), generator=g)
    gout = torch.round(gout * G_GRID) / G_GRID
    x_tie = find_tie_input(tau, decay_input, v_reset)
    if x_tie is not None:
        xt = torch.tensor([x_tie], dtype=torch.float32)
        for e in TIE_ELEMS:
            x[0, e] = x_tie
        x[0, BELOW_ELEM] = torch.nextafter(xt, torch.tensor([-math.inf])).item()
        x[0, ABOVE_ELEM] = torch.nextafter(xt, torch.tensor([math.inf])).item()
    return x.contiguous(), gout.contiguous(), x_tie


def run_neuron_case(tau, decay_input, v_reset, sg_name, x, gout):
    fn = getattr(surrogate, sg_name)()
    node = neuron.OTTTLIFNode(
        tau=tau, decay_input=decay_input, v_threshold=THRESHOLD, v_reset=v_reset, surrogate_function=fn
    )
    node.train()
    functional.reset_net(node)
    rec = {k: [] for k in ("spike", "v", "trace", "grad_x")}
    ties = 0
    v_prev = torch.full((1, NEURON_N), 0.0 if v_reset is None else v_reset)
    for t in range(NEURON_T):
        xt = x[t].reshape(1, NEURON_N).clone().requires_grad_(True)
        out = node(xt)
        assert isinstance(out, list) and len(out) == 2, type(out)
        spike, trace = out
        spike.backward(gout[t].reshape(1, NEURON_N))
        v_now = node.v.detach().clone()
        # independent recomputation of h (same op order) -> check spike & count exact ties
        h = sj_charge_reference(x[t].reshape(1, NEURON_N), v_prev, tau, decay_input, v_reset)
        s_ref = (h - THRESHOLD >= 0).float()
        assert torch.equal(s_ref, spike.detach()), "spike mismatch"
        if v_reset is None:
            v_ref = h - s_ref * THRESHOLD
        else:
            v_ref = s_ref * v_reset + (1.0 - s_ref) * h
        assert torch.equal(v_ref, v_now), "v mismatch vs documented op order"
        tr_ref = (rec["trace"][-1].reshape(1, NEURON_N) if t else torch.zeros(1, NEURON_N)) * (1.0 - 1.0 / tau) + s_ref
        assert torch.equal(tr_ref, trace.detach()), "trace mismatch vs documented op order"
        ties += int((h == THRESHOLD).sum())
        v_prev = v_now
        rec["spike"].append(spike.detach().reshape(NEURON_N).clone())
        rec["v"].append(v_now.reshape(NEURON_N))
        rec["trace"].append(trace.detach().reshape(NEURON_N).clone())
        rec["grad_x"].append(xt.grad.detach().reshape(NEURON_N).clone())
        functional.detach_net(node)
    res = {k: torch.stack(v) for k, v in rec.items()}

    # eval-mode forward on the same input
    node.eval()
    functional.reset_net(node)
    ev_s, ev_v = [], []
    with torch.no_grad():
        for t in range(NEURON_T):
            s = node(x[t].reshape(1, NEURON_N))
            assert isinstance(s, torch.Tensor)
            ev_s.append(s.reshape(NEURON_N).clone())
            ev_v.append(node.v.detach().reshape(NEURON_N).clone())
    res["eval_spike"] = torch.stack(ev_s)
    res["eval_v"] = torch.stack(ev_v)
    return fn, res, ties


def gen_neuron():
    w = GoldenWriter("spikefuse golden data: single OTTTLIFNode runs (spikingjelly.activation_based.neuron.OTTTLIFNode)")
    w.comment("")
    w.comment("surrogate_id table (SpikingJelly default parameters):")
    for i, nm in enumerate(SURROGATES):
        w.comment("  %2d %s %s" % (i, nm, fmt_params(surrogate_params(getattr(surrogate, nm)()))))
    w.comment("skipped surrogates: none (all 16 backward fine in spikingjelly %s)" % sj_version())
    w.comment("")
    w.comment("Each case: OTTTLIFNode(tau, decay_input, v_threshold=1.0, v_reset, surrogate_function),")
    w.comment("train mode, single step over T=%d steps on a [1, %d] input (stored as [T, N] with N=%d)." % (NEURON_T, NEURON_N, NEURON_N))
    w.comment("Per step: x[t] (requires_grad) -> node(x) = [spike, trace]; spike.backward(grad_spike[t]);")
    w.comment("grad_x[t] = x.grad; v[t] = node.v after the step (after reset); trace[t] = returned trace;")
    w.comment("functional.detach_net(node) after each step (as ottt_online_training does).")
    w.comment("Initial state: v = v_reset (hard) or 0 (soft), trace = 0. v_reset is 0 in the file when soft.")
    w.comment("eval_spike/eval_v (Sigmoid cases only): node.eval(), reset_net, same x, no grad.")
    w.comment("Inputs: x = round(32 * normal(0.6, 0.8) * (tau if decay_input else 1)) / 32,")
    w.comment("grad_spike = round(64 * normal(0, 1)) / 64, seeded torch.Generator(1000 + combo index);")
    w.comment("cases with the same (tau, decay_input, reset) share x and grad_spike.")
    w.comment("At t=0, elements %s get the float32 input for which h == v_threshold exactly (tie => fire)," % (TIE_ELEMS,))
    w.comment("element %d one ulp below it and element %d one ulp above it (if such an input exists; see" % (BELOW_ELEM, ABOVE_ELEM))
    w.comment("the per-case 'tie_input' comment; 'ties' counts all (t, n) with h == 1.0 exactly).")
    w.comment("SpikingJelly op order (float32, tau cast to float32 for the divisions, r = v_reset or 0):")
    w.comment("  decay_input: h = v + (x - (v - r)) / tau      else: h = v - (v - r) / tau + x")
    w.comment("  spike = (h - th >= 0); surrogate backward evaluated at h - th")
    w.comment("  soft: v = h - spike * th      hard: v = spike * v_reset + (1 - spike) * h")
    w.comment("  trace = trace * lam + spike, lam = float32(1 - 1/tau) computed in double (no grad)")
    w.comment("  grad_x = grad_h / tau (decay_input) or grad_h, grad_h = grad_spike * sg'(h - th)")
    w.comment("  surrogate ids 0-6 (Sigmoid..Erf) run through spikingjelly's registered sj_lif op whose")
    w.comment("  backward is spikingjelly/_ops/surrogate.py::_surrogate_gradient, i.e. sg' is computed first")
    w.comment("  and then multiplied by grad_spike; e.g. Sigmoid: s = sigmoid(alpha*z); sg' = (1 - s) * s * alpha.")
    w.comment("  ids 7-15 use the autograd functions of activation_based/surrogate.py (*_backward helpers).")
    w.comment("")

    cases = []
    combos = [(tau, d, r) for tau in TAUS for d in DECAYS for r in RESETS]
    for ci, (tau, d, r) in enumerate(combos):
        cases.append((ci, tau, d, r, "Sigmoid"))
    for base in EXTRA_SURROGATE_BASES:
        ci = combos.index(base)
        for nm in SURROGATES[1:]:
            cases.append((ci, base[0], base[1], base[2], nm))

    inputs = {}
    for k, (ci, tau, d, r, nm) in enumerate(cases):
        if ci not in inputs:
            inputs[ci] = neuron_inputs(ci, tau, d, r)
        x, gout, x_tie = inputs[ci]
        fn, res, ties = run_neuron_case(tau, d, r, nm, x, gout)
        params = surrogate_params(fn)
        reset_txt = "soft" if r is None else "hard(v_reset=%r)" % r
        rate = res["spike"].mean().item()
        w.comment("case%d tau=%r decay_input=%s reset=%s v_threshold=%r firing_rate=%.4f ties=%d tie_input=%s"
                  % (k, tau, d, reset_txt, THRESHOLD, rate, ties, "%.9g" % x_tie if x_tie is not None else "none"))
        w.comment("case%d surrogate %s %s" % (k, nm, fmt_params(params)))
        p = "case%d/" % k
        w.tensor(p + "tau", torch.tensor(tau))
        w.tensor(p + "decay_input", torch.tensor(1.0 if d else 0.0))
        w.tensor(p + "soft_reset", torch.tensor(1.0 if r is None else 0.0))
        w.tensor(p + "v_reset", torch.tensor(0.0 if r is None else r))
        w.tensor(p + "v_threshold", torch.tensor(THRESHOLD))
        w.tensor(p + "surrogate_id", torch.tensor(float(SURROGATES.index(nm))))
        w.tensor(p + "surrogate_params", torch.tensor([float(v) for v in params.values()]))
        w.tensor(p + "x", x)
        w.tensor(p + "grad_spike", gout)
        w.tensor(p + "spike", res["spike"])
        w.tensor(p + "v", res["v"])
        w.tensor(p + "trace", res["trace"])
        w.tensor(p + "grad_x", res["grad_x"])
        if nm == "Sigmoid":
            w.tensor(p + "eval_spike", res["eval_spike"])
            w.tensor(p + "eval_v", res["eval_v"])
        # the surrogate does not change the forward: eval must equal train forward
        assert torch.equal(res["eval_spike"], res["spike"]) and torch.equal(res["eval_v"], res["v"])
        log("neuron case%-2d tau=%-3s decay=%-5s reset=%-4s sg=%-24s rate=%.3f ties=%d"
            % (k, tau, d, "soft" if r is None else r, nm, rate, ties))
    w.tensor("neuron/num_cases", torch.tensor(float(len(cases))))
    w.tensor("neuron/T", torch.tensor(float(NEURON_T)))
    w.tensor("neuron/N", torch.tensor(float(NEURON_N)))
    return w


# ----------------------------------------------------------------------------------------------
# (b) mlp.txt
# ----------------------------------------------------------------------------------------------
MLP_IN, MLP_H1, MLP_H2, MLP_C = 12, 16, 10, 4
MLP_B, MLP_T, MLP_BATCHES = 5, 6, 3
MLP_LAMBDA = 0.05
MLP_LR, MLP_MOMENTUM = 0.1, 0.9
MLP_SCALE = 2.0
W0_GAIN, W1_GAIN = 8.0, 8.0  # multiply the default-initialised first two weights
SLTTK_STEPS = ([1, 4], [0, 5], [2, 3])
MLP_SEED = 20240611
DATA_SEED = 77


def mlp_init():
    torch.manual_seed(MLP_SEED)
    lins = [nn.Linear(MLP_IN, MLP_H1), nn.Linear(MLP_H1, MLP_H2), nn.Linear(MLP_H2, MLP_C)]
    with torch.no_grad():
        lins[0].weight.mul_(W0_GAIN)
        lins[1].weight.mul_(W1_GAIN)
    return [(l.weight.detach().clone(), l.bias.detach().clone()) for l in lins]


def mlp_data():
    g = torch.Generator().manual_seed(DATA_SEED)
    xs, labels = [], []
    for _ in range(MLP_BATCHES):
        xs.append(torch.rand((MLP_B, MLP_T, MLP_IN), generator=g))
        labels.append(torch.randint(0, MLP_C, (MLP_B,), generator=g))
    return xs, labels


def load_linears(net, init):
    lins = [m for m in net if isinstance(m, nn.Linear)]
    assert len(lins) == 3
    with torch.no_grad():
        for l, (wt, b) in zip(lins, init):
            l.weight.copy_(wt)
            l.bias.copy_(b)
    return lins


def build_net(run, init):
    if run in ("ottt_a", "ottt_o"):
        net = layer.OTTTSequential(
            nn.Linear(MLP_IN, MLP_H1),
            neuron.OTTTLIFNode(),
            Scale(MLP_SCALE),
            nn.Linear(MLP_H1, MLP_H2),
            neuron.OTTTLIFNode(),
            nn.Linear(MLP_H2, MLP_C),
        )
    elif run == "sltt":
        net = nn.Sequential(
            nn.Linear(MLP_IN, MLP_H1),
            neuron.SLTTLIFNode(),
            nn.Linear(MLP_H1, MLP_H2),
            neuron.SLTTLIFNode(),
            nn.Linear(MLP_H2, MLP_C),
        )
    elif run == "slttk":
        mk = lambda: neuron.SLTTLIFNode(
            tau=1.1, decay_input=False, v_reset=None, surrogate_function=surrogate.PiecewiseQuadratic()
        )
        net = nn.Sequential(
            nn.Linear(MLP_IN, MLP_H1), mk(), nn.Linear(MLP_H1, MLP_H2), mk(), nn.Linear(MLP_H2, MLP_C)
        )
    else:
        raise ValueError(run)
    load_linears(net, init)
    net.train()
    return net


def mlp_loss(y, label, mse_target):
    ce = F.cross_entropy(y, label)
    mse = F.mse_loss(y, mse_target)
    return ((1 - MLP_LAMBDA) * ce + MLP_LAMBDA * mse) / MLP_T


def mse_target_for(run, y, label):
    if run.startswith("ottt"):
        return F.one_hot(label, MLP_C).to(y.dtype)
    return torch.ones_like(y)


def run_mlp(run, init, xs, labels, rec):
    """Training loop modelled on spikingjelly.learning.online_learning.ottt_online_training.
    rec(name, tensor) records a result. Returns per-layer hidden firing rates."""
    net = build_net(run, init)
    lins = [m for m in net if isinstance(m, nn.Linear)]
    neurons = [m for m in net if isinstance(m, (neuron.OTTTLIFNode, neuron.SLTTLIFNode))]
    opt = torch.optim.SGD(net.parameters(), lr=MLP_LR, momentum=MLP_MOMENTUM)
    online = run == "ottt_o"

    captured = {}

    def hook(idx):
        def fn(mod, inp, out):
            s = out[0] if isinstance(out, list) else out
            captured[idx] = s.detach().clone()

        return fn

    handles = [n.register_forward_hook(hook(i)) for i, n in enumerate(neurons)]
    spike_sum = [0.0, 0.0]
    spike_cnt = [0, 0]

    for b in range(MLP_BATCHES):
        x_seq = xs[b].transpose(0, 1)  # [T, B, 12], as ottt_online_training does
        label = labels[b]
        steps = SLTTK_STEPS[b] if run == "slttk" else list(range(MLP_T))
        if not online:
            opt.zero_grad()
        for t in range(MLP_T):
            if online:
                opt.zero_grad()
            with torch.set_grad_enabled(t in steps):
                y = net(x_seq[t])
                assert isinstance(y, torch.Tensor)
                loss = mlp_loss(y, label, mse_target_for(run, y, label))
            if t in steps:
                loss.backward()
            p = "%s/b%d/t%d/" % (run, b, t)
            rec(p + "logits", y.detach())
            rec(p + "loss", loss.detach())
            for i in range(2):
                spike_sum[i] += captured[i].sum().item()
                spike_cnt[i] += captured[i].numel()
            rec(p + "s0", captured[0])
            rec(p + "s1", captured[1])
            if online:
                for l, lin in enumerate(lins):
                    rec(p + "gw%d" % l, lin.weight.grad)
                    rec(p + "gb%d" % l, lin.bias.grad)
                opt.step()
            functional.detach_net(net)
        if not online:
            for l, lin in enumerate(lins):
                rec("%s/b%d/gw%d" % (run, b, l), lin.weight.grad)
                rec("%s/b%d/gb%d" % (run, b, l), lin.bias.grad)
            opt.step()
        for l, lin in enumerate(lins):
            rec("%s/b%d/w%d" % (run, b, l), lin.weight.detach())
            rec("%s/b%d/bias%d" % (run, b, l), lin.bias.detach())
        functional.reset_net(net)
    for h in handles:
        h.remove()
    return [spike_sum[i] / spike_cnt[i] for i in range(2)]


def crosscheck_with_sj_loop(run, init, xs, labels, ref):
    """Re-run OTTT_A / OTTT_O / SLTT through spikingjelly's own ottt_online_training and
    compare the weights after every batch bitwise with our loop."""
    net = build_net(run, init)
    lins = [m for m in net if isinstance(m, nn.Linear)]
    opt = torch.optim.SGD(net.parameters(), lr=MLP_LR, momentum=MLP_MOMENTUM)
    for b in range(MLP_BATCHES):
        label = labels[b]
        target_seq = label.unsqueeze(1).repeat(1, MLP_T)  # [B, T]

        def f_loss_t(y, lab):
            return mlp_loss(y, lab, mse_target_for(run, y, lab))

        _, y_all = ottt_online_training(net, opt, xs[b], target_seq, f_loss_t, online=(run == "ottt_o"))
        for t in range(MLP_T):
            assert torch.equal(y_all[:, t], ref["%s/b%d/t%d/logits" % (run, b, t)]), (run, b, t)
        for l, lin in enumerate(lins):
            assert torch.equal(lin.weight.detach(), ref["%s/b%d/w%d" % (run, b, l)]), (run, b, l)
            assert torch.equal(lin.bias.detach(), ref["%s/b%d/bias%d" % (run, b, l)]), (run, b, l)
        functional.reset_net(net)
    log("cross-check OK: %s matches spikingjelly ottt_online_training bitwise" % run)


def gen_mlp():
    w = GoldenWriter("spikefuse golden data: 3-layer spiking MLP trained online (OTTT_A, OTTT_O, SLTT, SLTT-K)")
    init = mlp_init()
    xs, labels = mlp_data()
    w.comment("")
    w.comment("layers Linear(12,16) OTTTLIF Scale(2.0) Linear(16,10) OTTTLIF Linear(10,4)")
    w.comment("layers (ottt_a, ottt_o): spikingjelly layer.OTTTSequential(")
    w.comment("  Linear(12,16) OTTTLIF Scale(2.0) Linear(16,10) OTTTLIF Linear(10,4) )")
    w.comment("  Linear = torch.nn.Linear (bias), OTTTLIF = neuron.OTTTLIFNode() defaults (tau 2, decay_input False,")
    w.comment("  v_threshold 1, soft reset, Sigmoid(alpha=4)), Scale = spikingjelly.activation_based.model.")
    w.comment("  spiking_vggws_ottt.Scale(2.0) (parameter-free x*2.0: OTTTSequential applies it to spike")
    w.comment("  (with grad) and to trace (no grad)); Linear after a neuron = GradwithTrace (value from spikes,")
    w.comment("  weight gradient from the trace).")
    w.comment("layers (sltt): nn.Sequential( Linear(12,16) SLTTLIF Linear(16,10) SLTTLIF Linear(10,4) ),")
    w.comment("  SLTTLIF = neuron.SLTTLIFNode() defaults (tau 2, decay_input True, v_threshold 1, hard v_reset 0, Sigmoid(4))")
    w.comment("layers (slttk): same as sltt with SLTTLIFNode(tau=1.1, decay_input=False, v_reset=None,")
    w.comment("  surrogate_function=PiecewiseQuadratic()) (alpha 1); SLTT-K with K=2 fixed steps per batch")
    w.comment("  (slttk/steps_b<b>); the other steps run under torch.no_grad() in train mode (state advances).")
    w.comment("initial weights: torch.manual_seed(%d); nn.Linear default init for the 3 layers in order;" % MLP_SEED)
    w.comment("  then weight0 *= %r, weight1 *= %r (biases untouched). Same init/data for all four runs." % (W0_GAIN, W1_GAIN))
    w.comment("data: torch.Generator(%d): per batch x = rand([B,T,12]) then label = randint(0,4,[B])." % DATA_SEED)
    w.comment("  Input at step t is x_b<b>[:, t, :] (different at every step, no encoder).")
    w.comment("loss per step: L_t = ((1 - lambda) * F.cross_entropy(y_t, label) + lambda * F.mse_loss(y_t, target)) / T")
    w.comment("  lambda = 0.05 (1 - lambda = 0.95 computed in double); target = one_hot(label) for ottt_*,")
    w.comment("  constant 1.0 for sltt/slttk; /T also for SLTT-K (not /K). loss is recorded for every step.")
    w.comment("optimizer: torch.optim.SGD(lr=0.1, momentum=0.9) (dampening 0, no nesterov, no wd), CPU for-loop impl.")
    w.comment("schedule: ottt_o: per step zero_grad, forward, backward, [record t<t>/gw,gb], step.")
    w.comment("  ottt_a/sltt/slttk: zero_grad once per batch, backward every (selected) step, [record b<b>/gw,gb], step.")
    w.comment("  functional.detach_net(net) after every step; functional.reset_net(net) after every batch.")
    w.comment("  b<b>/w<l>, b<b>/bias<l>: parameters after the batch's last optimizer.step().")
    w.comment("<run>/b<b>/t<t>/s0 [B,16], s1 [B,10]: outputs (spikes) of the two neurons (before Scale), every step.")
    w.comment("ottt_a, ottt_o and sltt were cross-checked bitwise against spikingjelly's own")
    w.comment("  learning.online_learning.ottt_online_training (logits and weights after every batch).")

    w.tensor("mlp/T", torch.tensor(float(MLP_T)))
    w.tensor("mlp/B", torch.tensor(float(MLP_B)))
    w.tensor("mlp/batches", torch.tensor(float(MLP_BATCHES)))
    w.tensor("mlp/lambda", torch.tensor(MLP_LAMBDA))
    w.tensor("mlp/lr", torch.tensor(MLP_LR))
    w.tensor("mlp/momentum", torch.tensor(MLP_MOMENTUM))
    w.tensor("mlp/scale", torch.tensor(MLP_SCALE))
    w.tensor("mlp/dims", torch.tensor([float(MLP_IN), float(MLP_H1), float(MLP_H2), float(MLP_C)]))

    all_rec = {}
    rates = {}
    for run in ("ottt_a", "ottt_o", "sltt", "slttk"):
        recorded = []

        def rec(name, t, recorded=recorded):
            recorded.append((name, t.detach().clone()))

        rates[run] = run_mlp(run, init, xs, labels, rec)
        log("mlp %-6s hidden firing rates: layer0 %.3f layer1 %.3f" % (run, rates[run][0], rates[run][1]))
        for r in rates[run]:
            if not (0.10 <= r <= 0.60):
                log("WARNING: %s firing rate %.3f outside [0.10, 0.60]" % (run, r))
        w.comment("")
        w.comment("run %s: hidden firing rates (all batches/steps) layer0 %.4f layer1 %.4f" % (run, rates[run][0], rates[run][1]))
        for l in range(3):
            w.tensor("%s/init/w%d" % (run, l), init[l][0])
            w.tensor("%s/init/b%d" % (run, l), init[l][1])
        for b in range(MLP_BATCHES):
            w.tensor("%s/x_b%d" % (run, b), xs[b])
            w.tensor("%s/label_b%d" % (run, b), labels[b].to(torch.float32))
        if run == "slttk":
            for b in range(MLP_BATCHES):
                w.tensor("slttk/steps_b%d" % b, torch.tensor([float(s) for s in SLTTK_STEPS[b]]))
        for name, t in recorded:
            w.tensor(name, t)
            all_rec[name] = t

    for run in ("ottt_a", "ottt_o", "sltt"):
        crosscheck_with_sj_loop(run, init, xs, labels, all_rec)
    return w, rates


# ----------------------------------------------------------------------------------------------
# (c) optim.txt
# ----------------------------------------------------------------------------------------------
OPTIM_SEED = 4242
OPTIM_STEPS = 5
OPTIM_CONFIGS = [
    ("sgd_plain", torch.optim.SGD, dict(lr=0.1)),
    ("sgd_momentum_wd", torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=0.01)),
    ("sgd_nesterov", torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("adam", torch.optim.Adam, dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)),
    ("adam_wd", torch.optim.Adam, dict(lr=0.01, weight_decay=0.01)),
    ("adamw", torch.optim.AdamW, dict(lr=0.01, weight_decay=0.01)),
]


def gen_optim():
    w = GoldenWriter("spikefuse golden data: torch.optim on fixed gradients")
    g = torch.Generator().manual_seed(OPTIM_SEED)
    p0 = torch.randn(7, generator=g)
    grads = torch.randn((OPTIM_STEPS, 7), generator=g)
    w.comment("")
    w.comment("p0 = randn(7), grads = randn(5,7) from torch.Generator(%d). For each optimizer: p = clone(p0)," % OPTIM_SEED)
    w.comment("for i in 0..4: p.grad = grads[i]; opt.step(); <name>/p[i] = p. CPU default (single-tensor) impl.")
    w.comment("Adam/AdamW (torch %s): m.lerp_(g, 1-beta1); v = v*beta2 + (1-beta2)*g*g (mul_, addcmul_);" % torch.__version__)
    w.comment("  step_size = lr / (1 - beta1**step); denom = sqrt(v) / sqrt(1 - beta2**step) + eps;")
    w.comment("  p.addcdiv_(m, denom, value=-step_size).  Adam weight_decay: g += wd*p;  AdamW: p *= (1 - lr*wd) first.")
    w.comment("  (bias corrections, step_size and sqrt(1 - beta2**step) are Python doubles; tensor math is float32)")
    w.comment("SGD: g += wd*p; buf = g (first step) else buf = momentum*buf + g; nesterov: g = g + momentum*buf")
    w.comment("  else g = buf; p -= lr*g.")
    w.tensor("optim/p0", p0)
    w.tensor("optim/grads", grads)
    w.tensor("optim/steps", torch.tensor(float(OPTIM_STEPS)))
    for name, cls, kw in OPTIM_CONFIGS:
        p = nn.Parameter(p0.clone())
        opt = cls([p], **kw)
        full = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
        keys = ["lr", "momentum", "dampening", "weight_decay", "nesterov", "betas", "eps", "amsgrad", "maximize"]
        w.comment("%s: %s(%s)  full param_group: %s" % (
            name, cls.__name__, ", ".join("%s=%r" % kv for kv in kw.items()),
            ", ".join("%s=%r" % (k, full[k]) for k in keys if k in full)))
        hist = []
        for i in range(OPTIM_STEPS):
            p.grad = grads[i].clone()
            opt.step()
            hist.append(p.detach().clone())
        w.tensor("%s/p" % name, torch.stack(hist))
        # numeric hyper-parameters (also as tensors for convenience)
        w.tensor("%s/lr" % name, torch.tensor(full["lr"]))
        w.tensor("%s/weight_decay" % name, torch.tensor(full["weight_decay"]))
        if cls is torch.optim.SGD:
            w.tensor("%s/momentum" % name, torch.tensor(full["momentum"]))
            w.tensor("%s/nesterov" % name, torch.tensor(1.0 if full["nesterov"] else 0.0))
        else:
            w.tensor("%s/betas" % name, torch.tensor(list(full["betas"])))
            w.tensor("%s/eps" % name, torch.tensor(full["eps"]))
            w.tensor("%s/decoupled" % name, torch.tensor(1.0 if cls is torch.optim.AdamW else 0.0))
    return w


# ----------------------------------------------------------------------------------------------
def main():
    log("torch %s, spikingjelly %s" % (torch.__version__, sj_version()))
    total = 0
    wn = gen_neuron()
    path = wn.save(os.path.join(DATA_DIR, "neuron.txt"))
    total += self_check(wn, path)

    wm, rates = gen_mlp()
    path = wm.save(os.path.join(DATA_DIR, "mlp.txt"))
    total += self_check(wm, path)

    wo = gen_optim()
    path = wo.save(os.path.join(DATA_DIR, "optim.txt"))
    total += self_check(wo, path)
    log("total size: %d bytes" % total)


if __name__ == "__main__":
    main()
