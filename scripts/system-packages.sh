# Sourced by test.sh: install the Debian packages the tests start as real servers, when missing.
# Usage: . scripts/system-packages.sh
# One line per package: the command it provides, then the package that provides it.
SYSTEM_PACKAGES=(
  "prometheus prometheus"  # tests/test_prometheus.py scrapes a running server with it
  "promtool prometheus"    # ... and checks the exposition and config/prometheus/ with it
  "haproxy haproxy"        # tests/cluster/ routes a cluster of nodes with it
  "chromium-headless-shell chromium-headless-shell"  # tests/browser/ drives it over DevTools
)
_missing=()
for _entry in "${SYSTEM_PACKAGES[@]}"; do
  read -r _command _package <<<"$_entry"
  command -v "$_command" >/dev/null 2>&1 || [ -x "/usr/sbin/$_command" ] || _missing+=("$_package")
done
if [ ${#_missing[@]} -gt 0 ]; then
  _sudo=""
  [ "$(id -u)" -ne 0 ] && _sudo="sudo"
  echo "installing ${_missing[*]} with apt-get" >&2
  $_sudo apt-get update -qq
  # RUNLEVEL=1 keeps invoke-rc.d from starting system services; the tests start their own.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 $_sudo apt-get install -y -qq --no-install-recommends \
    "${_missing[@]}" >/dev/null
fi
unset _missing _entry _command _package _sudo
