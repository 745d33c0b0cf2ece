#!/usr/bin/env bash
# Installs what synchost's build, demo and tests need and is missing. Safe to run again: it only installs
# packages that are absent. Debian/Ubuntu (apt).
set -euo pipefail

# Build: the three libraries. Tests: openssl (certificates for the SMTP test server), python3-venv (aiosmtpd),
# chromium (the web console, headless) and a Chinese font for its screenshots (fonts-wqy-zenhei). Benchmarks: wrk.
packages=(libsqlite3-dev libcurl4-openssl-dev libffi-dev zlib1g-dev openssl python3 python3-venv chromium chromium-driver fonts-wqy-zenhei wrk)

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

# Test tools from PyPI, in a venv of their own: the SMTP server the Notify tests deliver to (aiosmtpd), the
# browser driver of the web page test (selenium), the API fuzzer (schemathesis), the spreadsheet reader that
# checks the reports' XLSX files (openpyxl).
venv="$(cd "$(dirname "$0")/.." && pwd)/.venv-test"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import aiosmtpd, selenium, schemathesis, openpyxl' 2>/dev/null; then
  echo "setup: installing aiosmtpd, selenium, schemathesis, openpyxl into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q aiosmtpd==1.4.6 selenium==4.35.0 schemathesis==4.32.5 openpyxl==3.1.5
fi

command -v swift >/dev/null || { echo "setup: swift is not on PATH (Swift 6.3 toolchain expected)" >&2; exit 1; }
command -v cc >/dev/null || { echo "setup: a C compiler (cc) is needed by the ABI tests" >&2; exit 1; }
