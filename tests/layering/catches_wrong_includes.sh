#!/usr/bin/env bash
# scripts/check-layering must fail on each deliberately wrong include below,
# naming the file and line, and pass on a tree whose includes are allowed.
set -euo pipefail
check=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0

# Writes FILE (relative to the tree) with the given lines.
put() {
  local file=$1
  shift
  mkdir -p "$(dirname "$root/$file")"
  printf '%s\n' "$@" >"$root/$file"
}

# expect_refused FILE:LINE: the check exits 1 and names FILE:LINE.
expect_refused() {
  local where=$1 output status=0
  output=$(python3 "$check" --root "$root") || status=$?
  if [ "$status" -ne 1 ]; then
    echo "FAIL: expected exit 1 for $where, got $status: $output"
    failures=$((failures + 1))
  elif ! grep -q "^$where: " <<<"$output"; then
    echo "FAIL: expected a line naming $where, got: $output"
    failures=$((failures + 1))
  else
    echo "ok: refused $where"
  fi
  rm -rf "${root:?}"/*
}

# A layer that includes a later one.
put core/result.hpp '#pragma once'
put service/service.hpp '#pragma once'
put accounts/signup_policy.cpp '#include "core/result.hpp"' '#include "service/service.hpp"'
expect_refused accounts/signup_policy.cpp:2

# A front end that includes another front end.
put frontends/web/page.hpp '#pragma once'
put frontends/socket/connection.cpp '#include "service/service.hpp"' '' '#include "frontends/web/page.hpp"'
put service/service.hpp '#pragma once'
expect_refused frontends/socket/connection.cpp:3

# A JSON header below the front ends.
put mail/outbox.cpp '#include <string>' '#include <nlohmann/json.hpp>'
expect_refused mail/outbox.cpp:2

# An HTTP header in the service.
put service/operations.cpp '  #  include <boost/beast/http.hpp>'
expect_refused service/operations.cpp:1

# Allowed: earlier layers, the front end's own room, JSON in storage and in a front end.
put core/result.hpp '#pragma once'
put storage/column.cpp '#include <nlohmann/json.hpp>' '#include "core/result.hpp"'
put service/service.hpp '#include "storage/column.hpp"' '#include "accounts/x.hpp"'
put frontends/socket/codec.cpp '#include <nlohmann/json.hpp>' '#include "frontends/socket/protocol.hpp"' \
  '#include "service/service.hpp"'
put daemon/main.cpp '#include "frontends/socket/server.hpp"'
if output=$(python3 "$check" --root "$root"); then
  echo "ok: an allowed tree passes"
else
  echo "FAIL: an allowed tree was refused: $output"
  failures=$((failures + 1))
fi

[ "$failures" -eq 0 ]
