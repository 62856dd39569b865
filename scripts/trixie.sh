#!/usr/bin/env bash
# The second version column: a Debian 13 ("trixie") root with its podman, buildah, podman-compose, skopeo
# and Nix, beside the host's own versions, without touching the host's packages.
#
#   bash scripts/trixie.sh make [--fresh]   make the root under .ci/cache/trixie/ (reused while its marker
#                                           says it was made from the same recipe; --fresh remakes it)
#   bash scripts/trixie.sh run -- CMD ...   run CMD inside the root, in this checkout (bound at the same
#                                           path), with a clean environment; CMD's exit status comes back
#   bash scripts/trixie.sh versions         the tools' --version, as the column's log starts with
#   bash scripts/trixie.sh test [JEST ARG...] the second version column (npm run test:trixie): make the
#                                           root, print the versions, run the real-tool suites inside
#
# Needs root, unshare and chroot (util-linux, coreutils) and network access to the Debian archive.
# QDC_TRIXIE_MIRROR overrides the Debian mirror. How and why (cgroups, containers.conf): the comments below.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
base="$repo/.ci/cache/trixie"
root="$base/root"
marker="$base/made-from"

suite=trixie
mirror="${QDC_TRIXIE_MIRROR:-http://deb.debian.org/debian}"
# What the real-tool suites use inside. libdbi-perl: without it nix-bin stays unconfigured, because
# libdbd-sqlite3-perl depends on the virtual perl-dbdabi-94, which debootstrap's resolver cannot follow.
packages=(
  podman buildah podman-compose skopeo nix-bin libdbi-perl
  zstd busybox-static ca-certificates tar openssl util-linux bsdutils procps
  python3 python3-pip
)
# Bump when the way the root is made changes, so an existing root is remade.
recipe=1

die() {
  echo "trixie.sh: $*" >&2
  exit 1
}

expected_marker() {
  printf 'recipe=%s\nsuite=%s\nmirror=%s\npackages=%s\n' "$recipe" "$suite" "$mirror" "${packages[*]}"
}

# The marker's first lines are what the root was made from; later lines (when, debootstrap) are notes.
root_is_valid() {
  [ -f "$marker" ] && [ -x "$root/usr/bin/podman" ] && [ -x "$root/usr/bin/nix" ] &&
    [ "$(head -n 4 "$marker")" = "$(expected_marker)" ]
}

# debootstrap comes from the host's apt archive, unpacked into a temp dir: the host's package set stays
# exactly what scripts/setup.sh made it (the host column), and nothing is left behind.
fetch_debootstrap() {
  local dir="$1"
  (cd "$dir" && { apt-get download -qq debootstrap 2>/dev/null || { apt-get update -qq && apt-get download -qq debootstrap; }; }) ||
    die "could not download the debootstrap package with apt-get download"
  dpkg-deb -x "$dir"/debootstrap_*.deb "$dir/x"
}

# Holds the lock exclusively while it looks at or makes the root; runs hold it shared.
make_root() {
  [ "$(id -u)" -eq 0 ] || die "making the root needs root (debootstrap, chroot)"
  mkdir -p "$base"
  exec 9>"$base/lock"
  flock 9
  make_root_locked "$@"
  exec 9>&-
}

make_root_locked() {
  local fresh="${1:-}"
  if [ "$fresh" != "--fresh" ] && root_is_valid; then
    echo "trixie root: reusing $root ($(sed -n 5p "$marker"))"
    return
  fi
  local started=$SECONDS
  local tmp
  tmp="$(mktemp -d "$base/make.XXXXXX")"
  # The new root is made beside the old one and renamed into place only when complete.
  trap 'rm -rf "$tmp"' EXIT
  echo "trixie root: making $root from $mirror ($suite: ${packages[*]})"
  fetch_debootstrap "$tmp"
  local new="$tmp/root"
  DEBOOTSTRAP_DIR="$tmp/x/usr/share/debootstrap" "$tmp/x/usr/sbin/debootstrap" \
    --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" \
    "$suite" "$new" "$mirror" > "$tmp/debootstrap.log" 2>&1 ||
    { tail -n 30 "$tmp/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  chroot "$new" apt-get clean
  # Mount points and the placeholder the run binds its per-run settings onto.
  mkdir -p "$new/var/lib/containers" "$new/etc/containers/containers.conf.d"
  : > "$new/etc/containers/containers.conf.d/50-qdc-trixie.conf"
  rm -rf "$root"
  mv "$new" "$root"
  {
    expected_marker
    echo "made=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - started)) s"
    echo "debootstrap=$(dpkg-deb -f "$tmp"/debootstrap_*.deb Version)"
  } > "$marker"
  rm -rf "$tmp"
  trap - EXIT
  echo "trixie root: made in $((SECONDS - started)) s, $(du -sh "$root" | cut -f1)"
}

# containers.conf for this machine, bound over the placeholder at every run (the limits are the host's
# current ones):
# - default_ulimits at the current hard limits: without CAP_SYS_RESOURCE, crun and buildah fail to raise
#   them (`setrlimit RLIMIT_NOFILE: Operation not permitted`);
# - pids_limit = 0: the cgroup v2 view has no pids controller;
# - netns = "none": the default bridge needs nft and would put a 10.88/16 network on the host (podman
#   build ignores it: builds are given --network by the tests or the user);
# - cgroupfs and file events: there is no systemd or journald in the root.
containers_conf() {
  cat <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=$(ulimit -Hu):$(ulimit -Hu)"]
pids_limit = 0
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
}

cgroup2_mount() {
  awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts
}

run_inside() {
  [ "$(id -u)" -eq 0 ] || die "entering the root needs root (unshare, chroot)"
  root_is_valid || die "no valid trixie root in $root: run 'bash scripts/trixie.sh make' first"
  local v2
  v2="$(cgroup2_mount)"
  [ -n "$v2" ] || die "no cgroup2 mount on this host; the root's podman needs a cgroup v2 view"
  # A throwaway child cgroup of the host's v2 hierarchy: the whole command runs in it and sees it as the
  # root of a pure cgroup v2 tree (crun refuses the host's hybrid layout). Removed on exit, with
  # whatever podman made below it.
  exec 8< "$base/lock"
  flock -s 8
  cg="$v2/qdc-trixie-$$"
  mkdir "$cg"
  trap remove_cgroup EXIT
  # unshare ignores TERM and INT while its child runs, and the namespace's PID 1 only gets the signals it
  # handles: on either, kill unshare, whose --kill-child then ends PID 1 and with it everything inside.
  exec 7<&0
  unshare --mount --propagation private --pid --fork --kill-child -- \
    bash "$0" __enter "$cg" "$@" <&7 &
  inner=$!
  trap 'kill -KILL "$inner" 2>/dev/null' TERM INT HUP
  local status=0
  while :; do
    wait "$inner" && status=0 || status=$?
    kill -0 "$inner" 2>/dev/null || break
  done
  trap - TERM INT HUP
  return "$status"
}

# The run's cgroup and whatever podman made below it, once the processes in it are gone.
remove_cgroup() {
  for _ in $(seq 50); do
    [ -d "$cg" ] || return 0
    find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || sleep 0.2
  done
  echo "trixie.sh: could not remove the cgroup $cg" >&2
}

# In the new mount and PID namespaces. This bash is PID 1 (it reaps what podman orphans): every mount
# and process goes away with it.
enter() {
  local cg="$1"
  shift
  # The root must be a mount point, or containers-storage fails (`remount /, flags: 0x44000`).
  mount --bind "$root" "$root"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  umount -R "$root/sys/fs/cgroup"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=755 tmpfs "$root/run"
  # Every run starts clean: nothing written to these survives it.
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount -t tmpfs -o mode=1777 tmpfs "$root/var/tmp"
  mount -t tmpfs -o mode=700 tmpfs "$root/root"
  mount -t tmpfs -o mode=700 tmpfs "$root/var/lib/containers"
  containers_conf > "$root/run/qdc-containers.conf"
  mount --bind "$root/run/qdc-containers.conf" "$root/etc/containers/containers.conf.d/50-qdc-trixie.conf"
  # The checkout at the same path, so paths in logs, configs and tests mean the same inside and out.
  mkdir -p "$root$repo"
  mount --bind "$repo" "$root$repo"
  echo 0 > "$cg/cgroup.procs"
  local path="$repo/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  # pivot_root, not a bare chroot: the kernel refuses new user namespaces to a process whose root is not
  # its mount namespace's root, and rootless podman (a runner's own user) needs one.
  unshare --cgroup -- /bin/sh -c '
    root="$1"; shift
    mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup" || exit 125
    mkdir "$root/run/host" && cd "$root" && pivot_root . run/host && umount -l /run/host && rmdir /run/host || exit 125
    exec chroot . "$@"' sh "$root" \
    env -i HOME=/root USER=root LOGNAME=root PATH="$path" LANG=C.UTF-8 CI="${CI:-}" TERM="${TERM:-dumb}" \
    /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$repo" "$@"
}

case "${1:-}" in
  make)
    shift
    make_root "$@"
    ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    [ $# -gt 0 ] || die "usage: bash scripts/trixie.sh run -- CMD [ARG...]"
    run_inside "$@"
    ;;
  versions)
    run_inside bash scripts/tool-versions.sh
    ;;
  test)
    shift
    make_root
    # Every suite that drives podman, buildah, podman-compose or nix (kinds: the buildah cache-mount
    # directory follows the podman version; e2e-portable: rootless podman as a runner's own user; cli-run:
    # nix signing). No npm inside: jest the way `npm test` runs it.
    run_inside sh -c 'bash scripts/tool-versions.sh && exec node --experimental-vm-modules node_modules/jest/bin/jest.js --runInBand "$@"' sh \
      '__tests__/(podman|nix)-[^/]*\.test\.ts$' '__tests__/(kinds|build-log|e2e-portable|cli-run)\.test\.ts$' "$@"
    ;;
  __enter)
    shift
    enter "$@"
    ;;
  *)
    die "usage: bash scripts/trixie.sh make [--fresh] | run -- CMD [ARG...] | versions | test [JEST ARG...]"
    ;;
esac
