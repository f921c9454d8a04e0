#!/usr/bin/env bash
# One kube-burner round against a simulated fleet on loopback, timed.
# Usage: round_bench.sh BUILD_DIR PODS LATENCY [CONNECTIONS_PER_POD] [WORKERS]
# Prints: phase times as the proxy measured them, the /results transfer,
# the proxy's peak RSS and CPU seconds.
set -euo pipefail
build=$1 pods=$2 latency=$3 per_pod=${4:-20} workers=${5:-20}
work=$(mktemp -d)
trap 'kill $proxy_pid $fleet_pid 2>/dev/null || true; rm -rf "$work"' EXIT

started_port() { sed -n "s/.* Client server started on :\([0-9]*\)$/\1/p" "$1"; }

fleet_port=$((20000 + RANDOM % 20000))
mode=per-pod; [ "$pods" -gt 15000 ] && mode=shared
"$build/tests/podsim/netpol-podsim" --pods "$pods" --port "$fleet_port" --mode $mode \
  --latency "$latency" --connections-per-pod "$per_pod" \
  --write-initiate "$work/initiate.json" > "$work/fleet.log" 2>&1 &
fleet_pid=$!
for _ in $(seq 1 200); do grep -q "^netpol-podsim:" "$work/fleet.log" && break; sleep 0.05; done
"$build/netpol-proxy" --listen 127.0.0.1:0 --client-port "$fleet_port" --workers "$workers" \
  > "$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 200); do port=$(started_port "$work/proxy.log"); [ -n "$port" ] && break; sleep 0.05; done
[ -n "$port" ] || { echo "proxy did not start:"; cat "$work/proxy.log"; exit 1; }
url=http://127.0.0.1:$port
poll() { while ! curl -s "$url/$1" | grep -q '"result":true'; do sleep 0.01; done; }

curl -s -o /dev/null --fail -X POST -H 'Content-Type: application/json' \
  --data-binary @"$work/initiate.json" "$url/initiate"
poll checkConnectionsStatus
curl -s -o /dev/null --fail "$url/stop"
poll checkStopStatus
transfer=$(curl -s -o "$work/results.json" -w '%{size_download} %{time_total}' "$url/results")
status=$(curl -s "$url/status")
field() { echo "$status" | sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" | head -1; }
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$proxy_pid/status)
ticks=$(awk '{print $14 + $15}' /proc/$proxy_pid/stat)
hz=$(getconf CLK_TCK)
read -r bytes seconds <<< "$transfer"
printf 'pods=%s latency=%s workers=%s entries=%s deliver=%.3fs collect=%.3fs results=%.1fMB/%.3fs rss=%dMB cpu=%.2fs collected=%s\n' \
  "$pods" "$latency" "$workers" "$(field results_entries)" "$(field delivery_seconds)" \
  "$(field collection_seconds)" "$(echo "$bytes / 1048576" | bc -l)" "$seconds" \
  $((rss_kb / 1024)) "$(echo "$ticks / $hz" | bc -l)" "$(field collected)"
