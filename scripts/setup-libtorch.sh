#!/usr/bin/env bash
# Installs libtorch (the CPU part of the torch 2.13.0 wheel) once per machine into a
# cache outside the repository, and points the repository's `.libtorch` link at it.
# `.cargo/config.toml` sets LIBTORCH to `.libtorch/torch`, and the build scripts of
# the crates that link torch add an rpath to its `lib/`, so nothing needs exporting.
#
# Idempotent: a second run only checks the marker and the link (well under a second).
#
# Environment:
#   AVWM_CACHE_DIR   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/avwm)
#   AVWM_TORCH_CUDA  set to 1 to install the full wheel with its CUDA dependencies
#                    (about 3.6 GB) instead of the CPU subset (about 1.25 GB)
#   PYTHON           the Python interpreter whose pip is used (default: python3)
set -euo pipefail

TORCH_VERSION=2.13.0
CUDART_PIN='nvidia-cuda-runtime==13.0.96.*'
CUPTI_PIN='nvidia-cuda-cupti==13.0.85.*'

repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${AVWM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/avwm}"
python="${PYTHON:-python3}"
if [[ "${AVWM_TORCH_CUDA:-0}" == 1 ]]; then
  flavour=cuda
else
  flavour=cpu
fi
dest="$cache/libtorch-$TORCH_VERSION-$flavour"
marker="$dest/.avwm-complete"

if [[ ! -f "$marker" ]]; then
  echo "setup-libtorch: installing torch $TORCH_VERSION ($flavour) into $dest" >&2
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.install-XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  if [[ "$flavour" == cuda ]]; then
    "$python" -m pip install --quiet --no-warn-script-location --root-user-action=ignore --disable-pip-version-check --target "$tmp" \
      "torch==$TORCH_VERSION"
  else
    # The CPU library needs only two small CUDA wheels at load time
    # (libcudart.so.13 and libcupti.so.13); the rest of the CUDA stack is skipped.
    "$python" -m pip install --quiet --no-warn-script-location --root-user-action=ignore --disable-pip-version-check --no-deps --target "$tmp" \
      "torch==$TORCH_VERSION" "$CUDART_PIN" "$CUPTI_PIN"
  fi
  for f in include/torch/csrc/api/include/torch/torch.h lib/libtorch_cpu.so lib/libc10.so; do
    [[ -e "$tmp/torch/$f" ]] || { echo "setup-libtorch: $tmp/torch/$f missing after install" >&2; exit 1; }
  done
  date -u +%FT%TZ > "$tmp/.avwm-complete"
  rm -rf "$dest"
  mv "$tmp" "$dest"
  trap - EXIT
fi

# Point the repository at the cache (a relative LIBTORCH in .cargo/config.toml).
link="$repo/.libtorch"
if [[ "$(readlink "$link" 2>/dev/null || true)" != "$dest" ]]; then
  ln -sfn "$dest" "$link"
fi
