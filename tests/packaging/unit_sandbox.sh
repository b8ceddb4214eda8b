#!/usr/bin/env bash
# The daemon lives within the sandbox dirproxyd.service puts it in. Without
# systemd as PID 1 the unit cannot be run here, so the daemon is run under
# strace through a workload that touches every kind of work it does (start
# with an LDAPS directory, the notify socket, the watchdog and the journal
# stream; admin and public requests over its socket; password hashing; reload
# by request and by SIGHUP; an online backup; stop), and the trace is checked
# against the unit's own settings:
#   SystemCallFilter=         every system call made is allowed (a denied one
#                             fails with EPERM in production, see
#                             SystemCallErrorNumber=);
#   RestrictAddressFamilies=  every socket() family is listed;
#   MemoryDenyWriteExecute=   no writable+executable mapping, no mprotect to
#                             executable;
#   ProtectSystem=strict      nothing is opened for writing, created or
#                             removed outside the state and socket directories.
# Usage: unit_sandbox.sh SOURCE_DIR DIRPROXYD DIRPROXYCTL
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
source_dir=$1 dirproxyd=$2 dirproxyctl=$3
unit=$source_dir/systemd/dirproxyd.service

command -v strace >/dev/null || skip "strace is not installed (Debian package strace)"
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian package systemd)"
strace -f -qq -o /dev/null true 2>/dev/null || skip "strace cannot trace here (ptrace not permitted)"
daemon_pid= strace_pid= helpers=()
test_cleanup() {
  [ -z "$daemon_pid" ] || kill -KILL "$daemon_pid" 2>/dev/null || true
  [ -z "$strace_pid" ] || wait "$strace_pid" 2>/dev/null || true
  local pid
  for pid in "${helpers[@]}"; do kill "$pid" 2>/dev/null || true; done
}
make_scratch

# --- what the unit allows -----------------------------------------------------
expand() {  # a syscall or @group -> its system calls, one per line
  case "$1" in
    @*) systemd-analyze syscall-filter "$1" | awk 'NR > 1 && $1 !~ /^#/ && NF { print $1 }' |
          while read -r member; do expand "$member"; done ;;
    *) echo "$1" ;;
  esac
}
allowed=$SCRATCH/allowed
expand @default | sort -u > "$allowed"   # implied by any allow list
filters=$(sed -n 's/^SystemCallFilter=//p' "$unit")
[ -n "$filters" ] || fail "$unit has no SystemCallFilter="
while read -r filter; do
  if [ "${filter:0:1}" = "~" ]; then
    for item in ${filter:1}; do expand "$item"; done | sort -u > "$SCRATCH/deny"
    comm -23 "$allowed" "$SCRATCH/deny" > "$SCRATCH/next"
  else
    for item in $filter; do expand "$item"; done | sort -u | sort -u - "$allowed" > "$SCRATCH/next"
  fi
  mv "$SCRATCH/next" "$allowed"
done <<<"$filters"
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$unit")
[ -n "$families" ] || fail "$unit has no RestrictAddressFamilies="
note "the unit allows $(wc -l < "$allowed") system calls and the families $families"

# --- the workload ---------------------------------------------------------------
run=$SCRATCH/run
mkdir -p "$run"
ldap_directory=
if command -v openssl >/dev/null; then
  # A TLS server that speaks no LDAP: enough for libldap to set up TLS and
  # time out, as against a hung server.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -days 1 -keyout "$SCRATCH/key.pem" -out "$SCRATCH/cert.pem" >/dev/null 2>&1
  openssl s_server -accept 127.0.0.1:0 -cert "$SCRATCH/cert.pem" -key "$SCRATCH/key.pem" \
    > "$SCRATCH/s_server.log" 2>&1 < /dev/null &
  helpers+=($!)
  for _ in $(seq 1 50); do grep -q '^ACCEPT' "$SCRATCH/s_server.log" && break; sleep 0.1; done
  port=$(sed -n 's/^ACCEPT .*:\([0-9]*\)$/\1/p' "$SCRATCH/s_server.log")
  [ -n "$port" ] || fail "openssl s_server did not start"
  ldap_directory="
  - name: tls
    type: ldap
    on_unavailable: skip
    uri: ldaps://127.0.0.1:$port
    tls_verify: false
    base_dn: dc=example,dc=com
    timeouts:
      connect: 1s
      operation: 1s"
fi
write_config() {  # $1: extra directories
  cat > "$run/dirproxy.yaml" <<YAML
server:
  socket: $run/dirproxy.sock
state_dir: $run/state
log:
  level: debug
directories:
  - name: internal
    type: internal$1
YAML
}
write_config "$ldap_directory"

notify=$SCRATCH/notify.sock
if command -v socat >/dev/null; then
  socat -u "UNIX-RECV:$notify" - > "$SCRATCH/notify.log" 2>/dev/null &
  helpers+=($!)
  for _ in $(seq 1 50); do [ -S "$notify" ] && break; sleep 0.1; done
fi
touch "$SCRATCH/daemon.log"
journal_stream=$(stat -c '%d:%i' "$SCRATCH/daemon.log")

note "strace -f $dirproxyd --config $run/dirproxy.yaml"
NOTIFY_SOCKET=$notify WATCHDOG_USEC=1000000 JOURNAL_STREAM=$journal_stream \
  strace -f -qq -o "$SCRATCH/trace" -- "$dirproxyd" --config "$run/dirproxy.yaml" \
  >> "$SCRATCH/daemon.log" 2>&1 &
strace_pid=$!
for _ in $(seq 1 150); do
  [ -S "$run/dirproxy.sock" ] && break
  kill -0 "$strace_pid" 2>/dev/null || { cat "$SCRATCH/daemon.log" >&2; fail "dirproxyd exited at start"; }
  sleep 0.1
done
[ -S "$run/dirproxy.sock" ] || { cat "$SCRATCH/daemon.log" >&2; fail "no socket after 15 s"; }
daemon_pid=$(cat "/proc/$strace_pid/task/$strace_pid/children")
[ -n "$daemon_pid" ] || fail "cannot find dirproxyd's pid under strace"

ctl() { "$dirproxyctl" --socket "$run/dirproxy.sock" "$@"; }
ctl ping >/dev/null || fail "ping failed"
ctl directories >/dev/null || fail "directories failed"
# A directory that is down refuses new usernames (they might exist there):
# the rest runs on the internal directory alone, after a reload.
write_config ""
ctl reload >/dev/null || fail "reload failed"
echo 'correct horse battery staple' |
  ctl user add sandboxed --email sandboxed@example.com --name Sandboxed --password-stdin >/dev/null ||
  fail "user add failed"
echo 'correct horse battery staple' | ctl auth sandboxed >/dev/null || fail "auth failed"
echo 'wrong password' | ctl auth sandboxed >/dev/null 2>&1 || true
ctl group add sandbox >/dev/null || fail "group add failed"
ctl group add-member sandbox sandboxed >/dev/null || fail "group add-member failed"
ctl user show sandboxed >/dev/null || fail "user show failed"
ctl user list >/dev/null || fail "user list failed"
ctl directories >/dev/null || fail "directories failed"
ctl reload >/dev/null || fail "reload failed"
kill -HUP "$daemon_pid"
ctl backup "$run/state/backup.db" >/dev/null || fail "backup failed"
sleep 1.5   # watchdog pings
ctl user delete sandboxed >/dev/null || fail "user delete failed"
kill -TERM "$daemon_pid"
set +e
wait "$strace_pid"
status=$?
set -e
daemon_pid= strace_pid=
[ "$status" -eq 0 ] || { cat "$SCRATCH/daemon.log" >&2; fail "dirproxyd exited $status"; }
note "workload done; $(wc -l < "$SCRATCH/trace") lines of trace"

# --- the checks -------------------------------------------------------------------
trace=$SCRATCH/trace
sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' "$trace" | sort -u > "$SCRATCH/used"
denied=$(comm -23 "$SCRATCH/used" "$allowed")
if [ -n "$denied" ]; then
  for call in $denied; do grep -m1 -E "^[0-9]+ +$call\(" "$trace" >&2; done
  fail "system calls outside the unit's SystemCallFilter=: $(echo $denied)"
fi
note "$(wc -l < "$SCRATCH/used") distinct system calls, all allowed by SystemCallFilter="

for family in $(grep -oE '^[0-9]+ +socket\((AF|PF)_[A-Z0-9]+' "$trace" | sed -E 's/.*\((AF|PF)_/AF_/' | sort -u); do
  grep -qw -- "$family" <<<"$families" || fail "socket($family, ...) is not in RestrictAddressFamilies=$families"
done
note "socket families within RestrictAddressFamilies="

if grep -E '^[0-9]+ +(pkey_)?mprotect\([^,]+, [^,]+, [A-Z_|]*PROT_EXEC' "$trace" >&2 ||
   grep -E '^[0-9]+ +mmap\([^,]+, [^,]+, [A-Z_|]*PROT_WRITE[A-Z_|]*' "$trace" | grep PROT_EXEC >&2; then
  fail "writable and executable memory (above) would be refused by MemoryDenyWriteExecute="
fi
note "no writable+executable memory"

writes=$(grep -oE '^[0-9]+ +(openat\(AT_FDCWD, "[^"]+", [A-Z_|]*O_(WRONLY|RDWR|CREAT)|(mkdir|unlink|rmdir|rename|link|symlink|chmod|chown|truncate)(at)?\((AT_FDCWD, )?"[^"]+"|renameat2?\(AT_FDCWD, "[^"]+", AT_FDCWD, "[^"]+")' "$trace" |
  grep -oE '"/[^"]+"' | tr -d '"' | sort -u)
outside=$(grep -vE "^($run/|/dev/null$)" <<<"$writes" || true)
[ -z "$outside" ] || fail "written outside the state and socket directories (read-only under ProtectSystem=strict): $outside"
note "writes only under the state and socket directories"
