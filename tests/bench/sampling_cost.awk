# The table of sampling_cost.sh: per case and setting the medians, and
# sampling's cost as the median over the pairs of on / off - 1 (cost(),
# bench_lib.awk).
function med(c, key, m,   i, n, a) {
  n = 0
  for (i = 1; i <= pairs[c]; i++) a[++n] = v[c, key, m, i]
  return median_of(a, n)
}
{
  line = " " $0
  c = get(line, "case"); p = get(line, "pair") + 0; m = get(line, "mode")
  if (!(c in pods)) order[++cases] = c
  pods[c] = get(line, "pods")
  per[c] = get(line, "entries") / pods[c]
  if (p > pairs[c]) pairs[c] = p
  v[c, "deliver", m, p] = get(line, "deliver")
  v[c, "collect", m, p] = get(line, "collect")
  v[c, "rss", m, p] = get(line, "rss")
  v[c, "cpu_job", m, p] = get(line, "cpu_job")
  v[c, "store", m, p] = get(line, "store")
  sweeps = get(line, "sweeps")
  v[c, "sweeps", m, p] = sweeps
  # CPU a sweep and pod: the job's CPU over the sweeps that ended.
  if (m == "on" && sweeps > 0)
    v[c, "per_sweep", m, p] = 1e6 * get(line, "cpu_job") / sweeps / pods[c]
  v[c, "sweep", m, p] = get(line, "sweep")
  if (get(line, "collected") != pods[c]) lost[c]++
}
END {
  print "| pods x results | sampling | deliver | collect | peak RSS | CPU in the job | sweeps | CPU a sweep and pod | sweep | store |"
  print "|---|---|---|---|---|---|---|---|---|---|"
  for (x = 1; x <= cases; x++) {
    c = order[x]
    for (k = 0; k <= 1; k++) {
      m = k ? "on" : "off"
      printf "| %d x %d%s | %s | %.3f s | %.3f s | %.0f MB | %.2f s | %s | %s | %s | %s MB |\n",
        pods[c], per[c], (c in lost ? " (runs lost pods!)" : ""), m,
        med(c, "deliver", m), med(c, "collect", m), med(c, "rss", m),
        med(c, "cpu_job", m), (m == "on" ? med(c, "sweeps", m) : "-"),
        (m == "on" && med(c, "per_sweep", m) != "" ? sprintf("%.0f us", med(c, "per_sweep", m)) : "-"),
        (m == "on" && med(c, "sweep", m) != "" ? sprintf("%.3f s", med(c, "sweep", m)) : "-"),
        med(c, "store", m)
    }
    printf "| | cost | %s | %s | %s | | | | | %s |\n", cost(c, "deliver"),
      cost(c, "collect"), cost(c, "rss"), cost(c, "store")
  }
}
