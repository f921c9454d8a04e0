#!/usr/bin/env bash
# make bench: the performance cases of docs/performance.md, one line each.
# Usage: bench.sh BUILD_DIR [quick]
set -euo pipefail
build=$1
here=$(dirname "$0")
run() { echo "== $*"; "$here/round_bench.sh" "$build" "$@"; }
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(uname -r)"
# 1. Latency-bound: limit N x L / W.
run 2000 20ms 20 20
run 2000 20ms 20 100
run 2000 20ms 20 200
# 2. CPU-bound: 5,000 pods x 100 results, pods answer at once.
run 5000 0ms 100 20
[ "${2:-}" = quick ] && exit 0
# 3. Scale: RSS against pods, 20 results each.
for pods in 1000 5000 20000 75000; do run $pods 0ms 20 20; done
