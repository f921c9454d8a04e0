#!/usr/bin/env bash
# Unconfirmed pods asked whether they took their list, over HTTP, against
# netpol-podsim: four pods, one that takes its /check and never answers it
# (check_unanswered), one whose first /check never reaches it (check_lost).
# Both end delivery unconfirmed (the proxy's call times out after 1 s).
# - With --answer-status (the pods answer GET /status as netpol-client
#   does): the first is confirmed (it holds its list), the second is sent
#   its list again; all four are delivered, and all four report their two
#   tests at /stop.
# - Without (the real client's 404): both stay unconfirmed, the proxy says
#   they cannot be asked, and the pod that never got its list reports
#   nothing.
# Each round also reads the fleet's own count of /check calls (at exit).
# Usage: unconfirmed_podsim.sh <netpol-proxy> <netpol-podsim>
set -u
proxy=$1 podsim=$2
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=tests/support/fleet_lib.sh
source "$(dirname "$0")/../support/fleet_lib.sh"
passes=0 failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }

# round ANSWER_STATUS...: a fleet, a proxy, a round up to /results; leaves
# $work/status.json, $work/results.json, $work/proxy.log, $unanswered, $lost.
round() {
  start_fleet --pods 4 --first-address 127.95.0.1 --connections-per-pod 2 \
    --check-unanswered 1 --check-lost 1 --seed 3 --write-pods "$work/pods.txt" "$@"
  unanswered=$(awk '$2 == "check_unanswered" {print $1}' "$work/pods.txt")
  lost=$(awk '$2 == "check_lost" {print $1}' "$work/pods.txt")
  start_proxy --request-timeout 1s --connect-timeout 500ms --retries 1
  curl -s -o /dev/null -X POST --data-binary @"$work/initiate.json" "$url/initiate"
  wait_for checkConnectionsStatus
  for _ in $(seq 1 100); do # asked as delivery ends; a moment for the answers
    curl -s "$url/status" > "$work/status.json"
    grep -q '"asked": 2' "$work/status.json" \
      && ! grep -q '"failed_asks": [1-9]' "$work/status.json" && break
    sleep 0.1
  done
  curl -s -o /dev/null "$url/stop"
  wait_for checkStopStatus
  curl -s "$url/results" > "$work/results.json"
  curl -s "$url/status" > "$work/status.json"
  kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; pids=()
}

# verdict MODE: the checks of a round, from /status and /results
# (MODE asked: netpol-client's pods; real: the real client's 404).
verdict() {
  python3 - "$1" "$work/status.json" "$work/results.json" "$unanswered" "$lost" <<'PY' || failures=$((failures + 1))
import json, sys
mode = sys.argv[1]
status, results = (json.load(open(p)) for p in sys.argv[2:4])
unanswered, lost = sys.argv[4:6]
failures = 0
def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1
asked = status.get("unconfirmed_asked", {})
if mode == "asked":
    check(asked.get("asked") == 2 and asked.get("held_their_list") == 1
          and asked.get("sent_again") == 1 and asked.get("cannot_be_asked") == 0,
          f"netpol-client pods: one held its list, one was sent it again ({asked})")
    check(status["delivered"] == 4 and status["unconfirmed"] == 0,
          f"all four delivered ({status['delivered']} delivered, "
          f"{status['unconfirmed']} unconfirmed)")
    check(all(len(results.get(ip) or []) == 2 for ip in (unanswered, lost))
          and len(results) == 4,
          "every pod reports its two tests, the one whose first /check was lost too")
else:
    check(asked.get("asked") == 2 and asked.get("cannot_be_asked") == 2
          and status["unconfirmed"] == 2,
          f"the real client's 404: both stay unconfirmed ({asked})")
    check(results.get(lost) == [],
          f"the pod that never got its list reports nothing ({results.get(lost)!r})")
sys.exit(1 if failures else 0)
PY
}

# checks_sent CHECKS RESULTS: the fleet's own count of the /check calls it
# saw and took, and of /results calls (its summary line at exit): no pod
# took a second list.
checks_sent() {
  local summary
  summary=$(sed -n 's/^netpol-podsim: summary: //p' "$work/fleet.log")
  case "$summary" in
    "checks accepted $1, $2 /results calls, duplicate checks 0") pass "the fleet saw: $summary" ;;
    *) fail "the fleet saw: '$summary', not 'checks accepted $1, $2 /results calls, duplicate checks 0'" ;;
  esac
}

round --answer-status
verdict asked
# One /check each, and the lost pod's list sent a second time. (Its 8
# /results calls: sampling, on by default, read each pod once as delivery
# ended, then collection.)
checks_sent "4/4 pods (5 /check calls)" 8
grep -q "Pod $unanswered: delivery confirmed: it holds its list" "$work/proxy.log" \
  && pass "the log says the pod that took its /check holds its list" \
  || fail "no 'delivery confirmed: it holds its list' for $unanswered"
grep -q "Pod $lost: delivery confirmed: it had taken no list (GET /status); sent again, and taken" "$work/proxy.log" \
  && pass "the log says the pod whose /check was lost was sent it again" \
  || fail "no 'sent again' line for $lost"

round
verdict real
# One /check each, never a second: the lost pod took none.
checks_sent "3/4 pods (4 /check calls)" 8
grep -q "Pod $lost: stays unconfirmed: cannot be asked whether it took its list" "$work/proxy.log" \
  && pass "the log says it cannot be asked" || fail "no 'cannot be asked' line for $lost"

echo "$passes passed, $failures failed"
[ $failures = 0 ]
