# Sourced by dev.sh and test.sh: make ./.venv and install the project with the given extras.
# Usage: . scripts/venv.sh [EXTRAS]
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${1:+[$1]}"
