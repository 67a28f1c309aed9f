#!/bin/sh
# Instruction counts of the interposer on allocbench, for before/after decisions on a noisy machine.
#
# Usage: bench/cachegrind.sh [SCALE] [WORKLOAD...]     (defaults: 100000, shallow serde threads)
#
# Builds the interposer the way crates/cli/build.rs does (same rustc flags, but with symbols, so that
# `cg_annotate` and `perf report` name its functions) into target/bench-preload/, builds allocbench
# the way bench/overhead.py does (through the tool, once), then runs each workload natively and with
# the interposer under `valgrind --tool=cachegrind --cache-sim=no` and prints both instruction
# counts and their difference (the interposer's cost). The cachegrind files stay in
# target/bench-preload/ for `cg_annotate --auto=yes target/bench-preload/cg.<workload>.preload`.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SCALE=${1:-100000}
[ $# -gt 0 ] && shift
WORKLOADS=${*:-shallow serde threads}
OUT=$ROOT/target/bench-preload
mkdir -p "$OUT/raw"

"$ROOT/bench/build-preload.sh" "$OUT/liballoc_profile_preload.so"

PROGRAMS=$ROOT/tests/programs
EXE=$PROGRAMS/target/alloc-profile/release/allocbench
if [ ! -x "$EXE" ]; then
    (cd "$ROOT" && cargo build --release -q -p cargo-alloc-profile)
    "$ROOT/target/release/cargo-alloc-profile" alloc-profile run \
        --manifest-path "$PROGRAMS/allocbench/Cargo.toml" --target-dir "$PROGRAMS/target" \
        --release -q -- 1000 >/dev/null
fi

irefs() {
    valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file="$1" "$EXE" "$SCALE" "$2" 2>&1 \
        | awk '/I *refs/ { gsub(",", "", $NF); print $NF }'
}
printf '%-8s %14s %14s %14s\n' workload native interposer difference
for w in $WORKLOADS; do
    native=$(irefs "$OUT/cg.$w.native" "$w")
    pre=$(LD_PRELOAD=$OUT/liballoc_profile_preload.so CARGO_ALLOC_PROFILE_OUT=$OUT/raw \
        irefs "$OUT/cg.$w.preload" "$w")
    printf '%-8s %14s %14s %14s\n' "$w" "$native" "$pre" "$((pre - native))"
    rm -f "$OUT"/raw/*.aprof
done
