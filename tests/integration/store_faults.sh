#!/usr/bin/env bash
# The round store when it cannot be used as asked: a second proxy on the
# same --state-dir, a corrupt file, a directory that cannot be written, a
# store that fills up mid-round. Each time: a clear log line, the proxy
# serves, the round completes in memory, nothing crashes.
# Usage: store_faults.sh <netpol-proxy> <netpol-podsim>
set -u
proxy=$1
podsim=$2
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
passes=0
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }

started_port() { sed -n 's/.* Client server started on :\([0-9]*\)$/\1/p' "$1"; }

# start_proxy LOG ARGS...: starts a proxy on a free port; sets $port.
start_proxy() {
  local log=$1
  shift
  "$proxy" --listen 127.0.0.1:0 "$@" > "$log" 2>&1 &
  pids+=($!)
  port=""
  for _ in $(seq 1 100); do
    port=$(started_port "$log")
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "proxy did not start: $(cat "$log")"
  return 1
}

persistence() { curl -s "http://127.0.0.1:$1/status" | sed -n 's/.*"persistence": "\([^"]*\)".*/\1/p'; }

# A round against a fresh fleet: initiate, deliver, stop, collect.
run_round() {
  local url=http://127.0.0.1:$1
  curl -s -o /dev/null -X POST --data-binary @"$work/initiate.json" "$url/initiate"
  for _ in $(seq 1 200); do
    curl -s "$url/checkConnectionsStatus" | grep -q '"result":true' && break
    sleep 0.05
  done
  curl -s -o /dev/null "$url/stop"
  for _ in $(seq 1 200); do
    curl -s "$url/checkStopStatus" | grep -q '"result":true' && return 0
    sleep 0.05
  done
  return 1
}

# 1. Two proxies never share a store.
start_proxy "$work/a.log" --state-dir "$work/shared" || exit 1
first=$port
first_pid=${pids[-1]}
start_proxy "$work/b.log" --state-dir "$work/shared" || exit 1
grep -q "is in use by another netpol-proxy (pid $first_pid); running in memory" "$work/b.log" \
  && pass "a second proxy on the same state dir says it is locked and runs in memory" \
  || fail "no lock message: $(cat "$work/b.log")"
[[ $(persistence "$port") == "off: "*"in use by another netpol-proxy"* ]] \
  && pass "/status of the second says persistence off" || fail "second: $(persistence "$port")"
[[ $(persistence "$first") == "on: $work/shared/netpol-proxy.db" ]] \
  && pass "the first keeps its store" || fail "first: $(persistence "$first")"
kill "${pids[@]}"; wait 2>/dev/null; pids=()

# 2. A corrupt file is moved aside and a new store started.
mkdir -p "$work/corrupt"
head -c 8192 /dev/urandom > "$work/corrupt/netpol-proxy.db"
start_proxy "$work/c.log" --state-dir "$work/corrupt" || exit 1
grep -q "could not be read (.*); moved aside to $work/corrupt/netpol-proxy.db.corrupt-" "$work/c.log" \
  && pass "a corrupt store is reported and moved aside" || fail "no corrupt message: $(cat "$work/c.log")"
ls "$work/corrupt"/netpol-proxy.db.corrupt-* > /dev/null 2>&1 \
  && pass "the corrupt file is kept for a look" || fail "corrupt file gone"
[[ $(persistence "$port") == "on: "* ]] && pass "a new store is in use" || fail "corrupt: $(persistence "$port")"
kill "${pids[@]}"; wait 2>/dev/null; pids=()

# 3. A directory that cannot be written (even by root): in memory.
start_proxy "$work/r.log" --state-dir /proc/self/netpol-proxy || exit 1
grep -q "Round store: cannot create /proc/self/netpol-proxy: .*; running in memory" "$work/r.log" \
  && pass "an unwritable state dir is one error line, and the proxy runs" \
  || fail "no unwritable message: $(cat "$work/r.log")"
kill "${pids[@]}"; wait 2>/dev/null; pids=()

# 4. A store that fills up mid-round (RLIMIT_FSIZE of 256 KiB): degraded,
#    said once, and the round still completes with every pod's results.
"$podsim" --pods 300 --connections-per-pod 20 --port 0 --write-initiate "$work/initiate.json" \
  > "$work/fleet.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q "^netpol-podsim: .* pods on " "$work/fleet.log" && break; sleep 0.05; done
fleet_port=$(sed -n "s/^netpol-podsim: .* port \([0-9]*\) .*/\1/p" "$work/fleet.log" | head -1)
[ -n "$fleet_port" ] || { echo "fleet did not start: $(cat "$work/fleet.log")"; exit 1; }
(ulimit -f 256; exec "$proxy" --listen 127.0.0.1:0 --client-port "$fleet_port" --state-dir "$work/full") \
  > "$work/f.log" 2>&1 &
pids+=($!)
port=""
for _ in $(seq 1 100); do port=$(started_port "$work/f.log"); [ -n "$port" ] && break; sleep 0.05; done
if run_round "$port"; then
  pass "the round completes although the store filled up"
else
  fail "the round did not complete: $(tail -5 "$work/f.log")"
fi
[ "$(grep -c "The round store .* failed (.*); the round goes on in memory" "$work/f.log")" = 1 ] \
  && pass "a full store is one error line" || fail "full store lines: $(grep -i store "$work/f.log")"
[[ $(persistence "$port") == "degraded: "* ]] && pass "/status says degraded: $(persistence "$port")" \
  || fail "full: $(persistence "$port")"
entries=$(curl -s "http://127.0.0.1:$port/results" | grep -o '"connectionidx"' | wc -l)
[ "$entries" = 6000 ] && pass "every result is served (6000 entries)" || fail "$entries entries in /results"

echo "$passes passed, $failures failed"
[ $failures = 0 ]
