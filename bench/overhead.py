#!/usr/bin/env python3
"""Overhead of cargo-alloc-profile against native and against heaptrack, measured interleaved.

Usage: python3 bench/overhead.py [--rounds N] [--scale N]

Builds the tool (release) and the allocation-heavy fixture tests/programs/allocbench (release, with
the tool's own build settings: frame pointers and line tables), then runs, round-robin in every
round so that machine noise hits all variants alike:

  native      the fixture binary alone
  interposer  the same binary with the interposer preloaded (what the runner does)
  end-to-end  `cargo alloc-profile run --release` (cargo's no-op build, run, symbolize, report)
  heaptrack   `heaptrack` recording the same binary (if installed)

and prints the median wall time of each and its ratio to native's median.
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


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None):
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=11)
    ap.add_argument("--scale", type=int, default=1_000_000)
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

    scale = str(args.scale)
    variants = [
        ("native", [exe, scale], None),
        ("interposer", [exe, scale], pre_env),
        ("end-to-end", base + ["run"] + common + ["--output", os.devnull, "--", scale], None),
    ]
    heaptrack = shutil.which("heaptrack")
    if heaptrack:
        variants.append(("heaptrack", [heaptrack, "-o", os.path.join(out_dir, "ht"), exe, scale], None))

    times = {name: [] for name, _, _ in variants}
    for _ in range(args.rounds):
        for name, cmd, env in variants:
            times[name].append(timed(cmd, env))
        for f in os.listdir(out_dir):
            os.remove(os.path.join(out_dir, f))
    shutil.rmtree(out_dir, ignore_errors=True)

    native = statistics.median(times["native"])
    print(f"allocbench {scale}, {args.rounds} interleaved rounds, median wall time")
    for name, _, _ in variants:
        med = statistics.median(times[name])
        print(f"  {name:<11} {med * 1000:8.1f} ms  {med / native:5.2f}x native")


if __name__ == "__main__":
    sys.exit(main())
