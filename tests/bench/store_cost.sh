#!/usr/bin/env bash
# What the round store costs a round (issue 13's rows): each case run with
# the store off and on, the two interleaved (off, on, off, on, ...) so that
# a drift of the machine's speed falls on both, PAIRS pairs a case.
# Usage: store_cost.sh BUILD_DIR [quick]   (quick: 2,000 @ 20 ms and
# 5,000 x 100 only). Environment: PAIRS (default 3), FLEET_THREADS (2).
# Prints each run's line as it ends, then one table: per case and store
# setting, the medians of the phase times and of the proxy's CPU per pod,
# the store's size per pod, and the cost of the store as the median over
# the pairs of (on / off - 1), with the pairs' lowest and highest.
set -euo pipefail
build=$1
here=$(dirname "$0")
export FLEET_THREADS=${FLEET_THREADS:-2}
pairs=${PAIRS:-3}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT

case_number=0
run() { # PODS LATENCY RESULTS_PER_POD
  case_number=$((case_number + 1))
  for i in $(seq 1 "$pairs"); do
    for store in off on; do
      echo "== store case $case_number: $* store $store (pair $i of $pairs)" >&2
      STORE=$store "$here/round_bench.sh" "$build" "$@" 20 |
        sed "s/^/case=$case_number pair=$i mode=$store /" | tee -a "$lines" >&2
    done
  done
}

echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)," \
     "fleet threads $FLEET_THREADS, $pairs interleaved off/on pair(s) per case"
# Pods in the same cluster, answering in 20 ms: the calls' latency bounds
# the phases.
run 2000 20ms 20
# Pods that answer at once: the proxy and the fleet share the two cores,
# so every microsecond of CPU the store adds shows in the phase times.
run 5000 0ms 100
if [ "${2:-}" != quick ]; then
  run 75000 0ms 20
  # The same scale with pods 5 ms away: the calls' latency sets a floor
  # (18.75 s a phase), though on two cores the CPU still shows.
  run 75000 5ms 20
fi

awk -f "$here/bench_lib.awk" -f "$here/store_cost.awk" "$lines"
