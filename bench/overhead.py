#!/usr/bin/env python3
"""Overhead of cargo-alloc-profile against native and against heaptrack, measured interleaved.

Usage: python3 bench/overhead.py [--rounds N] [--scale N] [--workloads shallow,threads,serde] [--floors]

Builds the tool (release) and the allocation-heavy fixture tests/programs/allocbench (release, with
the tool's own build settings: frame pointers and line tables). Its workloads: `shallow` (about 9M
small allocations in shallow stacks on one thread), `threads` (the same on two threads at once) and
`serde` (3.5M allocations building, serializing and parsing nested serde_json values: deep stacks,
400k blocks live at the peak). For each workload it runs, round-robin in every round so that
machine noise hits all variants alike:

  native      the fixture binary alone
  interposer  the same binary with the interposer preloaded (what the runner does)
  exec        `cargo alloc-profile exec -- <the binary>` (run, symbolize, report: the whole tool)
  heaptrack   `heaptrack` recording the same binary (if installed)

With --floors it also runs two stripped-down interposers (bench/build-preload.sh with the preload
crate's benchmark features), the cost floors of the design:

  floor-hooks every hook enters and leaves (guard, thread state, the real call); nothing recorded
  floor-walk  every allocation's stack is walked and hashed as for recording; nothing recorded

and prints the median wall time of each and its ratio to native's median, and the median peak RSS
of the profiled process itself (native and interposer: the program is the measured child; the
exec and heaptrack figures would mix in their other processes, so they have none).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAMS = os.path.join(ROOT, "tests", "programs")
MANIFEST = os.path.join(PROGRAMS, "allocbench", "Cargo.toml")
TARGET = os.path.join(PROGRAMS, "target")
TIME = shutil.which("time") or "/usr/bin/time"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None):
    """Wall time in seconds and the command's peak RSS in KiB. The RSS comes from GNU time, a small
    process, because the peak RSS a child inherits across exec would otherwise be Python's own."""
    with tempfile.NamedTemporaryFile(mode="r") as rss_file:
        start = time.perf_counter()
        subprocess.run(
            [TIME, "-f", "%M", "-o", rss_file.name] + cmd,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        elapsed = time.perf_counter() - start
        return elapsed, int(rss_file.read().split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--scale", type=int, default=1_000_000)
    ap.add_argument("--workloads", default="shallow,threads,serde")
    ap.add_argument("--floors", action="store_true", help="also run the floor interposers")
    args = ap.parse_args()

    sh(["cargo", "build", "--release", "-q", "-p", "cargo-alloc-profile"], cwd=ROOT)
    tool = os.path.join(ROOT, "target", "release", "cargo-alloc-profile")
    base = [tool, "alloc-profile"]
    common = ["--manifest-path", MANIFEST, "--target-dir", TARGET, "--release", "-q"]
    # Builds the fixture the way the tool does, and checks it works end to end.
    sh(base + ["run"] + common + ["--", "1000"], stdout=subprocess.DEVNULL)
    exe = os.path.join(TARGET, "alloc-profile", "release", "allocbench")
    env_lines = sh(base + ["show-env"] + common[:4], capture_output=True, text=True).stdout
    preload = None
    for line in env_lines.splitlines():
        if line.startswith("export LD_PRELOAD="):
            preload = line.split("=", 1)[1].strip("'")
    out_dir = tempfile.mkdtemp(prefix="alloc-profile-bench-")
    pre_env = dict(os.environ, LD_PRELOAD=preload, CARGO_ALLOC_PROFILE_OUT=out_dir)
    floors = []
    if args.floors:
        for name, feature in (("floor-hooks", "bench-floor-hooks"), ("floor-walk", "bench-floor-walk")):
            so = os.path.join(ROOT, "target", "bench-preload", name + ".so")
            sh([os.path.join(ROOT, "bench", "build-preload.sh"), so, feature])
            floors.append((name, dict(pre_env, LD_PRELOAD=so)))

    scale = str(args.scale)
    heaptrack = shutil.which("heaptrack")
    for workload in args.workloads.split(","):
        variants = [
            ("native", [exe, scale, workload], None),
            *[(name, [exe, scale, workload], env) for name, env in floors],
            ("interposer", [exe, scale, workload], pre_env),
            ("exec", base + ["exec", "--manifest-path", MANIFEST, "--target-dir", TARGET,
                      "--output", os.devnull, "--", exe, scale, workload], None),
        ]
        if heaptrack:
            ht_out = os.path.join(out_dir, "ht")
            variants.append(("heaptrack", [heaptrack, "-o", ht_out, exe, scale, workload], None))
        times = {name: [] for name, _, _ in variants}
        rss = {name: [] for name, _, _ in variants}
        for _ in range(args.rounds):
            for name, cmd, env in variants:
                elapsed, maxrss = timed(cmd, env)
                times[name].append(elapsed)
                rss[name].append(maxrss)
            for f in os.listdir(out_dir):
                os.remove(os.path.join(out_dir, f))

        native = statistics.median(times["native"])
        native_rss = statistics.median(rss["native"])
        print(f"allocbench {scale} {workload}, {args.rounds} interleaved rounds, medians")
        for name, _, _ in variants:
            med = statistics.median(times[name])
            line = f"  {name:<11} {med * 1000:8.1f} ms  {med / native:5.2f}x native"
            if name in ("native", "interposer") or name.startswith("floor-"):
                mem = statistics.median(rss[name])
                line += f"   peak RSS {mem / 1024:7.1f} MiB  {mem / native_rss:5.2f}x native"
            print(line, flush=True)
    shutil.rmtree(out_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
