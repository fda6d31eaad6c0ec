#!/usr/bin/env bash
# Starts a loopback PostgreSQL for the integration tests (Debian 12, run as root) and prints its DATABASE_URL.
# Does nothing but print the URL when something already answers on 127.0.0.1:5432.
set -euo pipefail

PG_USER="${PG_USER:-postgres}"
PG_PASSWORD="${PG_PASSWORD:-postgres}"
PG_DB="${PG_DB:-postgres}"
URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:5432/${PG_DB}"

answers() {
  if command -v pg_isready >/dev/null 2>&1; then pg_isready -q -h 127.0.0.1 -p 5432; else (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; fi
}

if answers; then
  echo "$URL"
  exit 0
fi

if ! command -v pg_lsclusters >/dev/null 2>&1; then
  echo "PostgreSQL is not installed: apt-get update && apt-get install -y postgresql" >&2
  exit 1
fi

version="$(pg_lsclusters -h | awk 'NR==1 {print $1}')"
cluster="$(pg_lsclusters -h | awk 'NR==1 {print $2}')"
if [ -z "$version" ]; then
  version="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  cluster=main
  pg_createcluster "$version" "$cluster" >&2
fi

# Loopback only: the tests never talk to anything else. conf.d is included by Debian's postgresql.conf.
conf_dir="/etc/postgresql/${version}/${cluster}/conf.d"
mkdir -p "$conf_dir"
printf "listen_addresses = '127.0.0.1'\nmax_connections = 300\n" > "$conf_dir/iocli-tests.conf"
pg_ctlcluster "$version" "$cluster" start >&2

for _ in $(seq 1 50); do answers && break; sleep 0.2; done
answers || { echo "PostgreSQL did not start; see /var/log/postgresql/" >&2; exit 1; }

as_postgres() { su postgres -c "$1"; }
if [ "$PG_USER" != postgres ]; then
  as_postgres "psql -q -v ON_ERROR_STOP=1 -c \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PG_USER}') THEN CREATE ROLE \\\"${PG_USER}\\\" LOGIN SUPERUSER; END IF; END\\\$\\\$;\"" >&2
fi
as_postgres "psql -q -v ON_ERROR_STOP=1 -c \"ALTER ROLE \\\"${PG_USER}\\\" WITH LOGIN SUPERUSER PASSWORD '${PG_PASSWORD}';\"" >&2
if ! as_postgres "psql -tAc \"SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'\"" | grep -q 1; then
  as_postgres "createdb -O \"${PG_USER}\" \"${PG_DB}\"" >&2
fi

echo "$URL"
