#!/usr/bin/env bash
# Evaluates the shipped `small` AV-CDiT and every model the report's tables need, fixed-step and
# rollout (3 sampling runs each), plus the counterfactual protocol for the full model, then writes
# the report. An evaluation whose eval.json exists is skipped, so re-running continues.
#
# usage: scripts/eval_small_suite.sh CACHE RUNS EVALS [REPORT]   (AVWM=path/to/avwm, THREADS=n,
#        AVWM_CACHE=the spectral tokenizer's cache to evaluate avwm's model too)
set -euo pipefail
cache=${1:?"usage: $0 CACHE RUNS EVALS [REPORT]"}
runs=${2:?"usage: $0 CACHE RUNS EVALS [REPORT]"}
evals=${3:?"usage: $0 CACHE RUNS EVALS [REPORT]"}
report=${4:-docs/results}
avwm=${AVWM:-target/release/avwm}
threads=${THREADS:-0}
ev() { # NAME MODEL MODE [extra args]
  local name=$1 model=$2 mode=$3; shift 3
  if [ -f "$evals/$name-$mode/eval.json" ]; then echo "skip $name-$mode (done)"; return; fi
  if [ ! -f "$model/model.json" ] && [ ! -f "$model.json" ]; then echo "skip $name-$mode: $model not trained yet"; return; fi
  "$avwm" eval --model "$model" --data "$cache" --mode "$mode" --runs 3 --threads "$threads" \
    --audio-tokenizer models/tokenizer-audio --out "$evals/$name-$mode" "$@"
}
for mode in fixed rollout; do
  ev av-cdit models/avcdit-small "$mode"
  ev stage1 "$runs/avcdit-small/stage1" "$mode" --no-references
  ev stage1+2 "$runs/avcdit-small/stage2" "$mode" --no-references
  ev audio-only "$runs/ldm-small-audio/joint" "$mode" --no-references
  ev no-experts "$runs/avcdit-small-no-experts/stage3" "$mode" --no-references
  ev vision-only "$runs/cdit-small-vision/joint" "$mode" --no-references
  ev no-stagewise "$runs/avcdit-small-no-stagewise/joint" "$mode" --no-references
done
ev av-cdit models/avcdit-small counterfactual --anchors 48
# avwm's model and its reward-head ablation, on the spectral tokenizer's cache (AVWM_CACHE), one DDIM
# step (its posterior mean; ten steps are worse), the same anchors (16 frames of history).
if [ -n "${AVWM_CACHE:-}" ]; then
  evavwm() { # NAME MODEL MODE [extra args]
    local name=$1 model=$2 mode=$3; shift 3
    if [ -f "$evals/$name-$mode/eval.json" ]; then echo "skip $name-$mode (done)"; return; fi
    if [ ! -f "$model.json" ]; then echo "skip $name-$mode: $model not trained yet"; return; fi
    "$avwm" eval --model "$model" --data "$AVWM_CACHE" --mode "$mode" --runs 3 --threads "$threads" \
      --sampler-steps 1 --audio-tokenizer models/tokenizer-audio-mdct --out "$evals/$name-$mode" "$@"
  }
  for mode in fixed rollout; do
    evavwm avwm models/avwm-small "$mode"
    evavwm avwm-direct-reward "$runs/avwm-small-direct/head/model" "$mode" --no-references
  done
  evavwm avwm models/avwm-small counterfactual --anchors 48
fi
"$avwm" report --evals "$evals" --out "$report" --commands scripts/reproduce_small.sh
