#!/usr/bin/env bash
# DS01 end to end on a simulated two-GPU server (one whole A100, one split into four MIG
# slices), with a throwaway config, state dir and workspace. Needs a Docker engine and the
# offline image ds01-test/busybox:latest (tests/build-test-image.sh). Isolated from the real
# users of this engine: its own state dir and label scope (DS01_LABEL_SCOPE), so their
# containers and GPU slots are invisible to it and its own are invisible to them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$PWD/bin
demo=$(mktemp -d /tmp/ds01-demo.XXXXXX)
export DS01_CONFIG=$demo/resource-limits.yaml DS01_STATE_DIR=$demo/state DS01_LOG_DIR=$demo/log
export DS01_LABEL_SCOPE=${demo##*/}
# Unique names: the engine's container names are shared with everyone on it.
a=demo-a-${demo##*.} b=demo-b-${demo##*.} c=demo-c-${demo##*.}
a=$(echo "$a" | tr 'A-Z' 'a-z') b=$(echo "$b" | tr 'A-Z' 'a-z') c=$(echo "$c" | tr 'A-Z' 'a-z')
mkdir -p "$DS01_STATE_DIR" "$DS01_LOG_DIR"
cat > "$DS01_CONFIG" <<YAML
default_group: student
workspace_root: $demo/workspace
defaults: {max_mig_instances: 2, max_cpus: 1, memory: 512m, shm_size: 64m, idle_timeout: 2h}
groups:
  student: {members: []}
gpus:
  simulate:
    - {model: "NVIDIA A100-SXM4-80GB", memory: 80g}
    - {model: "NVIDIA A100-SXM4-80GB", memory: 80g, mig: [3g.40gb, 2g.20gb, 1g.10gb, 1g.10gb]}
images: {base: "ds01-test/busybox:latest"}
YAML
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
cleanup() {
  "$BIN/container-retire" "$a" --yes >/dev/null 2>&1 || true
  "$BIN/container-retire" "$b" --yes >/dev/null 2>&1 || true
  rm -rf "$demo"
}
trap cleanup EXIT

step "$BIN/get-resource-limits"
step "$BIN/gpu-status"
step "$BIN/container-deploy" "$a" --image ds01-test/busybox:latest --background
step "$BIN/container-deploy" "$b" --image ds01-test/busybox:latest --background
step "$BIN/container-run" "$a" -- sh -c 'echo "inside: uid=$(id -u) CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES DS01_GPU_SIMULATED=$DS01_GPU_SIMULATED pwd=$(pwd)"; echo hello > /workspace/result.txt'
step "$BIN/container-list"
step "$BIN/gpu-status"
step "$BIN/container-deploy" "$c" --image ds01-test/busybox:latest --background || echo "(exit $?: the quota of 2 slots is reached, as configured)"
step "$BIN/container-retire" "$a" --yes
step ls -l "$demo/workspace/$a"
step "$BIN/gpu-allocator" status
step "$BIN/ds01-events" --since 10m
