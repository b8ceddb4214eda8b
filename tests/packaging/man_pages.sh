#!/usr/bin/env bash
# The man pages render without a single groff warning (groff -man -ww -z),
# and man(1) formats each one (man -l).
# Usage: man_pages.sh SOURCE_DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh" || exit 1
source_dir=$1

command -v groff >/dev/null || skip "groff is not installed (Debian package groff-base)"
for page in dirproxyd.8 dirproxyctl.1 dirproxy.yaml.5; do
  file=$source_dir/man/$page
  [ -f "$file" ] || fail "no man page $file"
  warnings=$(groff -man -ww -z "$file" 2>&1)
  [ -z "$warnings" ] || { echo "$warnings" >&2; fail "$page: groff warnings (above)"; }
  if command -v man >/dev/null; then
    rendered=$(MANWIDTH=80 man -l "$file" 2>&1 >/dev/null) || fail "$page: man -l failed"
    [ -z "$rendered" ] || { echo "$rendered" >&2; fail "$page: man -l complained (above)"; }
    MANWIDTH=80 man -l "$file" 2>/dev/null | grep -q '^NAME' || fail "$page: man -l shows no NAME section"
  fi
  note "$page renders cleanly"
done
