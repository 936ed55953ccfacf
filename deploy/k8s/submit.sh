#!/bin/bash
# Generates an avwm dataset on Kubernetes: the shared volume, the Indexed Job, then the merge.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kubectl apply -f "$here/volume.yaml"
kubectl apply -f "$here/generate.yaml"
kubectl wait --for=condition=complete --timeout=24h job/avwm-generate
kubectl apply -f "$here/merge.yaml"
kubectl wait --for=condition=complete --timeout=4h job/avwm-merge
