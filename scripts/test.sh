#!/usr/bin/env bash
# Sets up everything the test suite needs (Python venv, Azurite from npm) and runs it.
# Usage: ./scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/venv.sh test
# Servers the tests start on loopback (Debian packages).
. scripts/system-packages.sh

# Azurite (Azure Blob emulator) for the azure provider tests; the tests start it.
if [ ! -x node_modules/.bin/azurite-blob ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

.venv/bin/ruff check proxy tests benchmarks scripts
.venv/bin/ruff format --check proxy tests benchmarks scripts
.venv/bin/mypy
.venv/bin/hadolint --failure-threshold style Dockerfile
# The README's settings table must be the one generated from proxy/settings/catalog.py.
.venv/bin/python scripts/settings_table.py README.md
exec .venv/bin/python -m pytest "$@"
