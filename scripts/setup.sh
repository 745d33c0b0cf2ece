#!/usr/bin/env bash
# Installs what synchost's build, demo and tests need and is missing. Safe to run again: it only installs
# packages that are absent. Debian/Ubuntu (apt).
set -euo pipefail

# Build: the three libraries. Tests: openssl (certificates for the SMTP test server), python3-venv (aiosmtpd),
# chromium (the web admin page, headless). Benchmarks: wrk.
packages=(libsqlite3-dev libcurl4-openssl-dev libffi-dev openssl python3 python3-venv chromium wrk)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The SMTP server the Notify tests deliver to (aiosmtpd from PyPI), in a venv of its own.
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv-test"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
  echo "setup: installing aiosmtpd into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q aiosmtpd==1.4.6
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.3 toolchain expected)" >&2; exit 1; }
command -v cc >/dev/null || { echo "setup: a C compiler (cc) is needed by the ABI tests" >&2; exit 1; }
