#!/usr/bin/env bash
# Prepares this machine for `make test`: Debian packages, the test virtualenv, a running
# Docker engine and the offline test base image. Safe to run again; does only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
SYSTEM_PYTHON=/usr/bin/python3

need_packages=()
[ -x $SYSTEM_PYTHON ] && $SYSTEM_PYTHON -c 'import ensurepip, venv' 2>/dev/null || need_packages+=(python3-venv)
if [ "${1:-}" != "--venv-only" ]; then
  command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
  dpkg -s busybox-static >/dev/null 2>&1 || need_packages+=(busybox-static)
  command -v git >/dev/null 2>&1 || need_packages+=(git)
  command -v runuser >/dev/null 2>&1 || need_packages+=(util-linux)
  command -v ssh-keygen >/dev/null 2>&1 || need_packages+=(openssh-client)
  command -v pkill >/dev/null 2>&1 || need_packages+=(procps)
  command -v useradd >/dev/null 2>&1 || need_packages+=(passwd)
  command -v debootstrap >/dev/null 2>&1 || need_packages+=(debootstrap)  # the Debian+Python test image
  command -v sudo >/dev/null 2>&1 && command -v visudo >/dev/null 2>&1 || need_packages+=(sudo)  # locked mode
  # tests/slurm: a one-node Slurm with accounting (started by the suite, see tests/slurm/start-slurm.sh)
  for package in slurm-wlm slurmdbd munge mariadb-server; do
    dpkg -s $package >/dev/null 2>&1 || need_packages+=($package)
  done
fi
if [ ${#need_packages[@]} -gt 0 ]; then
  echo "prepare: installing ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need_packages[@]}" >/dev/null
fi
# ds01-exporter's tests: Debian's Prometheus (promtool, and a server the suite starts on a loopback
# port) and logrotate. Without recommends: no node-exporter comes along.
monitoring_packages=()
if [ "${1:-}" != "--venv-only" ]; then
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || monitoring_packages+=(prometheus)
  command -v logrotate >/dev/null 2>&1 || monitoring_packages+=(logrotate)
fi
if [ ${#monitoring_packages[@]} -gt 0 ]; then
  echo "prepare: installing ${monitoring_packages[*]}"
  [ ${#need_packages[@]} -gt 0 ] || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends \
    "${monitoring_packages[@]}" >/dev/null
fi

if ! [ -x $VENV/bin/python ] || ! $VENV/bin/python -c 'import docker, yaml, filelock, questionary, pynvml, pytest, hypothesis, mypy, kubernetes_validate, prometheus_client' 2>/dev/null; then
  echo "prepare: building $VENV"
  $SYSTEM_PYTHON -m venv $VENV
  $VENV/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.txt
fi
[ "${1:-}" = "--venv-only" ] && exit 0

if ! timeout 10 docker info >/dev/null 2>&1; then
  echo "prepare: starting dockerd"
  setsid nohup dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
  for _ in $(seq 1 60); do timeout 5 docker info >/dev/null 2>&1 && break; sleep 1; done
  timeout 10 docker info >/dev/null 2>&1 || { echo "prepare: dockerd did not start; see /var/log/dockerd.log" >&2; exit 1; }
fi

bash tests/build-test-image.sh
bash tests/build-python-image.sh  # once, then cached as an image tag (about 40 s)
