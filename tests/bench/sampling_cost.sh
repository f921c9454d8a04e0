#!/usr/bin/env bash
# What sampling during the job costs (docs/performance.md, "Sampling during
# the job"): each case with sampling off and every INTERVAL (default 1s),
# a job of JOB seconds
# (default 30) between delivery and /stop, interleaved, PAIRS pairs (default
# 1). Prints round_bench.sh's lines: phase times (which sampling must leave
# alone), the proxy's CPU seconds in the job, the sweeps that ended and the
# last one's time. BENCH=quick: the 2,000-pod case only.
# Usage: sampling_cost.sh BUILD_DIR [quick]
set -euo pipefail
build=$1
here=$(dirname "$0")
export FLEET_THREADS=${FLEET_THREADS:-2} STATUS_POLL=0 JOB=${JOB:-30}
cases=("2000 0ms 20")
[ "${2:-}" = quick ] || cases+=("75000 0ms 20")
for c in "${cases[@]}"; do
  for pair in $(seq 1 "${PAIRS:-1}"); do
    for interval in 0s "${INTERVAL:-1s}"; do
      echo "== $c, sample interval $interval (pair $pair)" >&2
      # shellcheck disable=SC2086 # a case is PODS LATENCY RESULTS_PER_POD
      PROXY_ARGS="--sample-interval $interval" "$here/round_bench.sh" "$build" $c |
        sed "s/^/sample_interval=$interval /"
    done
  done
done
