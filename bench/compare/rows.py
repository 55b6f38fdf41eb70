"""The rows of a run.py result, grouped: one workload's spikefuse and SpikingJelly measurements, and their speed-ups.

With `run.py --rounds N` each workload is measured N times, the two sides alternating (ABBA), so a
machine whose speed drifts over minutes slows both sides of a round alike; the speed-up reported is
the median of the N per-round ratios.
"""
import statistics


def key_of(r):
    return (r["tag"], r["workload"], r["rule"], r["batch"], r["T"])


def group(rows):
    """{(tag, workload, rule, batch, T, variant): {impl: [rows with a median_ms, in round order]}}, in first-seen order.

    variant is spikefuse's convolution path where one run measured several (run.py --conv im2col,cudnn),
    '' otherwise; SpikingJelly's rows of a workload join every variant of it, so each variant gets its
    own speed-up against the same SpikingJelly measurement."""
    rows = list(rows)  # two passes
    variants = {}
    for r in rows:
        if r["impl"] == "spikefuse":
            seen = variants.setdefault(key_of(r), [])
            if r.get("variant", "") not in seen:
                seen.append(r.get("variant", ""))
    groups = {}
    for r in rows:
        k = key_of(r)
        for v in [r.get("variant", "")] if r["impl"] == "spikefuse" else variants.get(k, [""]):
            impls = groups.setdefault(k + (v,), {})
            if "median_ms" in r:
                impls.setdefault(r["impl"], []).append(r)
    return groups


def round_ratios(impls):
    """SpikingJelly time / spikefuse time of each round both sides completed."""
    ours = {r.get("round", 0): r for r in impls.get("spikefuse", [])}
    theirs = {r.get("round", 0): r for r in impls.get("spikingjelly", [])}
    return [theirs[k]["median_ms"] / ours[k]["median_ms"] for k in sorted(ours) if k in theirs]


def median_of(rows, field):
    values = [r[field] for r in rows if r.get(field) is not None]
    return statistics.median(values) if values else None
