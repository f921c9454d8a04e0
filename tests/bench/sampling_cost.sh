#!/usr/bin/env bash
# What sampling during the job costs (docs/performance.md, "Sampling during
# the job"): each case with sampling off and every INTERVAL (default 1s),
# a job of JOB seconds (default 30) between delivery and /stop, the two
# interleaved (off, on, off, on, ...), PAIRS pairs (default 1). Prints each
# run's line as it ends (round_bench.sh's, with the proxy's CPU seconds in
# the job, the sweeps that ended and the last one's time), then one table:
# per case and setting the medians of the phase times (which sampling must
# leave alone), the peak RSS, the CPU in the job and per sweep and pod, the
# store's size, and the cost of sampling as the median over the pairs of
# (on / off - 1), with the pairs' lowest and highest.
# BENCH=quick: the 2,000-pod case only.
# Usage: sampling_cost.sh BUILD_DIR [quick]
set -euo pipefail
build=$1
here=$(dirname "$0")
export FLEET_THREADS=${FLEET_THREADS:-2} STATUS_POLL=0 JOB=${JOB:-30}
interval=${INTERVAL:-1s}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
cases=("2000 0ms 20")
[ "${2:-}" = quick ] || cases+=("75000 0ms 20")
echo "machine: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)," \
     "fleet threads $FLEET_THREADS, ${PAIRS:-1} interleaved off/on pair(s) per case," \
     "sampling every $interval, a ${JOB} s job"
case_number=0
for c in "${cases[@]}"; do
  case_number=$((case_number + 1))
  for pair in $(seq 1 "${PAIRS:-1}"); do
    for mode in off on; do
      flag=0s
      [ "$mode" = on ] && flag=$interval
      echo "== sampling case $case_number: $c, interval $flag (pair $pair)" >&2
      # shellcheck disable=SC2086 # a case is PODS LATENCY RESULTS_PER_POD
      PROXY_ARGS="--sample-interval $flag" "$here/round_bench.sh" "$build" $c |
        sed "s/^/case=$case_number pair=$pair mode=$mode /" | tee -a "$lines" >&2
    done
  done
done

awk -f "$here/bench_lib.awk" -f "$here/sampling_cost.awk" "$lines"
