#!/usr/bin/env bash
# Trains the `small` AV-CDiT and every variant the evaluation tables need, one after another.
# Every command resumes from its run folder, so re-running this script continues where it stopped.
#
# usage: scripts/train_small_suite.sh CACHE [RUNS]   (AVWM=path/to/avwm to use another binary)
set -euo pipefail
cache=${1:?"usage: $0 CACHE [RUNS]"}
runs=${2:-runs}
avwm=${AVWM:-target/release/avwm}
threads=${THREADS:-0}
train() { "$avwm" train --preset small --data "$cache" --threads "$threads" "$@"; }
train --stage all --run "$runs/avcdit-small"                     # AV-CDiT, stages 1 → 2 → 3
train --variant audio-only --run "$runs/ldm-small-audio"         # audio-only LDM baseline
# ablation: shared FFN; stage 1 sees visual tokens only, so it is the full model's stage 1 (renamed)
train --stage all --no-experts --share-stage1 "$runs/avcdit-small" --run "$runs/avcdit-small-no-experts"
# vision-only CDiT baseline: the full model's stage 1 is its first 3,000 steps (audio side dropped)
train --variant vision-only --share-stage1 "$runs/avcdit-small" --run "$runs/cdit-small-vision"
train --no-stagewise --run "$runs/avcdit-small-no-stagewise"     # ablation: joint from the start
