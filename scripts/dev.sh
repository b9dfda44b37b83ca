#!/usr/bin/env bash
# Sets up a venv and starts the proxy on 127.0.0.1:8080 over ./data with a sample image.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/venv.sh
exec .venv/bin/python -m proxy demo "$@"
