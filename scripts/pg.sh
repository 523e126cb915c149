#!/usr/bin/env bash
# A throw-away PostgreSQL + PostGIS cluster on 127.0.0.1, in a temporary folder, run by an
# unprivileged user (postgres when we are root, else ourselves). Source it, then:
#   pg_start            installs the Debian packages when missing, starts the cluster, creates
#                       database lake with PostGIS; sets PGHOST PGPORT PGUSER PGDATABASE
#   pg_stop             stops it and removes the folder (also on exit, via trap)
#   pg_psql ARGS…       psql as the cluster's owner
# Run as a script (the tests do): `pg.sh start` prints "PORT USER DIR" and leaves the cluster
# running; `pg.sh stop DIR` stops it and removes DIR.
set -euo pipefail

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

pg_start() {
  bash "$(dirname "${BASH_SOURCE[0]}")/install-deps.sh" postgresql postgresql-15-postgis-3 >&2
  local bin; bin=$(pg_bin)
  [ -x "$bin/initdb" ] || { echo "pg.sh: PostgreSQL's initdb not found after install" >&2; return 1; }
  PG_DIR=$(mktemp -d /tmp/lake-pg.XXXXXX)
  PG_RUN=()
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PG_DIR"; PG_RUN=(runuser -u postgres --); PGUSER=postgres; else PGUSER=$(id -un); fi
  PGPORT=${PGPORT_BENCH:-$((20000 + RANDOM % 20000))}
  "${PG_RUN[@]}" "$bin/initdb" -D "$PG_DIR/data" -A trust -U "$PGUSER" -E UTF8 --no-locale >/dev/null
  "${PG_RUN[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PGPORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB -c max_wal_size=8GB -c work_mem=64MB -c maintenance_work_mem=1GB" start >/dev/null \
    || { cat "$PG_DIR/log" >&2; return 1; }
  export PGHOST=127.0.0.1 PGPORT PGUSER PGDATABASE=lake
  "${PG_RUN[@]}" "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U "$PGUSER" lake
  pg_psql -qc "CREATE EXTENSION postgis" >/dev/null
  [ -n "${PG_DETACHED:-}" ] || trap pg_stop EXIT
  echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') + PostGIS $(pg_psql -Atc "SELECT postgis_lib_version()") on 127.0.0.1:$PGPORT ($PG_DIR)" >&2
}

pg_psql() { "${PG_RUN[@]}" env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PGDATABASE="$PGDATABASE" psql -X -v ON_ERROR_STOP=1 "$@"; }

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  "${PG_RUN[@]}" "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"; PG_DIR=""
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    start) PG_DETACHED=1 pg_start; echo "$PGPORT $PGUSER $PG_DIR" ;;
    stop)
      PG_DIR=${2:?pg.sh stop DIR}; PG_RUN=()
      [ "$(id -u)" -eq 0 ] && PG_RUN=(runuser -u postgres --)
      pg_stop ;;
    *) echo "usage: pg.sh start | stop DIR (or source it)" >&2; exit 2 ;;
  esac
fi
