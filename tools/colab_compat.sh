#!/usr/bin/env bash
# colab-compat: mplib in a venv with Google Colab's own package versions (.ci/colab-versions.txt),
# installed the way the notebooks' Colab cell installs it (--no-deps: nothing Colab has is
# upgraded). Then: mplib's unit tests, every widget's display bundle and one update, and
# notebook 00 plus one widget-heavy notebook end to end under nbval.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${COLAB_VENV:-.venv-colab}
# Python 3.11: the torch 2.13.0 build on the CI machine's disk is for 3.11 (Colab runs 3.13).
PY=${COLAB_PYTHON:-python3.11}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "colab-compat: $PY not found; set COLAB_PYTHON to a Python 3.11 interpreter" >&2
  exit 1
fi
VERSIONS=.ci/colab-versions.txt
start=$(date +%s)
if [ ! -f "$VENV/.installed" ] || [ "$VERSIONS" -nt "$VENV/.installed" ]; then
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$VERSIONS"
  "$VENV/bin/python" -m pip install --quiet --no-deps -e .
  touch "$VENV/.installed"
fi
# The venv must hold Colab's versions, not whatever a dependency pulled in.
"$VENV/bin/python" tools/check_versions.py "$VERSIONS"
echo "colab-compat: venv ready after $(( $(date +%s) - start )) s"
export MPLIB_MODE=quick
# Unit tests and the widget check (not the browser test: Colab's front end is not
# JupyterLab; not the registry dry-runs: they do not depend on the installed versions).
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "${JOBS:-2}" tests \
  -m "not browser and not network and not fast_dev"
# Two notebooks end to end: the set-up check, and the chapter with the most widgets.
"$VENV/bin/python" -m pytest -q -p no:cacheprovider -n "${JOBS:-2}" --dist loadscope \
  notebooks/00_start_here.ipynb notebooks/01_neural_networks.ipynb
echo "colab-compat took $(( $(date +%s) - start )) s"
