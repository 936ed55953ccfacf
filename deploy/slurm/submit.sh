#!/bin/bash
# Generates an avwm dataset on a Slurm cluster: an array of N parts, then the merge.
#   AVWM_OUT=/shared/avw4k deploy/slurm/submit.sh [N]      (N defaults to 16)
# Further environment: see generate.sbatch. Extra sbatch options (partition, account) go in
# SBATCH_PARTITION / SBATCH_ACCOUNT, which sbatch reads itself.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
n="${1:-16}"
: "${AVWM_OUT:?set AVWM_OUT to the dataset folder on a filesystem every node sees}"
export AVWM_OUT AVWM_PRESET AVWM_CONFIG AVWM_SEED AVWM
array=$(sbatch --parsable --export=ALL --array="0-$((n - 1))" "$here/generate.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --export=ALL --dependency="afterok:$array" "$here/merge.sbatch")
echo "parts: job $array (array 0-$((n - 1))), merge: job ${merge%%;*} -> $AVWM_OUT"
