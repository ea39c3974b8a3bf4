#!/usr/bin/env bash
# Start a throw-away PostgreSQL server for the ledger's `postgres` test marker.
#
# Sourced by .ci/run (also runnable by hand: `. scripts/ci_postgres.sh`). Installs
# Debian's postgresql package when it is missing, starts a private cluster on
# localhost (its own data folder and port, trust auth), creates a database and
# exports SPEECHLEDGER_PG_URL. The server is stopped when the sourcing shell exits.
# On any failure it warns and returns without the variable: the tests then skip.

_sl_pg_log() { echo "ci_postgres: $*" >&2; }

_sl_pg_as_owner() {
  # initdb refuses to run as root: run the server as the postgres user then
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

_sl_pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

_sl_pg_install() {
  [ -n "$(_sl_pg_bin)" ] && [ -x "$(_sl_pg_bin)/initdb" ] && return 0
  _sl_pg_log "installing Debian's postgresql package"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo -n"
  $sudo apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
}

_sl_pg_free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

_sl_pg_start() {
  _sl_pg_install || { _sl_pg_log "could not install postgresql"; return 1; }
  local bin port dir
  bin="$(_sl_pg_bin)"
  port="$(_sl_pg_free_port)" || return 1
  dir="$(mktemp -d "${TMPDIR:-/tmp}/speechledger-pg.XXXXXX")" || return 1
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  _sl_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
    || { _sl_pg_log "initdb failed"; return 1; }
  _sl_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { _sl_pg_log "server did not start; see $dir/server.log"; return 1; }
  SPEECHLEDGER_PG_DIR="$dir"
  SPEECHLEDGER_PG_BIN="$bin"
  trap '_sl_pg_stop' EXIT
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres speechledger_test \
    || { _sl_pg_log "createdb failed"; return 1; }
  export SPEECHLEDGER_PG_URL="postgresql+psycopg2://postgres@127.0.0.1:$port/speechledger_test"
  _sl_pg_log "PostgreSQL ready: $SPEECHLEDGER_PG_URL"
}

_sl_pg_stop() {
  if [ -n "${SPEECHLEDGER_PG_DIR:-}" ] && [ -d "$SPEECHLEDGER_PG_DIR/data" ]; then
    _sl_pg_as_owner "$SPEECHLEDGER_PG_BIN/pg_ctl" -D "$SPEECHLEDGER_PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$SPEECHLEDGER_PG_DIR"
  fi
}

_sl_pg_start || _sl_pg_log "WARNING: no PostgreSQL server; the postgres-marked tests will be skipped"
true
