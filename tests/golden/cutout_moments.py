"""Moments of torchtoolbox's Cutout() box (defaults) on a 32x32 image, by simulation of its
get_params with Python's random module, for tests/unit/test_cifar10.cpp (cutout_matches_torchtoolbox)."""
import math, random, statistics
random.seed(2022)
W = H = 32
ws, hs, areas = [], [], []
for _ in range(1_000_000):
    s = random.uniform(0.02, 0.4) * H * W
    r = random.uniform(0.4, 1 / 0.4)
    w = int(math.sqrt(s / r)); h = int(math.sqrt(s * r))
    ws.append(w); hs.append(h); areas.append(w * h)
for name, v in (("width", ws), ("height", hs), ("area", areas)):
    print(f"{name}: mean {statistics.fmean(v):.4f}, sd {statistics.pstdev(v):.4f}, min {min(v)}, max {max(v)}")
