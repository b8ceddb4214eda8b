#!/usr/bin/env bash
# The .deb built by deb_build.sh: its name, version and computed Depends, its
# files (exactly the install tree's, with the same modes, owned by root), its
# conffiles, and maintainer scripts that are valid sh and enable or start
# nothing.
# Usage: deb_contents.sh OUT_DIR SOURCE_DIR UNIT_DIR VERSION
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
out_dir=$1 source_dir=$2 unit_dir=$3 version=$4

command -v dpkg-deb >/dev/null || skip "dpkg-deb is not installed"
debs=("$out_dir"/*.deb)
deb=${debs[0]}
[ -f "$deb" ] || fail "no .deb in $out_dir (the packaging.deb_build fixture failed?)"
make_scratch

field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = dirproxy ] || fail "Package is '$(field Package)', expected dirproxy"
[ "$(field Version)" = "$version-1" ] || fail "Version is '$(field Version)', expected $version-1"
[ "${deb##*/}" = "dirproxy_${version}-1_$(field Architecture).deb" ] || fail "unexpected file name ${deb##*/}"
depends=$(field Depends)
for library in libc6 libsodium23 libsqlite3-0 libldap-2.5-0 libyaml-cpp libre2 libpq5; do
  grep -q "$library" <<<"$depends" ||
    fail "Depends lacks $library (did dpkg-shlibdeps run?): $depends"
done
grep -q 'adduser | systemd' <<<"$depends" || fail "Depends lacks 'adduser | systemd': $depends"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
# Read first, then match: with pipefail, `dpkg-deb | grep -q` fails whenever
# grep exits before dpkg-deb has written everything (SIGPIPE).
description=$(field Description)
grep -q 'enables and starts nothing' <<<"$description" || fail "the Description does not say it enables nothing"
note "dirproxy $(field Version); Depends: $depends"

expected_files "$source_dir" "$unit_dir" > "$SCRATCH/expected"
dpkg-deb --fsys-tarfile "$deb" | tar -tvf - > "$SCRATCH/listing"
awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' "$SCRATCH/listing" | LC_ALL=C sort > "$SCRATCH/actual"
compare_lists "the .deb" "$SCRATCH/expected" "$SCRATCH/actual"
while read -r permissions owner _ _ _ path _; do
  path=${path#./}
  [ "$owner" = root/root ] || fail "$path is owned by $owner, expected root/root"
  case "$permissions" in
    d*) [ "$permissions" = drwxr-xr-x ] || fail "directory $path has $permissions" ;;
    *) want=$([ "$(expected_mode "$path")" = 755 ] && echo -rwxr-xr-x || echo -rw-r--r--)
       [ "$permissions" = "$want" ] || fail "$path has $permissions, expected $want" ;;
  esac
done < "$SCRATCH/listing"
note "$(wc -l < "$SCRATCH/actual") files, owned by root, with the expected modes"

control=$SCRATCH/control
mkdir -p "$control"
dpkg-deb --control "$deb" "$control"
[ "$(cat "$control/conffiles")" = /etc/dirproxy/dirproxy.yaml ] ||
  fail "conffiles is '$(cat "$control/conffiles" 2>/dev/null)', expected /etc/dirproxy/dirproxy.yaml"
note "conffiles: /etc/dirproxy/dirproxy.yaml"

for script in postinst prerm postrm; do
  [ -x "$control/$script" ] || fail "the package has no executable $script"
  sh -n "$control/$script" || fail "$script is not valid sh"
  # Enabling or starting the daemon is the admin's decision. (try-restart
  # on upgrade restarts a daemon that is already running, nothing else.)
  if grep -nE '(systemctl|deb-systemd-invoke|deb-systemd-helper|invoke-rc\.d|update-rc\.d)[^#]*[[:space:]](enable|start|restart|reenable|preset|--now)([[:space:]]|$)' \
       "$control/$script"; then
    fail "$script enables or starts something (line above)"
  fi
done
[ ! -e "$control/preinst" ] || fail "unexpected preinst"
grep -q 'systemd-sysusers' "$control/postinst" && grep -q 'adduser --system' "$control/postinst" ||
  fail "postinst does not create the dirproxy user (systemd-sysusers, else adduser --system)"
note "maintainer scripts: valid sh, create the user, enable and start nothing"
