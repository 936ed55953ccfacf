#!/usr/bin/env bash
# The Python package's tests: builds the `avwm` wheel's native module into a virtual
# environment (.venv, made on first use; the packages come from the Python registry) and runs
# pytest on crates/avwm-py/python/tests. Part of the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${AVWM_VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "maturin>=1.9,<2" "gymnasium>=1.0" "numpy>=1.23" "pytest>=8" "pillow>=10"
VENV=$(cd "$VENV" && pwd)
# Build the extension in place (release: the simulator's speed is part of what is tested).
(cd crates/avwm-py && VIRTUAL_ENV="$VENV" PATH="$VENV/bin:$PATH" maturin develop --release)
"$VENV/bin/python" -m pytest -q crates/avwm-py/python/tests "$@"
