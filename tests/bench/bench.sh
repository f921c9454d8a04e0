#!/usr/bin/env bash
# make bench: the performance cases of docs/performance.md as one table.
# Usage: bench.sh BUILD_DIR [quick]   (quick: the first four cases). The
# store bench (a few seconds), the store's cost (each case with the store
# off and on: store_cost.sh) and sampling's (each case with sampling off and
# on: sampling_cost.sh), quick there too, end it.
# Each case is REPEAT (default 1) round_bench.sh runs; each raw line is
# printed as it ends, the table at the end, with each figure the median over
# the runs (these machines are noisy). The fleet runs two event loops
# (FLEET_THREADS overrides).
set -euo pipefail
build=$1
here=$(dirname "$0")
export FLEET_THREADS=${FLEET_THREADS:-2}
repeat=${REPEAT:-1}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT

case_number=0
run() { # FLOOR PODS LATENCY RESULTS_PER_POD WORKERS
  local floor=$1; shift
  case_number=$((case_number + 1))
  for i in $(seq 1 "$repeat"); do
    echo "== case $case_number: $* (run $i of $repeat)" >&2
    FLOOR=$floor "$here/round_bench.sh" "$build" "$@" |
      sed "s/^/case=$case_number /" | tee -a "$lines" >&2
  done
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)," \
     "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)," \
     "fleet threads $FLEET_THREADS, median of $repeat run(s) per case"
# 1. Latency-bound: no proxy beats N x L / W; the floor is the same calls
#    from plain threads on this machine.
run 1 2000 20ms 20 20
run 1 2000 20ms 20 100
run 1 2000 20ms 20 200
# 2. CPU-bound: 5,000 pods x 100 results, pods answer at once.
run 1 5000 0ms 100 20
if [ "${2:-}" != quick ]; then
  # 3. Scale: RSS against pods, 20 results each.
  for pods in 1000 5000 20000 75000; do run 0 $pods 0ms 20 20; done
fi

# The table: ratios to the limit (N x L / W) and to the floor, the peak RSS
# against the memory bound 1.3 x (results + /initiate) + 40 MB, and the
# proxy's CPU seconds: whole run (delivery incl. /initiate / collection).
awk -f "$here/bench_lib.awk" -f "$here/bench_table.awk" "$lines"

# The round store's own CPU a call, without a fleet (docs/performance.md,
# "2026-12-02 evening: two cuts in the store's work a call"): waves of 4
# and of 20 calls a commit, then collection's commits grouped as the coordinator groups them (10 ms:
# some 60 calls at the rate of pods that answer at once).
store_dir=$(mktemp -d -p /dev/shm netpol-bench-store.XXXXXX)
for wave in 4 20; do
  "$build/tests/netpol-bench-store" "$store_dir/wave-$wave" 20000 "$wave" 20 | sed 's/^/store: /'
done
GROUP=15 "$build/tests/netpol-bench-store" "$store_dir/grouped" 20000 4 20 | sed 's/^/store (GROUP=15): /'
rm -rf "$store_dir"

# What the round store costs: the cases of issue 13 with the store off and
# on, interleaved (PAIRS pairs, default REPEAT).
PAIRS=${PAIRS:-$repeat} "$here/store_cost.sh" "$build" "${2:-}"

# What sampling during the job costs (docs/performance.md, "Sampling during
# the job"): the 2,000-pod case (and 75,000 without quick) with sampling off
# and every INTERVAL (default 10s), a JOB-second job (default 30) between
# delivery and /stop, interleaved (PAIRS pairs, default REPEAT).
INTERVAL=${INTERVAL:-10s} JOB=${JOB:-30} PAIRS=${PAIRS:-$repeat} \
  "$here/sampling_cost.sh" "$build" "${2:-}"
