#!/usr/bin/env bash
# Fuzzes every loader of user files with 1,000,000 inputs each (crates/avwm-fuzz): builds
# avwm-fuzz in release and runs it; per-target results go to fuzz/results/<target>.json and the
# inputs of findings (panics, aborts, hangs) to fuzz/findings/<target>/<hash>.bin. Exits non-zero
# if there were findings. Not resumable: a re-run starts again (same seed ⇒ same inputs).
#
# usage: scripts/fuzz.sh [INPUTS] [SEED]   (TARGET=name|all, OUT=fuzz/results)
set -euo pipefail
inputs=${1:-1000000}
seed=${2:-0}
cargo build --release -p avwm-fuzz
exec target/release/avwm-fuzz run --target "${TARGET:-all}" --inputs "$inputs" --seed "$seed" \
    --out "${OUT:-fuzz/results}"
