#!/bin/sh
# Builds the interposer the way crates/cli/build.rs does (same rustc flags), but with symbols, so
# that `cg_annotate` and `perf report` name its functions.
#
# Usage: bench/build-preload.sh OUT.so [FEATURE...]
#
# FEATUREs are the preload crate's benchmark features (see crates/preload/Cargo.toml), e.g.
# `bench-floor-walk`: the cost floors `bench/overhead.py --floors` measures.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$1
shift
DIR=$(dirname "$OUT")
mkdir -p "$DIR"
FLAGS="--edition 2021 -C opt-level=3 -C panic=abort -C force-frame-pointers=yes -C debuginfo=0 --cap-lints warn"
for f in "$@"; do
    set -- "$@" --cfg "feature=\"$f\""
    shift
done
# shellcheck disable=SC2086
rustc $FLAGS --crate-type rlib --crate-name alloc_profile_format \
    "$ROOT/crates/format/src/lib.rs" -o "$DIR/liballoc_profile_format.rlib"
# shellcheck disable=SC2086
rustc $FLAGS --crate-type cdylib --crate-name alloc_profile_preload -C codegen-units=1 -g \
    "$@" "$ROOT/crates/preload/src/lib.rs" \
    --extern alloc_profile_format="$DIR/liballoc_profile_format.rlib" -L "$DIR" -o "$OUT"
