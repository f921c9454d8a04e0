# make bench's table (bench.sh): one row per case, medians over its runs.
function ratio(x, y) { return (y == "" || y + 0 == 0) ? "-" : sprintf("%.2f", x / y) }
# Median of the values stored under v[c, key, 1..n[c]].
function median(c, key,   i, a) {
  for (i = 1; i <= n[c]; i++) a[i] = v[c, key, i]
  return median_of(a, n[c])
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
}
