#!/usr/bin/env bash
# Fuzzes every loader of user files with 1,000,000 inputs each (crates/avwm-fuzz): builds
# avwm-fuzz in release and runs every target; per-target results go to
# docs/results/fuzz/results/<target>.json (the record kept in the repository),
# the inputs of findings (panics, aborts, hangs) to docs/results/fuzz/findings/<target>/<hash>.bin,
# and the table of all targets to docs/results/fuzz/results/summary.json. Exits 1 if there were
# findings.
#
# Resumable: each target checkpoints after every segment of inputs (<out>/resume/), and a
# re-run continues where the last one stopped (a finished target is not run again), running
# exactly the inputs an uninterrupted run runs. JOBS workers take the targets one at a time.
#
# usage: scripts/fuzz.sh [INPUTS] [SEED]   (TARGET=a,b|all, OUT=docs/results/fuzz/results, JOBS=1,
#                                           SEGMENT=50000)
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=${1:-1000000}
seed=${2:-0}
out=${OUT:-docs/results/fuzz/results}
jobs=${JOBS:-1}
segment=${SEGMENT:-50000}
cargo build --release -p avwm-fuzz
bin=target/release/avwm-fuzz
if [ "${TARGET:-all}" = all ]; then
    targets=$("$bin" list | awk '{print $1}')
else
    targets=${TARGET//,/ }
fi
claims="$out/resume/claims"
rm -rf "$claims"
mkdir -p "$claims"

# One worker: claims the next unclaimed target (mkdir is atomic) and runs it to the end.
worker() {
    local rc=0 t r
    for t in $targets; do
        mkdir "$claims/$t" 2>/dev/null || continue
        echo "fuzz: $t (worker $1)"
        r=0
        "$bin" run --target "$t" --inputs "$inputs" --seed "$seed" --segment "$segment" \
            --resume --out "$out" > "$out/resume/$t.log" 2>&1 || r=$?
        tail -n 12 "$out/resume/$t.log"
        if [ "$r" -ge 2 ]; then
            echo "fuzz: $t failed to run (status $r), see $out/resume/$t.log" >&2
            return "$r"
        fi
        [ "$r" -eq 1 ] && rc=1
    done
    return "$rc"
}

pids=()
for j in $(seq 1 "$jobs"); do
    worker "$j" &
    pids+=("$!")
done
status=0
for p in "${pids[@]}"; do
    wait "$p" || { r=$?; [ "$r" -gt "$status" ] && status=$r; }
done
rm -rf "$claims"
"$bin" summary --out "$out" --inputs "$inputs" || status=$((status > 1 ? status : 1))
exit "$status"
