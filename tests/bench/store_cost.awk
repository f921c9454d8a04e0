# The table of store_cost.sh: per case and store setting the medians, and
# the store's cost as the median over the pairs of on / off - 1 (cost(),
# bench_lib.awk).
{
  line = " " $0
  c = get(line, "case"); p = get(line, "pair") + 0; m = get(line, "mode")
  if (!(c in pods)) order[++cases] = c
  pods[c] = get(line, "pods"); lat[c] = get(line, "latency")
  per[c] = get(line, "entries") / pods[c]
  if (p > pairs[c]) pairs[c] = p
  v[c, "deliver", m, p] = get(line, "deliver")
  v[c, "collect", m, p] = get(line, "collect")
  v[c, "cpu", m, p] = get(line, "cpu")
  if (m == "on") v[c, "store", m, p] = get(line, "store")
  if (get(line, "collected") != pods[c]) lost[c]++
}
END {
  print "| pods x results | L | store | deliver | collect | proxy CPU a pod | store a pod |"
  print "|---|---|---|---|---|---|---|"
  for (x = 1; x <= cases; x++) {
    c = order[x]
    for (k = 0; k <= 1; k++) {
      m = k ? "on" : "off"
      n = 0
      for (i = 1; i <= pairs[c]; i++) { d[++n] = v[c, "deliver", m, i]; cl[n] = v[c, "collect", m, i]; cp[n] = v[c, "cpu", m, i]; st[n] = v[c, "store", m, i] }
      printf "| %d x %d%s | %s ms | %s | %.2f s | %.2f s | %.0f us | %s |\n",
        pods[c], per[c], (c in lost ? " (runs lost pods!)" : ""), lat[c], m,
        median_of(d, n), median_of(cl, n), 1e6 * median_of(cp, n) / pods[c],
        (m == "on" ? sprintf("%.2f KB", 1024 * median_of(st, n) / pods[c]) : "-")
    }
    printf "| | | cost | %s | %s | %s | |\n", cost(c, "deliver"), cost(c, "collect"), cost(c, "cpu")
  }
}
