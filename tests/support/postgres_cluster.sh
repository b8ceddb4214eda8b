#!/bin/bash
# Throwaway PostgreSQL clusters for the tests (tests/support/
# postgres_server.hpp). One is started per ctest run by the fixture
# postgres_cluster (tests/CMakeLists.txt), others by tests that need one of
# their own (a primary and its streaming standby).
#
#   postgres_cluster.sh start STATEFILE [NAME=VALUE...]
#       initdb in a fresh /tmp/dps-pg-XXXXXX and start it on a free port of
#       127.0.0.1 with the extra server settings given; STATEFILE then holds
#       host=, port=, dir=, data=, socket_dir=, bin= (shell syntax).
#       Without PostgreSQL's binaries it writes unavailable=REASON instead
#       and succeeds: the tests skip, saying why.
#   postgres_cluster.sh standby PRIMARY_STATEFILE STATEFILE [NAME=VALUE...]
#       a streaming standby of that primary (pg_basebackup -R), started.
#   postgres_cluster.sh promote STATEFILE   pg_ctl promote, waiting for it
#   postgres_cluster.sh halt STATEFILE      pg_ctl stop -m immediate (a crash)
#   postgres_cluster.sh resume STATEFILE    start again after halt, same port
#   postgres_cluster.sh stop STATEFILE      halt, remove the directory and STATEFILE
#
# initdb refuses to run as root, so as root the cluster belongs to and runs
# as nobody:nogroup (setpriv); otherwise it runs as the calling user. The
# superuser is postgres, trusted without a password from 127.0.0.1 and the
# socket directory (replication too: initdb's pg_hba.conf). Durability is off
# (fsync, synchronous_commit, full_page_writes): a test's data lives only as
# long as the test. Settings are -c options of the server, not lines of
# postgresql.conf, so a standby's copy of the configuration carries none of
# its primary's: give a standby the settings it needs (max_connections at
# least the primary's).
set -euo pipefail

die() {
  echo "postgres_cluster: $*" >&2
  exit 1
}

find_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  local initdb
  initdb=$(command -v initdb 2>/dev/null) || return 1
  dirname "$initdb"
}

# Runs a command as the cluster's owner, from the cluster's directory (the
# caller's may not be readable by nobody).
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$dir" && setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@")
  else
    (cd "$dir" && "$@")
  fi
}

load_state() {
  [ -f "$1" ] || die "no state file $1"
  # shellcheck disable=SC1090
  . "$1"
  [ -z "${unavailable:-}" ] || die "PostgreSQL is unavailable: $unavailable"
}

new_dir() {
  dir=$(mktemp -d /tmp/dps-pg-XXXXXX)
  chmod 700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown nobody:nogroup "$dir"; fi
}

# Starts the server of $data on $port (chosen afresh when empty, retried
# when another process takes it first) with the options saved in
# $dir/options.
launch() {
  local attempt options
  options=$(cat "$dir/options")
  for attempt in 1 2 3 4 5 6 7 8; do
    local chosen=${port:-$((20000 + (RANDOM * 32768 + RANDOM) % 40000))}
    if as_owner "$bin/pg_ctl" start -w -t 60 -D "$data" -l "$dir/server.log" \
      -o "-c port=$chosen $options" >/dev/null; then
      port=$chosen
      return 0
    fi
    # Only a port taken since it was chosen is worth another try.
    if [ -n "$port" ] || ! tail -n 20 "$dir/server.log" | grep -q "could not bind\|could not create any TCP/IP"; then
      break
    fi
  done
  tail -n 30 "$dir/server.log" >&2 || true
  return 1
}

write_state() {
  cat >"$1.new" <<EOF
host=127.0.0.1
port=$port
dir=$dir
data=$data
socket_dir=$dir
bin=$bin
EOF
  mv "$1.new" "$1"
}

save_options() {  # NAME=VALUE...
  local options="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir"
  options+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  options+=" -c max_connections=300 -c shared_buffers=32MB -c log_min_messages=warning"
  local setting
  for setting in "$@"; do
    case "$setting" in
      *=*) options+=" -c $setting" ;;
      *) die "a setting is NAME=VALUE, got '$setting'" ;;
    esac
  done
  echo "$options" >"$dir/options"
}

stop_cluster() {  # STATEFILE; quiet when there is nothing to stop
  local statefile=$1
  [ -f "$statefile" ] || return 0
  local dir="" data="" bin="" unavailable=""
  # shellcheck disable=SC1090
  . "$statefile"
  if [ -n "$dir" ] && [ -d "$dir" ]; then
    if [ -f "$data/postmaster.pid" ]; then
      as_owner "$bin/pg_ctl" stop -m immediate -w -D "$data" >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
  fi
  rm -f "$statefile"
}

command=${1:-}
case "$command" in
  start)
    statefile=${2:?usage: postgres_cluster.sh start STATEFILE [NAME=VALUE...]}
    shift 2
    stop_cluster "$statefile"  # what an interrupted run left behind
    if ! bin=$(find_bin); then
      echo "unavailable='PostgreSQL is not installed (initdb not found; Debian: apt-get install postgresql)'" \
        >"$statefile"
      echo "postgres_cluster: PostgreSQL is not installed: the tests that need it will skip" >&2
      exit 0
    fi
    new_dir
    data=$dir/data
    port=""
    save_options "$@"
    if ! as_owner "$bin/initdb" -D "$data" -U postgres --locale=C --encoding=UTF8 --auth=trust --no-sync \
      --no-instructions >"$dir/initdb.log" 2>&1; then
      cat "$dir/initdb.log" >&2
      rm -rf "$dir"
      die "initdb failed"
    fi
    if ! launch; then
      rm -rf "$dir"
      die "the server did not start"
    fi
    write_state "$statefile"
    ;;
  standby)
    primary=${2:?usage: postgres_cluster.sh standby PRIMARY_STATEFILE STATEFILE [NAME=VALUE...]}
    statefile=${3:?usage: postgres_cluster.sh standby PRIMARY_STATEFILE STATEFILE [NAME=VALUE...]}
    shift 3
    load_state "$primary"
    primary_port=$port
    new_dir
    data=$dir/data
    port=""
    save_options "$@"
    if ! as_owner "$bin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$data" -R -X stream \
      -c fast --no-sync >"$dir/basebackup.log" 2>&1; then
      cat "$dir/basebackup.log" >&2
      rm -rf "$dir"
      die "pg_basebackup from port $primary_port failed"
    fi
    if ! launch; then
      rm -rf "$dir"
      die "the standby did not start"
    fi
    write_state "$statefile"
    ;;
  promote)
    load_state "${2:?usage: postgres_cluster.sh promote STATEFILE}"
    as_owner "$bin/pg_ctl" promote -w -t 60 -D "$data" >/dev/null
    ;;
  halt)
    load_state "${2:?usage: postgres_cluster.sh halt STATEFILE}"
    as_owner "$bin/pg_ctl" stop -m immediate -w -D "$data" >/dev/null
    ;;
  resume)
    load_state "${2:?usage: postgres_cluster.sh resume STATEFILE}"
    launch || die "the server did not start again on port $port"
    ;;
  stop)
    stop_cluster "${2:?usage: postgres_cluster.sh stop STATEFILE}"
    ;;
  *)
    die "usage: postgres_cluster.sh start|standby|promote|halt|resume|stop STATEFILE"
    ;;
esac
