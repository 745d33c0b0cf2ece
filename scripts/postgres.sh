#!/usr/bin/env bash
# Makes sure a PostgreSQL server for the tests runs on 127.0.0.1:${SYNCHOST_PG_PORT:-54329} with a database
# "synchost_test" (created anew each time) and role "synchost" (password "synchost"), installing Debian's postgresql if missing. Prints the URL.
# Idempotent: an already running test cluster is reused; a cluster left half-shut by killed processes
# (stale pid file) is restarted.
# stdout carries the URL and nothing else: every other line (pg_ctlcluster's "Removed stale pid file." among
# them) goes to stderr, and the URL is checked before it is printed.
set -euo pipefail
exec 3>&1 1>&2
port=${SYNCHOST_PG_PORT:-54329}
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if ! command -v pg_createcluster >/dev/null || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  echo "postgres: installing postgresql" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends postgresql postgresql-contrib >/dev/null
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -1)

if ! pg_lsclusters -h 2>/dev/null | awk '{print $2}' | grep -qx synchost; then
  $SUDO pg_createcluster "$version" synchost -p "$port" 3>&- -- --auth-local=trust --auth-host=scram-sha-256
fi
if ! pg_lsclusters -h | awk '$2=="synchost"{print $4}' | grep -qx online; then
  # What killed processes leave behind: backends of a SIGKILLed postmaster, and socket lock files naming dead pids.
  pkill -9 -f "postgres: $version/synchost" 2>/dev/null || true
  lock="/var/run/postgresql/.s.PGSQL.$port.lock"
  alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $st != Z* ]]; }  # a zombie is not alive
  if [ -f "$lock" ] && ! alive "$(head -1 "$lock")"; then
    echo "postgres: removing the stale socket lock $lock" >&2
    rm -f "$lock" "/var/run/postgresql/.s.PGSQL.$port"
  fi
  # 3>&-: the server must not inherit the URL pipe, or a caller reading it would wait for the server to exit.
  $SUDO pg_ctlcluster "$version" synchost start 3>&-
fi
for _ in $(seq 1 50); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 0.2
done
psql_admin() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 "$@"
  else sudo -u postgres psql -q -p "$port" -v ON_ERROR_STOP=1 "$@"; fi
}
if ! psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname='synchost'" | grep -q 1; then
  psql_admin -c "CREATE ROLE synchost LOGIN SUPERUSER PASSWORD 'synchost'"
fi
# A fresh database per test run: the suite always starts from an empty schema.
# synchost_scaleout is for the multi-host test alone (no other test's scheduler may claim its runs).
for db in synchost_test synchost_scaleout; do
  psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  psql_admin -c "CREATE DATABASE $db OWNER synchost" >/dev/null
done
pg_isready -q -h 127.0.0.1 -p "$port" || { echo "postgres: the server on 127.0.0.1:$port does not answer" >&2; exit 1; }
url="postgres://synchost:synchost@127.0.0.1:$port/synchost_test"
PGPASSWORD=synchost psql -q -h 127.0.0.1 -p "$port" -U synchost -d synchost_test -tAc "SELECT 1" | grep -qx 1 \
  || { echo "postgres: cannot sign in as synchost to synchost_test" >&2; exit 1; }
echo "$url" >&3
