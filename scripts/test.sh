#!/usr/bin/env bash
# Sets up everything the test suite needs (Python venv, Azurite from npm) and runs it.
# Usage: ./scripts/test.sh               everything, with coverage over proxy/ held to COVERAGE_FLOOR
#        ./scripts/test.sh --fast [args]  the fast tier: no slow, cluster, browser or servers tests
#        ./scripts/test.sh [pytest args]  pytest with these arguments (no coverage floor)
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
# Coverage of the test process itself (servers and render processes it starts are not
# measured), over the whole suite only: a part of it would fall short of the floor.
COVERAGE_FLOOR=85
if [ "${1:-}" = "--fast" ]; then
  shift
  # One pytest worker per core (pytest-xdist): the tier is some 2,500 short tests, none of
  # which shares a port, a folder or a server with another.
  exec .venv/bin/python -m pytest -m "not slow and not cluster and not browser and not servers" \
    -n "${TEST_WORKERS:-auto}" "$@"
fi
if [ $# -eq 0 ]; then
  exec .venv/bin/python -m pytest --cov=proxy --cov-report=term --cov-fail-under="$COVERAGE_FLOOR"
fi
exec .venv/bin/python -m pytest "$@"
