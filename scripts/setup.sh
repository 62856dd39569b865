#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine needs for the demo and the tests: system tools from apt
# (only those missing), then the npm dependencies (Node 24 itself comes from the npm `node` package).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=()
command -v zstd >/dev/null || packages+=(zstd)
tar --version 2>/dev/null | grep -q 'GNU tar' || packages+=(tar)
command -v python3 >/dev/null || packages+=(python3)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
command -v nix >/dev/null || packages+=(nix-bin)
command -v openssl >/dev/null || packages+=(openssl)
command -v script >/dev/null || packages+=(bsdutils)
# podman-compose build with the layer cache (tests make their base image from busybox-static).
command -v podman >/dev/null || packages+=(podman)
command -v buildah >/dev/null || packages+=(buildah)
command -v podman-compose >/dev/null || packages+=(podman-compose)
dpkg -s busybox-static >/dev/null 2>&1 || packages+=(busybox-static)
# The s3 backend's tests and `npm run bench:s3`: a throwaway single-host Ceph (mon, memstore OSD, radosgw)
# on loopback, and rclone (Debian's 1.60) as the benchmark's baseline S3 client.
command -v rclone >/dev/null || packages+=(rclone)
ceph_packages=()
command -v ceph-mon >/dev/null || ceph_packages+=(ceph-mon)
command -v ceph-osd >/dev/null || ceph_packages+=(ceph-osd)
command -v radosgw >/dev/null || ceph_packages+=(radosgw)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#packages[@]} -gt 0 ] || [ ${#ceph_packages[@]} -gt 0 ]; then
  $sudo apt-get update -qq
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "Installing ${packages[*]} with apt-get"
  # With recommends: podman needs them here (slirp4netns, fuse-overlayfs, uidmap), as the tests were run.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}"
fi
if [ ${#ceph_packages[@]} -gt 0 ]; then
  echo "Installing ${ceph_packages[*]} with apt-get, without recommends"
  # Without recommends: ceph-base recommends ceph-mds (which pulls in ceph-mgr, ceph-fuse and some 50 Python
  # packages), btrfs-progs and a time daemon (chrony); the tests start only a mon, an OSD and radosgw.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${ceph_packages[@]}"
fi

# The lockfile is the contract: npm ci installs exactly it, or fails when package.json disagrees.
npm ci --no-fund --no-audit
