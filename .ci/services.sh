#!/usr/bin/env bash
# PostgreSQL and NATS on loopback for the tests that need them (issue 17, ADR 0047).
#
# Sourced by .ci/run before the test step: installs `postgresql` / `nats-server` when missing
# and apt-get exists, starts a throwaway PostgreSQL (initdb under /tmp, its own free port) and a
# `nats-server -js`, waits until both answer, exports
#   UNICHARGE_TEST_POSTGRES_URL=postgres://unicharge:<random>@127.0.0.1:<port>/unicharge
#   UNICHARGE_TEST_NATS_URL=nats://127.0.0.1:<port>
# and stops both (deleting their data) when the shell exits. Where a service cannot be had it
# says why and leaves its variable unset: those tests skip and SQLite still runs everything.
#
# Run by hand, it does the same around a command:
#   .ci/services.sh cargo test -p unicharge-store --test postgres_schema --test postgres_store
#
# A throwaway cluster rather than the machine's own: nothing of a developer's database is
# touched, and every run starts from an empty server.

unicharge_services_log() { printf 'services: %s\n' "$*" >&2; }

# The first TCP port from $1 up that nothing listens on (127.0.0.1).
unicharge_free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

# Poll `$@` every 0.1 s for up to 30 s.
unicharge_wait_for() {
  local i
  for i in $(seq 300); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  return 1
}

unicharge_install_missing() {
  local missing=""
  if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    missing="$missing postgresql"
  fi
  command -v nats-server >/dev/null 2>&1 || missing="$missing nats-server"
  [ -z "$missing" ] && return 0
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    unicharge_services_log "installing$missing"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >&2 \
      || unicharge_services_log "could not install$missing"
  else
    unicharge_services_log "missing$missing and no apt-get as root to install it"
  fi
}

# The bin directory of the newest PostgreSQL installed (Debian keeps initdb off the PATH).
unicharge_pg_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) || true
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

unicharge_start_postgres() {
  local bin port password as=()
  bin=$(unicharge_pg_bindir) || { unicharge_services_log "no PostgreSQL: its tests skip"; return 0; }
  UNICHARGE_PG_DIR=$(mktemp -d /tmp/unicharge-pg.XXXXXX)
  # PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user.
  if [ "$(id -u)" = 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      unicharge_services_log "running as root without a postgres user: PostgreSQL tests skip"
      return 0
    fi
    chown postgres "$UNICHARGE_PG_DIR"
    as=(su postgres -s /bin/sh -c)
  else
    as=(sh -c)
  fi
  port=$(unicharge_free_port 5432)
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  if ! "${as[@]}" "'$bin/initdb' -D '$UNICHARGE_PG_DIR/data' -U postgres --auth-local=trust \
        --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >'$UNICHARGE_PG_DIR/initdb.log' 2>&1"; then
    unicharge_services_log "initdb failed (see $UNICHARGE_PG_DIR/initdb.log): PostgreSQL tests skip"
    return 0
  fi
  if ! "${as[@]}" "'$bin/pg_ctl' -D '$UNICHARGE_PG_DIR/data' -l '$UNICHARGE_PG_DIR/server.log' -w \
        -o \"-p $port -c listen_addresses=127.0.0.1 -k $UNICHARGE_PG_DIR -c fsync=off\" start >/dev/null"; then
    unicharge_services_log "PostgreSQL did not start (see $UNICHARGE_PG_DIR/server.log): its tests skip"
    return 0
  fi
  UNICHARGE_PG_CTL="'$bin/pg_ctl' -D '$UNICHARGE_PG_DIR/data' -m fast stop"
  UNICHARGE_PG_AS=("${as[@]}")
  local psql=("$bin/psql" -h "$UNICHARGE_PG_DIR" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt)
  if ! unicharge_wait_for "${psql[@]}" -c 'SELECT 1' \
     || ! "${psql[@]}" -c "CREATE ROLE unicharge LOGIN PASSWORD '$password'" \
                       -c "CREATE DATABASE unicharge OWNER unicharge" >/dev/null; then
    unicharge_services_log "PostgreSQL answers no queries (see $UNICHARGE_PG_DIR/server.log): its tests skip"
    return 0
  fi
  export UNICHARGE_TEST_POSTGRES_URL="postgres://unicharge:$password@127.0.0.1:$port/unicharge"
  unicharge_services_log "PostgreSQL on 127.0.0.1:$port (data $UNICHARGE_PG_DIR)"
}

# NATS answers a connection with an INFO line.
unicharge_nats_answers() {
  local line
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  read -r -t 1 line <&3
  exec 3<&-
  [[ "$line" == INFO* ]]
}

unicharge_start_nats() {
  local port
  command -v nats-server >/dev/null 2>&1 || { unicharge_services_log "no nats-server: its tests skip"; return 0; }
  UNICHARGE_NATS_DIR=$(mktemp -d /tmp/unicharge-nats.XXXXXX)
  port=$(unicharge_free_port 4222)
  nats-server -js -a 127.0.0.1 -p "$port" -sd "$UNICHARGE_NATS_DIR/jetstream" \
    >"$UNICHARGE_NATS_DIR/server.log" 2>&1 &
  UNICHARGE_NATS_PID=$!
  if ! unicharge_wait_for unicharge_nats_answers "$port"; then
    unicharge_services_log "nats-server did not answer (see $UNICHARGE_NATS_DIR/server.log): its tests skip"
    return 0
  fi
  export UNICHARGE_TEST_NATS_URL="nats://127.0.0.1:$port"
  unicharge_services_log "NATS (JetStream) on 127.0.0.1:$port"
}

unicharge_services_stop() {
  if [ -n "${UNICHARGE_PG_CTL:-}" ]; then
    "${UNICHARGE_PG_AS[@]}" "$UNICHARGE_PG_CTL" >/dev/null 2>&1 || true
    UNICHARGE_PG_CTL=""
  fi
  [ -n "${UNICHARGE_PG_DIR:-}" ] && rm -rf "$UNICHARGE_PG_DIR" || true
  if [ -n "${UNICHARGE_NATS_PID:-}" ]; then
    kill "$UNICHARGE_NATS_PID" 2>/dev/null && wait "$UNICHARGE_NATS_PID" 2>/dev/null || true
    UNICHARGE_NATS_PID=""
  fi
  [ -n "${UNICHARGE_NATS_DIR:-}" ] && rm -rf "$UNICHARGE_NATS_DIR" || true
  unset UNICHARGE_TEST_POSTGRES_URL UNICHARGE_TEST_NATS_URL
  return 0
}

unicharge_services_start() {
  trap unicharge_services_stop EXIT
  unicharge_install_missing
  unicharge_start_postgres
  unicharge_start_nats
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
  unicharge_services_start
else
  set -uo pipefail
  unicharge_services_start
  if [ $# -gt 0 ]; then
    "$@"
  else
    echo "UNICHARGE_TEST_POSTGRES_URL=${UNICHARGE_TEST_POSTGRES_URL:-}"
    echo "UNICHARGE_TEST_NATS_URL=${UNICHARGE_TEST_NATS_URL:-}"
  fi
fi
