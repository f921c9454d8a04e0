#!/usr/bin/env bash
# make bench: the performance cases of docs/performance.md as one table.
# Usage: bench.sh BUILD_DIR [quick]   (quick: the first four cases; the
# store bench, a few seconds, always ends it)
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
# Median of the values stored under v[c, key, 1..n[c]].
function median(c, key,   i, j, k, t, a, count) {
  count = 0
  for (i = 1; i <= n[c]; i++) if (v[c, key, i] != "") a[++count] = v[c, key, i] + 0
  if (count == 0) return ""
  for (i = 2; i <= count; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  k = int((count + 1) / 2)
  return (count % 2) ? a[k] : (a[k] + a[k + 1]) / 2
}
{
  line = " " $0
  c = get(line, "case")
  if (!(c in n)) order[++cases] = c
  i = ++n[c]
  split(get(line, "results"), r, "/"); sub(/s$/, "", r[2])
  v[c, "results_mb", i] = r[1]; v[c, "results_s", i] = r[2]
  split(get(line, "initiate"), q, "/")
  v[c, "initiate_mb", i] = q[1]
  for (k = 1; k <= nkeys; k++) v[c, keys[k], i] = get(line, keys[k])
  # A run that did not collect every pod measured something else.
  if (get(line, "collected") != get(line, "pods")) lost[c]++
}
BEGIN {
  nkeys = split("pods latency workers entries deliver collect rss cpu cpu_deliver cpu_collect status_p99 floor_deliver floor_collect", keys, " ")
  print "| pods x results | L | W | deliver | collect | limit | ratio d/c | floor d/c | vs floor d/c | /results | RSS / bound | CPU all (d/c) | status p99 |"
  print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
}
END {
  for (x = 1; x <= cases; x++) {
    c = order[x]
    pods = median(c, "pods"); lat = median(c, "latency"); w = median(c, "workers")
    d = median(c, "deliver"); cl = median(c, "collect")
    fd = median(c, "floor_deliver"); fc = median(c, "floor_collect")
    l = lat / 1000 * pods / w
    bound = 1.3 * (median(c, "results_mb") + median(c, "initiate_mb")) + 40
    if (c in lost) printf "WARNING: case %s: %d of %d runs did not collect every pod\n", c, lost[c], n[c] > "/dev/stderr"
    printf "| %d x %d%s | %s ms | %d | %.2f s | %.2f s | %s | %s / %s | %s | %s / %s | %.2f s (%.0f MB) | %d / %.0f MB | %.2f s (%.2f / %.2f) | %.2f ms |\n",
      pods, median(c, "entries") / pods, (c in lost ? " (runs lost pods!)" : ""), lat, w, d, cl, (l > 0 ? sprintf("%.2f s", l) : "-"),
      ratio(d, l > 0 ? l : ""), ratio(cl, l > 0 ? l : ""),
      (fd == "" ? "-" : sprintf("%.2f / %.2f s", fd, fc)),
      ratio(d, fd), ratio(cl, fc), median(c, "results_s"), median(c, "results_mb"),
      median(c, "rss"), bound, median(c, "cpu"), median(c, "cpu_deliver"),
      median(c, "cpu_collect"), median(c, "status_p99")
  }
}' "$lines"

# The round store's own CPU a call, without a fleet (docs/performance.md,
# "two cuts in the store's work a call"): waves of 4 and of 20 calls a commit,
# then collection's commits grouped as the coordinator groups them (10 ms:
# some 60 calls at the rate of pods that answer at once).
store_dir=$(mktemp -d -p /dev/shm netpol-bench-store.XXXXXX)
for wave in 4 20; do
  "$build/tests/netpol-bench-store" "$store_dir/wave-$wave" 20000 "$wave" 20 | sed 's/^/store: /'
done
GROUP=15 "$build/tests/netpol-bench-store" "$store_dir/grouped" 20000 4 20 | sed 's/^/store (GROUP=15): /'
rm -rf "$store_dir"
