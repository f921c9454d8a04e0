#!/usr/bin/env bash
# The live page in a real browser (Debian's chromium, headless) against a
# proxy running a round on a simulated fleet with faults (down, HTTP 500,
# hung pods). While the round delivers, while it collects and after it
# ended, the rendered page is read back (--dump-dom) and its numbers
# checked against /status and /report; the charts and tables must be drawn
# and no console error may occur. Then the proxy is killed under an open
# page: the page must say so. The finished round's screenshot is written to
# OUT/page.png (docs/page.png is one).
# Usage: page_browser.sh <netpol-proxy> <netpol-podsim> <OUT dir>
set -u
proxy=$1
podsim=$2
out=$3
mkdir -p "$out"
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=tests/support/fleet_lib.sh
source "$(dirname "$0")/../support/fleet_lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "FAIL: chromium is not installed (deploy/test-packages.txt)"; exit 1; }

# Each load gets a profile of its own. --virtual-time-budget=MS lets the
# page's timers run that long (virtual ms: fast) while requests really go
# out; --timeout=MS waits that long in real time.
render() { # render NAME TIME [more flags]: $work/NAME.html, $work/NAME.err
  local name=$1 time=$2
  shift 2
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/profile-$name" --enable-logging=stderr --v=0 \
    --window-size=1280,2000 --hide-scrollbars "$time" "$@" \
    "$url/" > "$work/$name.html" 2> "$work/$name.err"
}
# check NAME MODE: compares the page with /status and /report fetched now.
check() {
  curl -s --max-time 10 "$url/status" > "$work/$1.status.json"
  curl -s --max-time 10 "$url/report?netpols=500" > "$work/$1.report.json"
  /usr/bin/python3 "$(dirname "$0")/page_check.py" "$2" "$work/$1.html" \
    "$work/$1.status.json" "$work/$1.report.json" "$work/$1.err"
}
failures=0

start_fleet --pods 400 --connections-per-pod 5 --latency 40ms --jitter 20ms \
  --down 6 --http-500 4 --hang 3 --seed 7
start_proxy --request-timeout 1500ms --connect-timeout 500ms --retries 1 --backoff-base 200ms
curl -s -o /dev/null -X POST --data-binary @"$work/initiate.json" "$url/initiate"

echo "== while delivering"
render delivering --virtual-time-budget=2500 --dump-dom
check delivering moving || failures=$((failures + 1))
wait_for checkConnectionsStatus
curl -s -o /dev/null "$url/stop"
echo "== while collecting"
render collecting --virtual-time-budget=1500 --dump-dom
check collecting moving || failures=$((failures + 1))
wait_for checkStopStatus
echo "== after the round"
render finished --virtual-time-budget=4000 --dump-dom
check finished final || failures=$((failures + 1))
render screenshot --virtual-time-budget=4000 --screenshot="$out/page.png"
if [ -s "$out/page.png" ] && [ "$(head -c 8 "$out/page.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
  echo "ok: screenshot of the finished round: $out/page.png"
else
  echo "FAIL: no screenshot"; failures=$((failures + 1))
fi

echo "== the proxy goes away under an open page"
# The page and its assets as the proxy served them, from a stand-in that
# then leaves every request unanswered (a restarting proxy, a broken
# port-forward).
mkdir -p "$work/static/ui"
curl -s -o "$work/static/index.html" "$url/"
for asset in $(grep -o "/ui/page-[0-9a-f]*\.[a-z]*" "$work/static/index.html"); do
  curl -s -o "$work/static$asset" "$url$asset"
done
kill "$proxy_pid"
/usr/bin/python3 "$(dirname "$0")/dead_proxy.py" "$work/static" 30 > "$work/dead.port" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/dead.port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$work/dead.port")
render gone --virtual-time-budget=3000 --dump-dom
check gone gone || failures=$((failures + 1))

echo "$failures checks failed"
[ $failures = 0 ]
