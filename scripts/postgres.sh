#!/usr/bin/env bash
# Makes sure a PostgreSQL server for the tests runs on 127.0.0.1:${SYNCHOST_PG_PORT:-54329} with a database
# "synchost_test" (created anew each time) and role "synchost" (password "synchost"), installing Debian's postgresql if missing. Prints the URL.
# Idempotent: an already running test cluster is reused.
set -euo pipefail
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
  $SUDO pg_createcluster "$version" synchost -p "$port" >/dev/null -- --auth-local=trust --auth-host=scram-sha-256
fi
if ! pg_lsclusters -h | awk '$2=="synchost"{print $4}' | grep -qx online; then
  $SUDO pg_ctlcluster "$version" synchost start
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
echo "postgres://synchost:synchost@127.0.0.1:$port/synchost_test"
