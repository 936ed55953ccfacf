#!/usr/bin/env bash
# The whole `small` pipeline behind docs/results: dataset (seed 0), latent cache with the shipped
# tokenizers (their own training runs are recorded in models/manifest.json), the AV-CDiT and its
# variants, avwm's model and its reward-head ablation, the evaluations and the report. Every step
# resumes; about 14 h on 2 CPU cores.
#
# usage: scripts/reproduce_small.sh [WORK]   (WORK defaults to ./work; AVWM=path/to/avwm)
set -euo pipefail
work=${1:-work}
export AVWM=${AVWM:-target/release/avwm}
"$AVWM" data generate --preset small --out "$work/data/small"
"$AVWM" tokenizer encode --data "$work/data/small" --audio models/tokenizer-audio --out "$work/cache/small"
scripts/train_small_suite.sh "$work/cache/small" "$work/runs"
# avwm's model (models/avwm-small) on the spectral tokenizer's cache, and its reward-head ablation: a
# direct head trained on the same joint stage.
"$AVWM" tokenizer encode --data "$work/data/small" --audio models/tokenizer-audio-mdct --out "$work/cache/small-mdct"
"$AVWM" train --design avwm --stage joint --data "$work/cache/small-mdct" --run "$work/runs/avwm-small" --steps 5000
"$AVWM" train --design avwm --stage head --data "$work/cache/small-mdct" --run "$work/runs/avwm-small"
mkdir -p "$work/runs/avwm-small-direct"
ln -sfn "$(realpath "$work/runs/avwm-small/joint")" "$work/runs/avwm-small-direct/joint"
"$AVWM" train --design avwm --direct-reward-head --stage head --data "$work/cache/small-mdct" \
  --run "$work/runs/avwm-small-direct"
AVWM_CACHE="$work/cache/small-mdct" \
  scripts/eval_small_suite.sh "$work/cache/small" "$work/runs" "$work/evals" docs/results
