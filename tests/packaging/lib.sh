# Shared by the packaging tests (sourced). Each test prints what it checks
# and fails with a message naming what is wrong.
set -euo pipefail

SKIP=77   # CTest SKIP_RETURN_CODE

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit "$SKIP"; }
note() { echo "-- $*"; }

# A scratch directory removed when the test ends, whatever happens (kept
# when DIRPROXY_TEST_KEEP is set, to look at after a failure).
make_scratch() {
  SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/dirproxy-packaging.XXXXXX")
  [ -d "$SCRATCH" ] || fail "cannot make a scratch directory"
  trap 'cleanup_scratch' EXIT
}
cleanup_scratch() {
  local status=$?
  if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
  if [ -n "${DIRPROXY_TEST_KEEP:-}" ]; then
    echo "-- kept $SCRATCH (DIRPROXY_TEST_KEEP)"
  else
    rm -rf "$SCRATCH"
  fi
  exit "$status"
}

# The files `cmake --install --prefix /usr` and the .deb must hold, relative
# to /, sorted, one per line. $1: the source tree (for docs/*.md), $2: the
# systemd unit directory as configured (absolute, or relative to /usr).
expected_files() {
  local source_dir=$1 unit_dir=$2
  case "$unit_dir" in
    /*) unit_dir=${unit_dir#/} ;;
    *) unit_dir=usr/$unit_dir ;;
  esac
  {
    printf '%s\n' \
      etc/dirproxy/dirproxy.yaml \
      "$unit_dir/dirproxyd.service" \
      "$unit_dir/dirproxyd.socket" \
      usr/bin/dirproxyctl \
      usr/sbin/dirproxyd \
      usr/lib/sysusers.d/dirproxy.conf \
      usr/lib/tmpfiles.d/dirproxy.conf \
      usr/share/man/man1/dirproxyctl.1.gz \
      usr/share/man/man5/dirproxy.yaml.5.gz \
      usr/share/man/man8/dirproxyd.8.gz \
      usr/share/doc/dirproxy/README.md \
      usr/share/doc/dirproxy/examples/dirproxy.example.yaml \
      usr/share/doc/dirproxy/examples/openldap.yaml \
      usr/share/doc/dirproxy/examples/active-directory.yaml \
      usr/share/doc/dirproxy/examples/dirproxy-dashboard.json \
      usr/share/doc/dirproxy/examples/dirproxy-alerts.yaml
    local guide
    for guide in "$source_dir"/docs/*.md; do
      echo "usr/share/doc/dirproxy/${guide##*/}"
    done
  } | LC_ALL=C sort
}

# The mode a packaged file must have: executables 0755, everything else 0644.
expected_mode() {
  case "$1" in
    usr/bin/*|usr/sbin/*) echo 755 ;;
    *) echo 644 ;;
  esac
}

# Compares two sorted lists; fails naming what is missing and what is extra.
compare_lists() {
  local what=$1 expected=$2 actual=$3
  local missing extra
  missing=$(LC_ALL=C comm -23 "$expected" "$actual")
  extra=$(LC_ALL=C comm -13 "$expected" "$actual")
  if [ -n "$missing" ] || [ -n "$extra" ]; then
    [ -z "$missing" ] || echo "$what: missing:"$'\n'"$missing" >&2
    [ -z "$extra" ] || echo "$what: unexpected:"$'\n'"$extra" >&2
    fail "$what does not hold exactly the expected files"
  fi
}
