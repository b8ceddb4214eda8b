#!/usr/bin/env bash
# `systemd-analyze security --offline=true` rates dirproxyd.service at an
# exposure of at most 2.0, and the unit still lets the daemon do its job:
# reach LDAP and SMTP servers anywhere (host network, AF_INET/AF_INET6, no
# IP address deny list) and see its clients' real uids (no PrivateUsers=,
# which would map every client but root to nobody in SO_PEERCRED and break
# server.admins.users/groups).
# Usage: unit_security.sh SOURCE_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
source_dir=$1
limit=2.0

command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (Debian package systemd)"
unit=$source_dir/systemd/dirproxyd.service

note "systemd-analyze security --offline=true $unit"
report=$(SYSTEMD_LOG_COLOR=0 SYSTEMD_COLORS=0 systemd-analyze security --offline=true --no-pager "$unit" 2>&1) ||
  { echo "$report" >&2; fail "systemd-analyze security failed"; }
line=$(grep 'Overall exposure level for dirproxyd.service:' <<<"$report") ||
  { echo "$report" >&2; fail "no 'Overall exposure level' line in the report"; }
exposure=$(sed -E 's/.*dirproxyd\.service: ([0-9]+(\.[0-9]+)?).*/\1/' <<<"$line")
note "exposure $exposure (limit $limit)"
if ! awk -v e="$exposure" -v l="$limit" 'BEGIN { exit !(e + 0 <= l + 0) }'; then
  grep '✗' <<<"$report" >&2 || true
  fail "exposure $exposure is above $limit; the settings that cost points are listed above"
fi

# What the hardening must not take away. Each of these is a "✗" line in the
# report as long as the unit leaves the capability in place.
require_open() {
  local setting=$1 why=$2
  grep -E "^✗ $setting" <<<"$report" >/dev/null ||
    fail "$setting is restricted in the unit, but $why"
}
require_open 'PrivateNetwork=' "the daemon must reach LDAP and SMTP servers"
require_open 'IPAddressDeny=' "the daemon must reach LDAP and SMTP servers at any address"
require_open 'RestrictAddressFamilies=~AF_\(INET\|INET6\)' "LDAP and SMTP need AF_INET and AF_INET6"
require_open 'RestrictAddressFamilies=~AF_UNIX' "the daemon's own socket is AF_UNIX"
require_open 'PrivateUsers=' "a user namespace maps clients' uids to nobody (SO_PEERCRED), breaking admin rights"
note "network and peer credentials stay available"
