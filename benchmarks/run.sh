#!/usr/bin/env bash
# Benchmarks the proxy side by side with nginx, thumbor and raw libvips; writes
# benchmarks/results/ (results.md, results.json, *.png).
#
# Usage: ./benchmarks/run.sh [--quick] [--only cache_hits,working_set,cold,remote,streaming,memory,cluster,info] [--workers N]
#
# Installs what it needs when missing: wrk, nginx, curl and haproxy (Debian packages), the
# project venv with its test extra (moto[s3], flask, flask-cors) and matplotlib, and thumbor in
# its own venv under benchmarks/work/ (gitignored). Everything it starts listens on 127.0.0.1
# and stops when the run ends.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
THUMBOR_VERSION="${THUMBOR_VERSION:-7.8.0}"

say() { printf '[run.sh] %s\n' "$*"; }

# --- system tools ---------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  say "installing ${missing[*]} with apt-get"
  $SUDO apt-get update -qq
  # RUNLEVEL=1 keeps invoke-rc.d from starting the system nginx; the benchmark runs its own.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

# --- the project venv (what scripts/test.sh sets up) with the bench extra (matplotlib) ------
. scripts/venv.sh test,bench

# --- thumbor in its own venv ----------------------------------------------------------------
TV=benchmarks/work/thumbor-venv
if [ ! -x "$TV/bin/thumbor" ]; then
  say "installing thumbor ${THUMBOR_VERSION} into $TV"
  mkdir -p benchmarks/work
  rm -rf "$TV"
  if ! { "$PYTHON" -m venv "$TV" && "$TV/bin/python" -m pip install --quiet "thumbor==${THUMBOR_VERSION}"; }; then
    say "warning: thumbor did not install; its rows will be missing"
    rm -rf "$TV"
  fi
fi

exec .venv/bin/python -m benchmarks "$@"
