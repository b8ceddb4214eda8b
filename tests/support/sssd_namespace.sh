#!/bin/sh
# Runs SSSD and its clients against a private copy of the files they read,
# for tests/integration/os_client_sssd_test.cpp. Started as
#
#   unshare --mount --propagation private --pid --fork --kill-child --mount-proc \
#       sh sssd_namespace.sh ROOT STEPS
#
# so that every mount below exists only in this process tree's mount
# namespace, and every process started here (sssd, sssd_be, sssd_nss,
# sssd_pam, the clients) dies with it: this script is the namespace's pid 1,
# and the kernel kills the rest when it exits, whatever the exit path;
# --kill-child takes it down when unshare itself is killed.
#
# ROOT holds the private files, at the paths they replace: etc/sssd,
# etc/nsswitch.conf, etc/passwd, etc/group, etc/pam.d, var/lib/sss, run,
# var/log/sssd. STEPS has one step a line: NAME MODE INPUT COMMAND [ARGS...]
# (words without spaces), MODE `once` or `until-ok` (repeat for up to 30 s
# until it exits 0: waiting for SSSD to answer), INPUT a file fed to the
# command's stdin or `-`. For each step this prints
#
#   out NAME LINE      (each line of its stdout)
#   err NAME LINE      (each line of its stderr)
#   exit NAME CODE
#
# and a setup failure prints `setup-failed WHAT` and exits 90.
set -u
root=$1
steps=$2

fail_setup() {
  echo "setup-failed $*"
  exit 90
}

for path in /etc/sssd /etc/nsswitch.conf /etc/passwd /etc/group /etc/pam.d /var/lib/sss /var/log/sssd /run; do
  mount --bind "$root$path" "$path" || fail_setup "bind $path"
done

# sssd -i stays in the foreground; its components log to /var/log/sssd
# (ROOT/var/log/sssd, which outlives the namespace for the test to read).
# 0x07f0 (failures, configuration, function data, traces): each LDAP search
# with its filter and result, enough to see what SSSD asked and got;
# SSSD_DEBUG_LEVEL overrides it (0x3ff0 for everything).
/usr/sbin/sssd -i -d "${SSSD_DEBUG_LEVEL:-0x07f0}" --logger=files </dev/null >"$root/sssd.out" 2>&1 &
sssd_pid=$!
stop_sssd() {
  kill -TERM "$sssd_pid" 2>/dev/null
  # The monitor stops its responders and back end; pid 1's exit kills
  # whatever is left.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$sssd_pid" 2>/dev/null || break
    sleep 0.2
  done
}
trap stop_sssd EXIT

run_once() {
  name=$1 input=$2
  shift 2
  [ "$input" = - ] && input=/dev/null
  "$@" <"$input" >"$root/step.out" 2>"$root/step.err"
  code=$?
}

set -f  # the steps' words are taken literally
while read -r name mode input command; do
  [ -z "$name" ] && continue
  # shellcheck disable=SC2086 # split into words on purpose
  set -- $command
  run_once "$name" "$input" "$@"
  if [ "$mode" = until-ok ]; then
    attempts=1
    while [ "$code" -ne 0 ] && [ "$attempts" -lt 150 ]; do
      kill -0 "$sssd_pid" 2>/dev/null || break
      sleep 0.2
      attempts=$((attempts + 1))
      run_once "$name" "$input" "$@"
    done
  fi
  # awk ends every line, the last one too ("Password: " has no newline).
  awk -v prefix="out $name " '{ print prefix $0 }' "$root/step.out"
  awk -v prefix="err $name " '{ print prefix $0 }' "$root/step.err"
  echo "exit $name $code"
done <"$steps"
