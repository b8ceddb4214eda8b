#!/usr/bin/env bash
# Installs the .deb built by deb_build.sh on this machine and runs the daemon
# from it: dpkg -i creates the dirproxy user and /etc/dirproxy and enables
# nothing; the installed dirproxyd accepts the installed configuration and,
# started as the dirproxy user on a scratch socket and state directory,
# answers the installed dirproxyctl; dpkg -r removes the programs and keeps
# the configuration and the user. Needs root and dpkg; skipped otherwise, and
# when another version of dirproxy is installed here (it is not touched).
# Usage: deb_install.sh OUT_DIR VERSION
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
out_dir=$1 version=$2

[ "$(id -u)" -eq 0 ] || skip "installing a package needs root"
command -v dpkg >/dev/null || skip "dpkg is not available"
command -v setpriv >/dev/null || skip "setpriv is not available (Debian package util-linux)"
debs=("$out_dir"/*.deb)
deb=${debs[0]}
[ -f "$deb" ] || fail "no .deb in $out_dir (the packaging.deb_build fixture failed?)"
installed=$(dpkg-query -W -f='${Status} ${Version}' dirproxy 2>/dev/null || true)
case "$installed" in
  "install ok installed $version-1"|"deinstall ok config-files"*|"") ;;
  *) skip "dirproxy is installed here ($installed); not replacing it" ;;
esac

daemon_pid=
test_cleanup() {
  if [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  if dpkg-query -W -f='${Status}' dirproxy 2>/dev/null | grep -q 'ok installed'; then
    dpkg -r dirproxy >/dev/null 2>&1 || true
  fi
}
make_scratch

note "dpkg -i ${deb##*/}"
DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" > "$SCRATCH/dpkg-i.log" 2>&1 ||
  { cat "$SCRATCH/dpkg-i.log" >&2; fail "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${Status} ${Version}' dirproxy)" = "install ok installed $version-1" ] ||
  fail "dirproxy $version-1 is not installed after dpkg -i"

entry=$(getent passwd dirproxy) || fail "no dirproxy user after dpkg -i"
IFS=: read -r _ _ uid gid _ home shell <<<"$entry"
[ "$uid" -lt 1000 ] || fail "dirproxy is not a system user (uid $uid)"
[ "$home" = /var/lib/dirproxy ] || fail "dirproxy's home is $home, expected /var/lib/dirproxy"
case "$shell" in */nologin|/bin/false) ;; *) fail "dirproxy can log in (shell $shell)" ;; esac
[ "$(getent group dirproxy | cut -d: -f3)" = "$gid" ] || fail "dirproxy's primary group is not dirproxy"
note "system user dirproxy (uid $uid), no login shell"

check_directory() {
  local path=$1 want=$2 actual
  actual=$(stat -c '%a %U %G' "$path" 2>/dev/null) || fail "$path does not exist"
  [ "$actual" = "$want" ] || fail "$path is '$actual', expected '$want'"
}
check_directory /etc/dirproxy '750 root dirproxy'
check_directory /var/backups/dirproxy '750 dirproxy dirproxy'
[ -f /etc/dirproxy/dirproxy.yaml ] || fail "no /etc/dirproxy/dirproxy.yaml"
dpkg-query -W -f='${Conffiles}\n' dirproxy | grep -q '^ /etc/dirproxy/dirproxy.yaml ' ||
  fail "dpkg does not list /etc/dirproxy/dirproxy.yaml as a conffile"
note "/etc/dirproxy 0750 root:dirproxy, /var/backups/dirproxy 0750 dirproxy:dirproxy"

enabled=$(find /etc/systemd/system -name 'dirproxyd.*' 2>/dev/null || true)
[ -z "$enabled" ] || fail "the package enabled units: $enabled"
[ -f /lib/systemd/system/dirproxyd.service ] || [ -f /usr/lib/systemd/system/dirproxyd.service ] ||
  fail "dirproxyd.service is not installed"
note "units installed, none enabled"

as_dirproxy() { setpriv --reuid=dirproxy --regid=dirproxy --init-groups -- "$@"; }
note "dirproxyd --check-config --config /etc/dirproxy/dirproxy.yaml (as root and as dirproxy)"
/usr/sbin/dirproxyd --check-config --config /etc/dirproxy/dirproxy.yaml ||
  fail "the installed configuration is not valid"
as_dirproxy /usr/sbin/dirproxyd --check-config --config /etc/dirproxy/dirproxy.yaml ||
  fail "the dirproxy user cannot read /etc/dirproxy/dirproxy.yaml"

run=$SCRATCH/run
mkdir -p "$run"
chown dirproxy:dirproxy "$run"
chmod 0750 "$run"
chmod 0755 "$SCRATCH"
cat > "$run/dirproxy.yaml" <<YAML
server:
  socket: $run/dirproxy.sock
state_dir: $run/state
directories:
  - name: internal
    type: internal
YAML
chmod 0644 "$run/dirproxy.yaml"

note "starting /usr/sbin/dirproxyd as dirproxy on $run/dirproxy.sock"
# setpriv itself, not a shell function: $! must be the daemon's pid
# (setpriv execs dirproxyd).
setpriv --reuid=dirproxy --regid=dirproxy --init-groups -- \
  /usr/sbin/dirproxyd --config "$run/dirproxy.yaml" > "$SCRATCH/daemon.log" 2>&1 &
daemon_pid=$!
for _ in $(seq 1 100); do
  [ -S "$run/dirproxy.sock" ] && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$SCRATCH/daemon.log" >&2; fail "dirproxyd exited at start"; }
  sleep 0.1
done
[ -S "$run/dirproxy.sock" ] || { cat "$SCRATCH/daemon.log" >&2; fail "no socket after 10 s"; }
[ "$(stat -c '%a %U %G' "$run/dirproxy.sock")" = '660 dirproxy dirproxy' ] ||
  fail "the socket is '$(stat -c '%a %U %G' "$run/dirproxy.sock")', expected '660 dirproxy dirproxy'"

ctl() { /usr/bin/dirproxyctl --socket "$run/dirproxy.sock" "$@"; }
ctl ping | grep -qF "$version" || fail "dirproxyctl ping did not answer with version $version"
echo 'correct horse battery staple' |
  ctl user add packaged --email packaged@example.com --name 'Packaged User' --password-stdin >/dev/null ||
  fail "dirproxyctl user add failed"
echo 'correct horse battery staple' | ctl auth packaged | grep -q packaged@example.com ||
  fail "dirproxyctl auth failed for the user just added"
[ "$(stat -c %U "$run/state/dirproxy.db")" = dirproxy ] || fail "the state database is not owned by dirproxy"
note "ping, user add and auth answered; the database belongs to dirproxy"

kill -TERM "$daemon_pid"
set +e
wait "$daemon_pid"
status=$?
set -e
daemon_pid=
[ "$status" -eq 0 ] || { cat "$SCRATCH/daemon.log" >&2; fail "dirproxyd exited $status after SIGTERM"; }
[ ! -e "$run/dirproxy.sock" ] || fail "dirproxyd left its socket behind"
note "stopped cleanly"

note "dpkg -r dirproxy"
dpkg -r dirproxy > "$SCRATCH/dpkg-r.log" 2>&1 || { cat "$SCRATCH/dpkg-r.log" >&2; fail "dpkg -r failed"; }
[ ! -e /usr/sbin/dirproxyd ] && [ ! -e /usr/bin/dirproxyctl ] || fail "the programs are still there after dpkg -r"
[ -f /etc/dirproxy/dirproxy.yaml ] || fail "dpkg -r removed the configuration (a conffile stays until purge)"
getent passwd dirproxy >/dev/null || fail "dpkg -r removed the dirproxy user"
note "removed; configuration and user kept"
