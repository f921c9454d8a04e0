#!/usr/bin/env bash
# /metrics as Prometheus itself would read it: after a round against a
# fleet with faults, the exposition text is parsed by the Python
# prometheus_client parser (Debian python3-prometheus-client), every family
# our text declares comes out of it with its type and samples, and the
# counters agree with /status.
# Usage: metrics_parse.sh <netpol-proxy> <netpol-podsim>
set -u
proxy=$1
podsim=$2
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=tests/support/fleet_lib.sh
source "$(dirname "$0")/../support/fleet_lib.sh"

start_fleet --pods 40 --connections-per-pod 5 --down 3 --http-500 2
start_proxy --retries 1 --backoff-base 10ms --connect-timeout 200ms
curl -s -o /dev/null -X POST --data-binary @"$work/initiate.json" "$url/initiate"
wait_for checkConnectionsStatus
curl -s -o /dev/null "$url/stop"
wait_for checkStopStatus
curl -s -D "$work/headers" -o "$work/metrics.txt" "$url/metrics"
curl -s -o "$work/status.json" "$url/status"

# Debian's interpreter, which has Debian's python3-prometheus-client (a
# python3 earlier on PATH, from pyenv say, may not).
/usr/bin/python3 - "$work/metrics.txt" "$work/headers" "$work/status.json" <<'PY'
import json, re, sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1]).read()
headers = open(sys.argv[2]).read().lower()
status = json.load(open(sys.argv[3]))
failures = 0
def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1

check("content-type: text/plain; version=0.0.4" in headers,
      "served as the text exposition format 0.0.4")
declared = dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))
check(len(declared) >= 10, f"{len(declared)} families declared")
families = {f.name: f for f in text_string_to_metric_families(text)}
# The parser names a counter's family without its _total suffix.
parsed = {}
for name, family in families.items():
    key = name + "_total" if family.type == "counter" and name + "_total" in declared else name
    parsed[key] = family
check(set(parsed) == set(declared),
      "the parser finds every declared family, and no other: "
      f"missing {sorted(set(declared) - set(parsed))}, extra {sorted(set(parsed) - set(declared))}")
for name, kind in declared.items():
    family = parsed.get(name)
    if family is None:
        continue
    check(family.type == kind, f"{name}: type {family.type}, declared {kind}")
    check(len(family.samples) > 0, f"{name}: {len(family.samples)} samples")
    check(bool(family.documentation), f"{name}: has HELP text")

def value(family, **labels):
    total = 0.0
    for s in parsed[family].samples:
        if s.name.endswith(("_bucket", "_created")):
            continue
        if all(s.labels.get(k) == v for k, v in labels.items()):
            total += s.value
    return total

for name, family in parsed.items():
    if family.type == "histogram":
        buckets = [s for s in family.samples if s.name.endswith("_bucket")]
        counts = {}
        for s in buckets:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            counts.setdefault(key, []).append((float(s.labels["le"]), s.value))
        for key, series in counts.items():
            values = [v for _, v in sorted(series)]
            check(values == sorted(values) and sorted(series)[-1][0] == float("inf"),
                  f"{name}{dict(key)}: cumulative buckets ending at +Inf")
print("families:", ", ".join(sorted(declared)))
calls = [n for n in declared if "calls" in n and declared[n] == "counter"]
check(bool(calls), f"a calls counter is declared ({calls})")
if calls:
    # Every pod was called at least once per stage.
    check(value(calls[0]) >= 2 * status["pods"],
          f"{calls[0]} counts {value(calls[0]):.0f} calls for {status['pods']} pods")
print(f"{failures} failed")
sys.exit(1 if failures else 0)
PY
