#!/usr/bin/env bash
# The paper's Table 8 with avwm's numbers: the plain agent (argmax and sampled), and beam search
# through the oracle (the simulator) and the learned world model at B ∈ {3, 4}, k ∈ {4, 5}, n = 2,
# all on the same fixed episode file, each compared with the plain agent by a paired test.
# Every evaluation resumes where it stopped; a finished one returns at once. Run it in the
# background (about 12 hours on 2 cores for the 240 episodes; LIMIT=N for a shorter pass).
#
#   scripts/table8.sh AGENT_DIR OUT_DIR [EPISODES] [MODEL]
set -euo pipefail
AGENT=${1:?agent folder}
OUT=${2:?output folder}
EPISODES=${3:-episodes/audiogoal-small-test-v1.jsonl}
MODEL=${4:-models/avwm-small}
AVWM=${AVWM:-target/release/avwm}
LIMIT_ARGS=()
if [[ -n "${LIMIT:-}" ]]; then LIMIT_ARGS=(--limit "$LIMIT"); fi
run() { "$AVWM" nav eval --agent "$AGENT" --episodes "$EPISODES" "${LIMIT_ARGS[@]}" "$@" > /dev/null; }
run --out "$OUT/plain"
run --policy sample --out "$OUT/plain-sample" --against "$OUT/plain"
rows=("$OUT/plain" "$OUT/plain-sample")
for planner in oracle wm; do
  for b in 3 4; do
    for k in 4 5; do
      dir="$OUT/$planner-b$b-k$k"
      run --planner "$planner" --model "$MODEL" --n 2 --beam "$b" --depth "$k" --out "$dir" --against "$OUT/plain"
      rows+=("$dir")
    done
  done
done
"$AVWM" nav table --evals "${rows[@]}" --out "$OUT/table8.md"
cat "$OUT/table8.md"
