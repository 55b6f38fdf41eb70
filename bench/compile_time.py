#!/usr/bin/env python3
"""How long spikefuse's compile-time DSL takes to compile: wall-clock seconds per translation unit.

    python3 bench/compile_time.py [--reps 3] [--only examples|generated|all] [--compilers gcc|nvcc|both]
                                  [--timeout 600] [--build-dir /tmp/spikefuse-compile-time] [--out FILE.json]

What is timed: one compiler process turning one translation unit into an object file (`-c`, no
link), from its start to its exit, measured with time.perf_counter() around the process. The
compiles run one at a time (never in parallel), each `--reps` times (default 3); the table gives the
median, min and max. Nothing is linked or run. A compile still running after --timeout seconds
(default 600) is killed with its child processes; its measurement stops there and is reported as
"> timeout (killed)" (JSON: timed_out), the reps that finished before it kept. (Before commit
32ca525 the 32-layer chain was such a case under nvcc 13: its front end, cudafe++, ran for more than
20 minutes on it; it now compiles in about 23 s.)

  examples    examples/fashion_mnist_mlp.cpp, fashion_mnist_csnn.cpp and cifar10_convnet.cpp, each with
              the command line CMake uses for it.
  generated   a chain network of N = 2, 8 and 32 hidden layers:
                  Network<Input<256>, Linear<256>, OTTTLIF<>, ... (N/2 such pairs) ..., Linear<10>>
              N counts the hidden layers, each Linear<256> and each OTTTLIF<> being one layer; the
              Input<256> and the output Linear<10> are not counted. Network::depth (the library's
              layer count, which leaves out Input) is N + 1, which the generated file static_asserts.
              Its main() builds a spikefuse::cpu::model<Net> and runs spikefuse::train_batch once on
              it (Adam, OTTT_A schedule, T = 2), so the whole CPU backend is instantiated; compiled by
              nvcc it does the same with a spikefuse::cuda::model<Net> (<spikefuse/backend/cuda/
              trainer.cuh>, under __CUDACC__), so the CUDA backend is instantiated too. It is compiled
              with fashion_mnist_mlp.cpp's command line, only the source and object paths swapped.
              The generated sources stay in <build-dir>/generated/ for inspection.

  gcc   the host build: the examples compiled as C++ by g++. The command lines are CMake's, from a
        scratch configuration  cmake -S . -B <build-dir>/gcc -DSPIKEFUSE_CUDA=OFF
        -DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
        -DSPIKEFUSE_BUILD_TESTS=OFF -DSPIKEFUSE_BUILD_BENCH=OFF  (SPIKEFUSE_CUDA=OFF is the project's
        switch that leaves the examples C++ sources; with nvcc around they would otherwise be CUDA).
  nvcc  the CUDA build: the same, with -DSPIKEFUSE_CUDA=ON (and CMake's default C++ compiler), where
        examples/CMakeLists.txt marks the examples LANGUAGE CUDA, so nvcc compiles them (`-x cu`) and
        they instantiate the CUDA backend as well. nvcc's host compiler is its default one.

Both scratch configurations live under --build-dir (default /tmp/spikefuse-compile-time); the
project's own build directories are not touched. Tests and benchmarks are left out of them only to
keep the configuration short: the examples' flags do not depend on them. Each command is read from
<build-dir>/<compiler>/compile_commands.json and run unchanged in its "directory" (nvcc's include
paths are in a CMake response file, --options-file; its text is recorded in the JSON too).

Output: a markdown table on stdout, and the raw measurements as JSON at --out (default
bench/results/<YYYY-MM-DD>-compile-time.json): date, git commit, g++ / nvcc / cmake versions, CPU
model, core count, load average, and per measurement its full command line, working directory,
every rep's seconds, whether it timed out, and the peak resident set size of the largest compiler
process (ru_maxrss).
Let the machine be otherwise idle: a parallel build next to it distorts the numbers.
"""
import argparse
import datetime
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ["fashion_mnist_mlp", "fashion_mnist_csnn", "cifar10_convnet"]
DEPTHS = [2, 8, 32]  # hidden layers of the generated chains (even: Linear/OTTTLIF pairs)
GENERATED_TEMPLATE = "fashion_mnist_mlp"  # whose command line compiles the generated chains
SPIKEFUSE_CUDA = {"gcc": "OFF", "nvcc": "ON"}  # the CMake switch for each compiler's configuration


def run_text(args, **kwargs):
    """stdout of a command, stripped; '' where the command is missing or fails."""
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True, **kwargs).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


# ---- command lines from CMake --------------------------------------------------------------------


def configure(build_root, compiler):
    """Configures the scratch build for `compiler`; returns {example: compile_commands.json entry}."""
    build = build_root / compiler
    cmd = ["cmake", "-S", str(ROOT), "-B", str(build), f"-DSPIKEFUSE_CUDA={SPIKEFUSE_CUDA[compiler]}",
           "-DCMAKE_BUILD_TYPE=Release", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON",
           "-DSPIKEFUSE_BUILD_TESTS=OFF", "-DSPIKEFUSE_BUILD_BENCH=OFF"]
    if compiler == "gcc":
        cmd.append("-DCMAKE_CXX_COMPILER=g++")
    print(f"configuring {build} ...", file=sys.stderr, flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {shlex.join(cmd)} failed:\n{done.stdout}{done.stderr}")
    entries = json.loads((build / "compile_commands.json").read_text())
    by_example = {}
    for entry in entries:
        source = Path(entry["file"])
        if source.parent == ROOT / "examples" and source.stem in EXAMPLES:
            by_example[source.stem] = entry
    missing = [e for e in EXAMPLES if e not in by_example]
    if missing:
        sys.exit(f"error: no compile command for {', '.join(missing)} in {build}/compile_commands.json")
    for name, entry in by_example.items():
        program = Path(shlex.split(entry["command"])[0]).name
        if (program == "nvcc") != (compiler == "nvcc"):
            sys.exit(f"error: {build} compiles {name} with {program}, not {compiler}")
    return by_example


def options_files(argv, directory):
    """Text of the response files an argument list reads (nvcc's --options-file), by their path."""
    files = {}
    for flag, value in zip(argv, argv[1:]):
        if flag in ("--options-file", "-optf"):
            files[value] = (Path(directory) / value).read_text()
    return files


def swap_paths(argv, source, new_source, new_object):
    """The argument list with the source file and the -o object replaced (each must occur once)."""
    out = list(argv)
    sources = [i for i, a in enumerate(out) if a == source]
    objects = [i + 1 for i, a in enumerate(out[:-1]) if a == "-o"]
    if len(sources) != 1 or len(objects) != 1:
        sys.exit(f"error: cannot find exactly one source and one -o in: {shlex.join(argv)}")
    out[sources[0]] = str(new_source)
    out[objects[0]] = str(new_object)
    return out


# ---- the generated chain networks ----------------------------------------------------------------


def chain_source(depth):
    """A translation unit that trains a chain of `depth` hidden layers once on each backend it has."""
    assert depth >= 2 and depth % 2 == 0, "depth counts Linear<256>/OTTTLIF<> pairs twice"
    pairs = "".join("\n                        sf::Linear<256>, sf::OTTTLIF<>," for _ in range(depth // 2))
    return f"""\
// Generated by bench/compile_time.py: a chain of {depth} hidden layers (Linear<256> and OTTTLIF<> count one
// each; Input and the output Linear<10> do not), trained for one batch on the CPU backend and, when
// nvcc compiles it, on the CUDA backend. Compiled only, never run.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <spikefuse/spikefuse.hpp>
#if defined(__CUDACC__)
#include <spikefuse/backend/cuda/trainer.cuh>
#endif

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<256>,{pairs}
                        sf::Linear<10>>;
static_assert(Net::depth == {depth} + 1);

constexpr int kBatch = 8;
constexpr int kSteps = 2;

template <class Model>
double train_once(Model& model) {{
  const std::vector<std::uint8_t> labels(kBatch, 3);
  const std::vector<char> every_step(kSteps, 1);
  sf::optimizer opt(sf::optimizer_config{{}});
  const sf::step_encoder encode([](int, float* x) {{ std::fill(x, x + kBatch * Net::input_size, 0.5f); }}, true);
  return sf::train_batch(model, opt, 1e-3f, kBatch, kSteps, encode, labels, sf::loss_config{{}},
                         sf::schedule_of(sf::training_method::ottt_a), every_step)
      .loss;
}}

int main() {{
  sf::cpu::model<Net> cpu_model(kBatch, 2, 1);
  double loss = train_once(cpu_model);
#if defined(__CUDACC__)
  sf::cuda::model<Net> cuda_model(kBatch, 2, 1);
  loss += train_once(cuda_model);
#endif
  return loss > 0.0 ? 0 : 1;
}}
"""


# ---- measuring -----------------------------------------------------------------------------------


def time_compile(argv, directory, timeout):
    """Runs one compile: (wall seconds, peak RSS in MiB of its largest process), (None, None) after `timeout`."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        # Own process group, so that a timeout also ends nvcc's children (cudafe++, cicc, ptxas, gcc).
        process = subprocess.Popen(argv, cwd=directory, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while True:  # os.wait4 (for ru_maxrss) has no timeout: poll it
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                seconds = time.perf_counter() - start
                if pid:
                    break
                if seconds > timeout:
                    os.killpg(process.pid, signal.SIGKILL)
                    os.wait4(process.pid, 0)
                    return None, None
                time.sleep(0.01)
        except BaseException:  # Ctrl-C: the compile is outside our process group, end it too
            os.killpg(process.pid, signal.SIGKILL)
            raise
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            log.seek(0)
            sys.exit(f"error: compile failed ({code}) in {directory}:\n{shlex.join(argv)}\n"
                     f"{log.read().decode(errors='replace')[-8000:]}")
    return seconds, usage.ru_maxrss / 1024.0


def measure(what, compiler, argv, directory, reps, timeout):
    """`reps` timed compiles; a compile that runs past `timeout` ends the measurement (timed_out)."""
    seconds, rss, timed_out = [], [], False
    for rep in range(reps):
        print(f"  {what} [{compiler}] rep {rep + 1}/{reps} ...", end="", file=sys.stderr, flush=True)
        s, r = time_compile(argv, directory, timeout)
        if s is None:
            print(f" killed after {timeout:g} s", file=sys.stderr, flush=True)
            timed_out = True
            break
        print(f" {s:.1f} s", file=sys.stderr, flush=True)
        seconds.append(s)
        rss.append(r)
    return {
        "what": what, "compiler": compiler,
        "median_s": statistics.median(seconds) if seconds else None,
        "min_s": min(seconds, default=None), "max_s": max(seconds, default=None),
        "seconds": seconds, "timed_out": timed_out, "timeout_s": timeout, "peak_rss_mib": max(rss, default=None),
        "command": shlex.join(argv), "directory": str(directory),
        "options_files": options_files(argv, directory),
    }


def plan(args, build_root):
    """(what, compiler, argv, directory) for every measurement, in the order they run."""
    compilers = ["gcc", "nvcc"] if args.compilers == "both" else [args.compilers]
    jobs = []
    for compiler in compilers:
        commands = configure(build_root, compiler)
        if args.only in ("examples", "all"):
            for name in EXAMPLES:
                entry = commands[name]
                jobs.append((f"examples/{name}.cpp", compiler, shlex.split(entry["command"]), entry["directory"]))
        if args.only in ("generated", "all"):
            template = commands[GENERATED_TEMPLATE]
            generated = build_root / "generated"
            generated.mkdir(parents=True, exist_ok=True)
            for depth in DEPTHS:
                source = generated / f"chain_{depth}.cpp"
                source.write_text(chain_source(depth))
                argv = swap_paths(shlex.split(template["command"]), template["file"], source,
                                  generated / f"chain_{depth}.{compiler}.o")
                jobs.append((f"chain of {depth} hidden layers", compiler, argv, template["directory"]))
    return jobs


def environment(jobs):
    """The machine and the tools: the compilers are those the measured commands run."""
    used = {compiler: argv[0] for _, compiler, argv, _ in jobs}
    gxx = used.get("gcc", "g++")  # without a gcc job: g++ on PATH, nvcc's default host compiler
    nvcc = used.get("nvcc", shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc")
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "")
    return {
        "date": datetime.date.today().isoformat(),
        "git_commit": run_text(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT),
        "git_dirty": bool(run_text(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT)),
        "gxx": gxx,
        "gxx_version": run_text([gxx, "--version"]).partition("\n")[0],
        "nvcc": nvcc,
        "nvcc_version": next((line for line in run_text([nvcc, "--version"]).splitlines() if "release" in line), ""),
        "cmake_version": run_text(["cmake", "--version"]).partition("\n")[0],
        "cpu_model": cpu,
        "cpu_count": os.cpu_count(),
    }


def table(results):
    lines = ["| what | compiler | median s | min s | max s |", "|---|---|---:|---:|---:|"]
    for r in results:
        if r["seconds"]:
            cells = [f"{r[k]:.1f}" for k in ("median_s", "min_s", "max_s")]
        else:
            cells = [f"> {r['timeout_s']:g} (killed)", "", ""]
        if r["timed_out"] and r["seconds"]:
            cells[2] = f"> {r['timeout_s']:g} (killed)"
        lines.append(f"| {r['what']} | {r['compiler']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3, help="compiles per measurement (default 3); the median is reported")
    parser.add_argument("--out", type=Path, help="JSON output (default bench/results/<YYYY-MM-DD>-compile-time.json)")
    parser.add_argument("--only", choices=["examples", "generated", "all"], default="all")
    parser.add_argument("--compilers", choices=["gcc", "nvcc", "both"], default="both")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds after which a compile is killed and the measurement marked timed out (default 600)")
    parser.add_argument("--build-dir", type=Path, default=Path(tempfile.gettempdir()) / "spikefuse-compile-time",
                        help="root of the scratch CMake configurations (<dir>/gcc, <dir>/nvcc) and the generated sources")
    args = parser.parse_args()
    if args.reps < 1 or args.timeout <= 0:
        parser.error("--reps must be at least 1 and --timeout positive")

    load_start = os.getloadavg()
    if load_start[0] >= 1.0:
        print(f"warning: load average {load_start[0]:.2f}; other work on the machine distorts the timings", file=sys.stderr)
    build_root = args.build_dir.resolve()
    jobs = plan(args, build_root)
    env = environment(jobs)
    out = args.out or ROOT / "bench" / "results" / f"{env['date']}-compile-time.json"
    results = [measure(what, compiler, argv, directory, args.reps, args.timeout) for what, compiler, argv, directory in jobs]
    env["loadavg_start"], env["loadavg_end"] = load_start, os.getloadavg()

    print(table(results))
    report = {**env, "reps": args.reps, "command_line": shlex.join(sys.argv), "build_dir": str(build_root),
              "measurements": results}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
