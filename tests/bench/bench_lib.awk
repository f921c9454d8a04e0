# Shared by the bench tables (bench_table.awk, store_cost.awk,
# sampling_cost.awk).

# get(line, key): the value of key=value in line (which starts with a
# space), without its unit (s, ms, MB).
function get(line, key,   m) {
  if (match(line, " " key "=[^ ]*")) {
    m = substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2)
    sub(/(s|ms|MB)$/, "", m)
    return m
  }
  return ""
}

# median_of(a, n): the median of the non-empty values among a[1..n] ("" if
# none): these machines are noisy, so the tables give medians.
function median_of(a, n,   i, j, k, t, b, count) {
  count = 0
  for (i = 1; i <= n; i++) if (a[i] != "") b[++count] = a[i] + 0
  if (count == 0) return ""
  for (i = 2; i <= count; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
  k = int((count + 1) / 2)
  return (count % 2) ? b[k] : (b[k] + b[k + 1]) / 2
}

function pct(x) { return sprintf("%+.1f %%", 100 * x) }
# cost(c, key): what turning a setting on costs over the pairs of case c,
# from v[c, key, "off"|"on", pair] and pairs[c]: the median of on / off - 1,
# the lowest and the highest.
function cost(c, key,   i, d, count, lo, hi, a) {
  count = 0
  for (i = 1; i <= pairs[c]; i++)
    if ((c, key, "off", i) in v && (c, key, "on", i) in v && v[c, key, "off", i] > 0) {
      d = v[c, key, "on", i] / v[c, key, "off", i] - 1
      a[++count] = d
      if (count == 1 || d < lo) lo = d
      if (count == 1 || d > hi) hi = d
    }
  if (count == 0) return "-"
  return sprintf("%s (%s .. %s)", pct(median_of(a, count)), pct(lo), pct(hi))
}
