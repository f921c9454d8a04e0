#!/usr/bin/env bash
# One kube-burner round against a simulated fleet on loopback, timed.
# Usage: round_bench.sh BUILD_DIR PODS LATENCY [RESULTS_PER_POD] [WORKERS]
# Prints one line: phase times as the proxy measured them, the /results
# transfer, status-poll latency percentiles during both phases, the proxy's
# peak RSS and CPU seconds, and the bytes of the /initiate body and results.
set -euo pipefail
build=$1 pods=$2 latency=$3 per_pod=${4:-20} workers=${5:-20}
work=$(mktemp -d)
proxy_pid="" fleet_pid="" poller_pid=""
trap 'kill $poller_pid $proxy_pid $fleet_pid 2>/dev/null || true; rm -rf "$work"' EXIT

started_port() { sed -n "s/.* Client server started on :\([0-9]*\)$/\1/p" "$1"; }

fleet_port=$((20000 + RANDOM % 20000))
mode=per-pod; [ "$pods" -gt 15000 ] && mode=shared
"$build/tests/podsim/netpol-podsim" --pods "$pods" --port "$fleet_port" --mode $mode \
  --latency "$latency" --connections-per-pod "$per_pod" \
  --write-initiate "$work/initiate.json" > "$work/fleet.log" 2>&1 &
fleet_pid=$!
for _ in $(seq 1 600); do grep -q "^netpol-podsim:" "$work/fleet.log" && break; sleep 0.05; done
grep -q "^netpol-podsim:" "$work/fleet.log" || { echo "fleet did not start:"; cat "$work/fleet.log"; exit 1; }
"$build/netpol-proxy" --listen 127.0.0.1:0 --client-port "$fleet_port" --workers "$workers" \
  --max-body 1GiB > "$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 200); do port=$(started_port "$work/proxy.log"); [ -n "$port" ] && break; sleep 0.05; done
[ -n "$port" ] || { echo "proxy did not start:"; cat "$work/proxy.log"; exit 1; }
url=http://127.0.0.1:$port
poll() { while ! curl -s "$url/$1" | grep -q '"result":true'; do sleep 0.01; done; }

# Status latency as kube-burner and operators see it, during both phases.
( while :; do
    curl -s -o /dev/null -w '%{time_total}\n' "$url/checkConnectionsStatus"
    curl -s -o /dev/null -w '%{time_total}\n' "$url/status"
    sleep 0.02
  done > "$work/status-times.txt" ) &
poller_pid=$!

curl -s -o /dev/null --fail -X POST -H 'Content-Type: application/json' \
  --data-binary @"$work/initiate.json" "$url/initiate"
poll checkConnectionsStatus
curl -s -o /dev/null --fail "$url/stop"
poll checkStopStatus
kill $poller_pid; wait $poller_pid 2>/dev/null || true; poller_pid=""
transfer=$(curl -s -o "$work/results.json" -w '%{size_download} %{time_total}' "$url/results")
status=$(curl -s "$url/status")
field() { echo "$status" | sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" | head -1; }
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$proxy_pid/status)
ticks=$(awk '{print $14 + $15}' /proc/$proxy_pid/stat)
hz=$(getconf CLK_TCK)
read -r bytes seconds <<< "$transfer"
p99=$(sort -n "$work/status-times.txt" | awk '{a[NR]=$1} END {i=int(NR*0.99); if (i<1) i=1; printf "%.2f", a[i]*1000}')
p50=$(sort -n "$work/status-times.txt" | awk '{a[NR]=$1} END {i=int(NR*0.5); if (i<1) i=1; printf "%.2f", a[i]*1000}')
polls=$(wc -l < "$work/status-times.txt")
init_bytes=$(stat -c %s "$work/initiate.json")
printf 'pods=%s latency=%s workers=%s entries=%s deliver=%.3fs collect=%.3fs results=%.1fMB/%.3fs rss=%dMB cpu=%.2fs status_p50=%sms status_p99=%sms polls=%s initiate=%.1fMB collected=%s\n' \
  "$pods" "$latency" "$workers" "$(field results_entries)" "$(field delivery_seconds)" \
  "$(field collection_seconds)" "$(echo "$bytes / 1048576" | bc -l)" "$seconds" \
  $((rss_kb / 1024)) "$(echo "$ticks / $hz" | bc -l)" "$p50" "$p99" "$polls" \
  "$(echo "$init_bytes / 1048576" | bc -l)" "$(field collected)"
