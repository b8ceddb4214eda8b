#!/usr/bin/env bash
# `systemd-analyze verify` accepts dirproxyd.service and dirproxyd.socket as
# installed, with no warning at all (verify exits 0 on unknown keys and bad
# values, so any output is a failure too). verify checks that ExecStart's
# binary exists and that every man: page in Documentation= resolves, so the
# project is installed into a scratch tree first and the units are checked
# with their binary path pointing into it and MANPATH at its man pages.
# Usage: unit_verify.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
build_dir=$1

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian package systemd)"
command -v man >/dev/null || skip "man is not installed (Debian package man-db)"
make_scratch

root=$SCRATCH/root
DESTDIR=$root cmake --install "$build_dir" --prefix /usr >/dev/null
service=$(find "$root" -name dirproxyd.service -path '*/systemd/system/*')
socket=$(find "$root" -name dirproxyd.socket -path '*/systemd/system/*')
[ -n "$service" ] || fail "cmake --install did not install dirproxyd.service"
[ -n "$socket" ] || fail "cmake --install did not install dirproxyd.socket"

units=$SCRATCH/units
mkdir -p "$units"
sed "s#/usr/sbin/dirproxyd#$root/usr/sbin/dirproxyd#g" "$service" > "$units/dirproxyd.service"
cp "$socket" "$units/dirproxyd.socket"

note "systemd-analyze verify dirproxyd.service dirproxyd.socket"
set +e
output=$(cd "$units" && MANPATH=$root/usr/share/man SYSTEMD_LOG_COLOR=0 \
  systemd-analyze verify dirproxyd.service dirproxyd.socket 2>&1)
status=$?
set -e
[ -z "$output" ] || echo "$output" >&2
[ "$status" -eq 0 ] || fail "systemd-analyze verify exited $status"
[ -z "$output" ] || fail "systemd-analyze verify printed warnings (above)"
note "both units verify cleanly"
