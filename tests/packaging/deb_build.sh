#!/usr/bin/env bash
# Fixture for the .deb tests: builds the package from the build tree with
# cpack into OUT_DIR (emptied first), as scripts/package does into build/.
# Usage: deb_build.sh BUILD_DIR OUT_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
build_dir=$1 out_dir=$2

command -v dpkg-shlibdeps >/dev/null || skip "dpkg-shlibdeps is not installed (Debian package dpkg-dev)"
rm -rf "$out_dir"
mkdir -p "$out_dir"
note "cpack -G DEB -B $out_dir"
cpack -G DEB -B "$out_dir" --config "$build_dir/CPackConfig.cmake" > "$out_dir/cpack.log" 2>&1 ||
  { cat "$out_dir/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$out_dir"/*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "cpack did not leave exactly one .deb in $out_dir"
note "built ${debs[0]}"
