#!/usr/bin/env bash
# make bench: the performance cases of docs/performance.md as one table.
# Usage: bench.sh BUILD_DIR [quick]   (quick: the first four cases)
# Each case is one round_bench.sh run; its raw line is printed as it ends, the
# table at the end. The fleet runs two event loops (FLEET_THREADS overrides).
set -euo pipefail
build=$1
here=$(dirname "$0")
export FLEET_THREADS=${FLEET_THREADS:-2}
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT

run() { # FLOOR PODS LATENCY RESULTS_PER_POD WORKERS
  local floor=$1; shift
  echo "== $*" >&2
  FLOOR=$floor "$here/round_bench.sh" "$build" "$@" | tee -a "$lines" >&2
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo)," \
     "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)," \
     "fleet threads $FLEET_THREADS"
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

# The table: ratios to the limit (N x L / W) and to the floor, and the peak
# RSS against the memory bound 1.3 x (results + /initiate) + 40 MB.
awk '
function get(line, key,   m) {
  if (match(line, " " key "=[^ ]*")) {
    m = substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
    sub(/(s|ms|MB)$/, "", m)
    return m
  }
  return ""
}
function ratio(x, y) { return (y == "" || y + 0 == 0) ? "-" : sprintf("%.2f", x / y) }
BEGIN {
  print "| pods x results | L | W | deliver | collect | limit | ratio d/c | floor d/c | vs floor d/c | /results | RSS / bound | CPU | status p99 |"
  print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}
{
  line = " " $0
  pods = get(line, "pods"); lat = get(line, "latency"); w = get(line, "workers")
  per_pod = get(line, "entries") / pods
  d = get(line, "deliver"); c = get(line, "collect")
  split(get(line, "results"), r, "/"); sub(/s$/, "", r[2])
  l = lat / 1000 * pods / w
  fd = get(line, "floor_deliver"); fc = get(line, "floor_collect")
  bound = 1.3 * (r[1] + get(line, "initiate")) + 40
  printf "| %d x %d | %s ms | %d | %.2f s | %.2f s | %s | %s / %s | %s | %s / %s | %.2f s (%.0f MB) | %d / %.0f MB | %.2f s | %s ms |\n",
    pods, per_pod, lat, w, d, c, (l > 0 ? sprintf("%.2f s", l) : "-"),
    ratio(d, l > 0 ? l : ""), ratio(c, l > 0 ? l : ""),
    (fd == "" ? "-" : sprintf("%.2f / %.2f s", fd, fc)),
    ratio(d, fd), ratio(c, fc), r[2], r[1], get(line, "rss"), bound,
    get(line, "cpu"), get(line, "status_p99")
}' "$lines"
