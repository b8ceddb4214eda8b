#!/usr/bin/env bash
# `cmake --install --prefix /usr` into a DESTDIR yields exactly the expected
# files with sane modes (programs 0755, the rest 0644, directories 0755, no
# setuid, nothing writable by group or others); the installed unit is the
# source unit; the installed programs run, and the installed configuration
# passes --check-config. Another prefix gets a unit naming its own binary.
# Usage: install_tree.sh BUILD_DIR SOURCE_DIR UNIT_DIR VERSION
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
build_dir=$1 source_dir=$2 unit_dir=$3 version=$4
make_scratch

root=$SCRATCH/root
note "DESTDIR=$root cmake --install $build_dir --prefix /usr"
DESTDIR=$root cmake --install "$build_dir" --prefix /usr >/dev/null

expected_files "$source_dir" "$unit_dir" > "$SCRATCH/expected"
(cd "$root" && find . ! -type d | sed 's#^\./##' | LC_ALL=C sort) > "$SCRATCH/actual"
compare_lists "the install tree" "$SCRATCH/expected" "$SCRATCH/actual"
note "$(wc -l < "$SCRATCH/actual") files, as expected"

while read -r path; do
  [ -f "$root/$path" ] && [ ! -L "$root/$path" ] || fail "$path is not a regular file"
  mode=$(stat -c %a "$root/$path")
  [ "$mode" = "$(expected_mode "$path")" ] ||
    fail "$path has mode $mode, expected $(expected_mode "$path")"
done < "$SCRATCH/actual"
bad_dirs=$(cd "$root" && find . -mindepth 1 -type d ! -perm 755)
[ -z "$bad_dirs" ] || fail "directories without mode 0755: $bad_dirs"
note "modes: programs 0755, files 0644, directories 0755"

unit=$(find "$root" -name dirproxyd.service)
cmp -s "$unit" "$source_dir/systemd/dirproxyd.service" ||
  fail "the installed dirproxyd.service differs from systemd/dirproxyd.service"
grep -qx 'ExecStart=/usr/sbin/dirproxyd --config /etc/dirproxy/dirproxy.yaml' "$unit" ||
  fail "dirproxyd.service does not start /usr/sbin/dirproxyd with /etc/dirproxy/dirproxy.yaml"

for page in man1/dirproxyctl.1 man5/dirproxy.yaml.5 man8/dirproxyd.8; do
  gzip -t "$root/usr/share/man/$page.gz" || fail "$page.gz is not a valid gzip file"
done

"$root/usr/sbin/dirproxyd" --version | grep -qF "$version" ||
  fail "the installed dirproxyd --version does not print $version"
"$root/usr/bin/dirproxyctl" --version | grep -qF "$version" ||
  fail "the installed dirproxyctl --version does not print $version"
"$root/usr/sbin/dirproxyd" --check-config --config "$root/etc/dirproxy/dirproxy.yaml" ||
  fail "the installed /etc/dirproxy/dirproxy.yaml does not pass --check-config"
note "the installed programs run; the installed configuration is valid"

other=$SCRATCH/other
note "DESTDIR=$other cmake --install $build_dir --prefix /opt/dirproxy"
DESTDIR=$other cmake --install "$build_dir" --prefix /opt/dirproxy >/dev/null
[ -x "$other/opt/dirproxy/sbin/dirproxyd" ] || fail "--prefix /opt/dirproxy: no sbin/dirproxyd"
grep -qx 'ExecStart=/opt/dirproxy/sbin/dirproxyd --config /etc/dirproxy/dirproxy.yaml' \
  "$(find "$other" -name dirproxyd.service)" ||
  fail "--prefix /opt/dirproxy: dirproxyd.service does not start /opt/dirproxy/sbin/dirproxyd"
note "another prefix gets a unit that starts its own binary"
