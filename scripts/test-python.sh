#!/usr/bin/env bash
# The Python package's tests: builds the `avwm` wheel's native module into a virtual
# environment (.venv, made on first use; the packages come from the Python registry) and runs
# pytest on crates/avwm-py/python/tests, then the dry runs of the cluster jobs in deploy/
# (deploy/tests: the avwm binary of `cargo build -p avwm-cli`, the Kubernetes schemas of
# kubernetes-validate). Part of the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AVWM_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" "gymnasium>=1.0" "numpy>=1.23" "pytest>=8" "pillow>=10" \
    "pyyaml>=6" "kubernetes-validate>=1.31"
VENV=$(cd "$VENV" && pwd)
# Build the extension in place (release: the simulator's speed is part of what is tested).
(cd crates/avwm-py && VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" maturin develop --release)
"$VENV/bin/python" -m pytest -q crates/avwm-py/python/tests "$@"
# The cluster jobs run the command line itself (a no-op build after `cargo test --workspace`).
cargo build --quiet -p avwm-cli
AVWM_BIN="$(pwd)/target/debug/avwm" "$VENV/bin/python" -m pytest -q deploy/tests "$@"
