#!/usr/bin/env bash
# The first lines of a version column's log: every tool the real-tool suites drive, with its version.
# Under CI=true a missing tool fails here, before any suite runs.
set -uo pipefail
missing=()
show() {
  local name="$1"
  shift
  local out
  if out="$("$@" 2>&1)"; then
    printf '%-15s %s\n' "$name" "$(printf '%s\n' "$out" | grep -m1 -E '[0-9]+\.[0-9]+' || printf '%s\n' "$out" | head -n1)"
  else
    printf '%-15s MISSING (%s)\n' "$name" "$(printf '%s\n' "$out" | tail -n1)"
    missing+=("$name")
  fi
}
echo "== tool versions ($(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r))"
show podman podman --version
show buildah buildah --version
# podman-compose 1.0.x prints podman's version first and its own on a later line.
show podman-compose sh -c 'podman-compose --version 2>&1 | grep -m1 -i "podman-compose"'
show skopeo skopeo --version
show nix nix --version
show tar tar --version
show zstd zstd --version
show python3 python3 --version
show pip python3 -m pip --version
show node node --version
if [ ${#missing[@]} -gt 0 ]; then
  echo "missing: ${missing[*]}" >&2
  [ "${CI:-}" != "true" ] || { echo "CI=true: every tool of the column must be there" >&2; exit 1; }
fi
exit 0
