#!/usr/bin/env bash
# The offline Python test base image `ds01-test/debian-python:bookworm`: a minimal Debian
# (debootstrap --variant=minbase) with python3 and python3-pip, imported as a rootfs. Built once
# from Debian's packages and kept as an image tag, so the suite itself never downloads anything.
set -euo pipefail
IMAGE=${DS01_PYTHON_TEST_IMAGE:-ds01-test/debian-python:bookworm}
docker image inspect "$IMAGE" >/dev/null 2>&1 && exit 0
command -v debootstrap >/dev/null 2>&1 || { echo "debootstrap is not installed" >&2; exit 1; }
MIRROR=${DS01_DEBIAN_MIRROR:-$(awk '/^URIs:/ && /debian\/?$/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-pip bookworm "$root" "$MIRROR" >"$root.log" 2>&1 \
  || { tail -20 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' - "$IMAGE" >/dev/null
echo "prepare: built $IMAGE"
