#!/usr/bin/env bash
# The whole `small` pipeline behind docs/results: dataset (seed 0), latent cache with the shipped
# tokenizers (their own training runs are recorded in models/manifest.json), the AV-CDiT and its
# variants, the evaluations and the report. Every step resumes; about 8 h on 2 CPU cores.
#
# usage: scripts/reproduce_small.sh [WORK]   (WORK defaults to ./work; AVWM=path/to/avwm)
set -euo pipefail
work=${1:-work}
export AVWM=${AVWM:-target/release/avwm}
"$AVWM" data generate --preset small --out "$work/data/small"
"$AVWM" tokenizer encode --data "$work/data/small" --audio models/tokenizer-audio --out "$work/cache/small"
scripts/train_small_suite.sh "$work/cache/small" "$work/runs"
scripts/eval_small_suite.sh "$work/cache/small" "$work/runs" "$work/evals" docs/results
