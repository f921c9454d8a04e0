#!/usr/bin/env bash
# The live page during the job, with sampling on: before /stop, /report
# answers from the pods' samples, and the page draws the enforcement curve
# and the worst netpols so far and says they come from samples (how many
# pods, how old the oldest). Six simulated pods reveal their three results
# each within 1 s of their /check; the proxy samples every 200 ms; headless
# Chromium renders the page 2 s after delivery, and what it shows is
# checked against /report at that time (no result changes by then). The
# page asks /report every 3 s, so it renders 4 s of virtual time.
# Usage: page_sampling.sh <netpol-proxy> <netpol-podsim>
set -u
proxy=$1 podsim=$2
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=tests/support/fleet_lib.sh
source "$(dirname "$0")/../support/fleet_lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "FAIL: chromium is not installed (deploy/test-packages.txt)"; exit 1; }
passes=0 failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }

start_fleet --pods 6 --first-address 127.94.0.1 --connections-per-pod 3 --reveal 1s
start_proxy --sample-interval 200ms
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/initiate.json" "$url/initiate")
[ "$code" = 200 ] && pass "/initiate taken" || fail "/initiate answered $code"
wait_for checkConnectionsStatus
sleep 2 # every result is revealed, and sampled
curl -s "$url/report" > "$work/report.json"
python3 - "$work/report.json" <<'PY' && pass "/report answers from samples before /stop, every test reported" || fail "/report: $(head -c 600 "$work/report.json")"
import json, sys
r = json.load(open(sys.argv[1]))
c = r["completeness"]
assert r["source"] == "samples" and not r["collection_done"], r
assert c["expected"] == 18 and c["reported"] == 18 and c["pods_sampled"] == 6, c
PY

timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --virtual-time-budget=4000 --dump-dom \
  "$url/" > "$work/page.html" 2> "$work/chromium.err"
curl -s "$url/status" > "$work/status.json"
python3 - "$work/page.html" "$work/report.json" "$work/status.json" <<'PY' || failures=$((failures + 1))
import json, re, sys

html = open(sys.argv[1], encoding="utf-8").read()
report = json.load(open(sys.argv[2]))
status = json.load(open(sys.argv[3]))
failures = 0
def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1
def text_of(element_id):
    match = re.search(r'<[a-z]+ [^>]*id="' + element_id + r'"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None

check(status["phase"] == "delivered" and status["sampling"]["sweeps"] > 0,
      f"the round is in the job, sampled ({status['phase']}, "
      f"{status.get('sampling', {}).get('sweeps')} sweeps)")
line = re.search(r'<polyline [^>]*id="curve-line"[^>]*>', html)
last = re.search(r'data-last="(\d+)"', line.group(0)) if line else None
check(last is not None and int(last.group(1)) == report["completeness"]["reported"],
      f"the curve is drawn up to the tests reported so far ({last and last.group(1)})")
curve_note = text_of("curve-note") or ""
netpols_note = text_of("netpols-note") or ""
for name, note in (("curve", curve_note), ("netpols", netpols_note)):
    check("from samples of 6 pods during the job" in note and "UTC" in note,
          f"the {name} note says it comes from samples: {note!r}")
rows = re.findall(r'<tr><td>([^<]*)</td><td class="num">', html)
names = [n["name"] for n in report["netpols"]]
check(len(rows) > 0 and rows == names[:len(rows)],
      f"the netpol table lists the netpols so far, worst first ({len(rows)} rows)")
errors = re.search(r'id="console-errors"[^>]*>(\d+)<', html)
check(errors is not None and errors.group(1) == "0", "no console error")
sys.exit(1 if failures else 0)
PY

echo "$passes passed, $failures failed"
[ $failures = 0 ]
