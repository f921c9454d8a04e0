#!/usr/bin/env bash
# One kube-burner round against a simulated fleet on loopback, timed.
# Usage: round_bench.sh BUILD_DIR PODS LATENCY [RESULTS_PER_POD] [WORKERS]
# Environment: FLEET_THREADS (fleet event loops, default 1), FLOOR=1 (first
# time the same calls from plain threads, netpol-bench-floor, on a fresh
# fleet), STATUS_POLL=0 (no status poller), KEEP_LOGS=DIR (copy the proxy
# and fleet logs and the status times there), HOLD_IDLE=n / HOLD_SLOW=n
# (netpol-bench-hold keeps that many idle / trickling connections open to
# the proxy for the whole round), PAGE=1 (the live page open in headless
# Chromium for the whole round, polling as a browser does), PROXY=path (another proxy binary, e.g. an
# older build, with PROXY_ARGS for its flags), STORE=off (no round store;
# by default the proxy keeps its round in a state dir of this run's own
# under /dev/shm, as in a pod, and the line gives the store's size),
# JOB=seconds (the job between delivery and /stop: sampling's window, with
# PROXY_ARGS="--sample-interval 1s"; the line then gives the proxy's CPU
# seconds in it, the sweeps that ended and the last one's time).
# Prints one line of key=value: phase times as the proxy measured them, the
# /results transfer, status-poll latency percentiles during both phases, the
# proxy's peak RSS and CPU seconds, and the bytes of the /initiate body.
set -euo pipefail
build=$1 pods=$2 latency=$3 per_pod=${4:-20} workers=${5:-20}
work=$(mktemp -d)
state_dir=""
if [ "${STORE:-on}" = off ]; then
  store_args=(--state-dir "")
else
  state_dir=$(mktemp -d -p /dev/shm netpol-bench-store.XXXXXX)
  store_args=(--state-dir "$state_dir")
fi
[ -n "${PROXY:-}" ] && [ "${PROXY_STORE:-1}" = 0 ] && store_args=() # a build without --state-dir
proxy_pid="" fleet_pid="" poller_pid="" hold_pid="" page_pid=""
keep_logs() {
  [ -n "${KEEP_LOGS:-}" ] || return 0
  mkdir -p "$KEEP_LOGS" && cp "$work"/*.log "$work"/status-times.txt "$KEEP_LOGS"/ 2>/dev/null || true
}
# The page's browser and its helper processes: the session it leads.
stop_page() {
  [ -n "$page_pid" ] || return 0
  pkill -s "$page_pid"
  for _ in $(seq 1 50); do pgrep -s "$page_pid" > /dev/null || break; sleep 0.1; done
}
trap 'stop_page; kill $hold_pid $poller_pid $proxy_pid $fleet_pid 2>/dev/null || true; keep_logs; rm -rf "$work" "$state_dir"' EXIT

started_port() { sed -n "s/.* Client server started on :\([0-9]*\)$/\1/p" "$1"; }

# Starts a fleet on a random port: sets fleet_pid and fleet_port, writes
# $work/initiate.json. Above 15,000 pods the pods share one socket. Ports
# are drawn below the kernel's ephemeral range, whose ports the previous
# runs' connections may still hold in TIME_WAIT; a fleet that cannot bind
# is retried on another port.
start_fleet() {
  local mode=per-pod low attempt
  [ "$pods" -gt 15000 ] && mode=shared
  low=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
  for attempt in 1 2 3 4 5; do
    fleet_port=$((10000 + RANDOM % (low - 10000)))
    "$build/tests/podsim/netpol-podsim" --pods "$pods" --port "$fleet_port" --mode $mode \
      --threads "${FLEET_THREADS:-1}" --latency "$latency" --connections-per-pod "$per_pod" \
      --write-initiate "$work/initiate.json" > "$work/fleet.log" 2>&1 &
    fleet_pid=$!
    for _ in $(seq 1 600); do
      grep -q "^netpol-podsim: .* pods on " "$work/fleet.log" && return 0
      kill -0 "$fleet_pid" 2>/dev/null || break
      sleep 0.05
    done
    echo "fleet did not start on port $fleet_port (attempt $attempt): $(cat "$work/fleet.log")" >&2
    kill "$fleet_pid" 2>/dev/null || true
    wait "$fleet_pid" 2>/dev/null || true
  done
  echo "fleet did not start"
  exit 1
}
stop_fleet() { kill "$fleet_pid"; wait "$fleet_pid" 2>/dev/null || true; fleet_pid=""; }

floor=""
if [ "${FLOOR:-0}" = 1 ]; then
  start_fleet
  floor=$("$build/tests/netpol-bench-floor" --initiate "$work/initiate.json" \
            --client-port "$fleet_port" --workers "$workers")
  stop_fleet
fi
start_fleet
# shellcheck disable=SC2086 # PROXY_ARGS is a list of flags
"${PROXY:-$build/netpol-proxy}" --listen 127.0.0.1:0 --client-port "$fleet_port" --workers "$workers" \
  --max-body 1GiB "${store_args[@]}" ${PROXY_ARGS:-} > "$work/proxy.log" 2>&1 &
proxy_pid=$!
for _ in $(seq 1 200); do port=$(started_port "$work/proxy.log"); [ -n "$port" ] && break; sleep 0.05; done
[ -n "$port" ] || { echo "proxy did not start:"; cat "$work/proxy.log"; exit 1; }
url=http://127.0.0.1:$port
if [ "${HOLD_IDLE:-0}" != 0 ] || [ "${HOLD_SLOW:-0}" != 0 ]; then
  "$build/tests/netpol-bench-hold" --port "$port" --idle "${HOLD_IDLE:-0}" --slow "${HOLD_SLOW:-0}" \
    > "$work/hold.log" 2>&1 &
  hold_pid=$!
  for _ in $(seq 1 200); do grep -q '^holding' "$work/hold.log" && break; sleep 0.05; done
  grep -q '^holding' "$work/hold.log" || { echo "connections not held: $(cat "$work/hold.log")"; exit 1; }
fi
if [ "${PAGE:-0}" = 1 ]; then
  setsid chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$work/chromium" "$url/" > "$work/page.log" 2>&1 &
  page_pid=$!
  sleep 2 # the page loaded and polling
fi
# Phase times come from the proxy's own clock, so this wait can be lazy: a
# fast curl loop would take CPU from the phase being measured.
poll() { while ! curl -s "$url/$1" | grep -q '"result":true'; do sleep 0.2; done; }

# Status latency as kube-burner and operators see it, during both phases:
# a new connection per request, both endpoints every 20 ms. STATUS_POLL=0
# leaves the poller out.
: > "$work/status-times.txt"
if [ "${STATUS_POLL:-1}" != 0 ]; then
  "$build/tests/netpol-status-poller" --port "$port" > "$work/status-times.txt" &
  poller_pid=$!
fi

# The proxy's CPU seconds so far (user + system).
hz=$(getconf CLK_TCK)
cpu_now() { awk -v hz="$hz" '{printf "%.2f", ($14 + $15) / hz}' /proc/$proxy_pid/stat; }
cpu_start=$(cpu_now)
# The POST's own time: upload, validation and the hand-over to the coordinator.
initiate_seconds=$(curl -s -o /dev/null --fail -w '%{time_total}' -X POST \
  -H 'Content-Type: application/json' --data-binary @"$work/initiate.json" "$url/initiate")
poll checkConnectionsStatus
cpu_delivered=$(cpu_now)
sleep "${JOB:-0}"
cpu_job=$(echo "$(cpu_now) - $cpu_delivered" | bc -l)
sampling=$(curl -s "$url/status" | tr -d ' \n' | sed -n 's/.*"sampling":{\([^}]*\)}.*/\1/p')
sampled() { echo "$sampling" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
cpu_stop=$(cpu_now)
curl -s -o /dev/null --fail "$url/stop"
poll checkStopStatus
cpu_collected=$(cpu_now)
if [ -n "$poller_pid" ]; then kill $poller_pid; wait $poller_pid 2>/dev/null || true; poller_pid=""; fi
transfer=$(curl -s -o "$work/results.json" -w '%{size_download} %{time_total}' "$url/results")
status=$(curl -s "$url/status")
field() { echo "$status" | sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" | head -1; }
rss_kb=$(awk '/VmHWM/ {print $2}' /proc/$proxy_pid/status)
cpu_total=$(cpu_now)
read -r bytes seconds <<< "$transfer"
percentile() {
  { grep -E '^[0-9.]+$' "$work/status-times.txt" || true; } | sort -n |
    awk -v q="$1" '{a[NR]=$1} END {if (NR == 0) {print "-"; exit}
      i=int(NR*q); if (i<1) i=1; printf "%.2f", a[i]}'
}
p99=$(percentile 0.99) p50=$(percentile 0.5) pmax=$(percentile 1.0)
polls=$(grep -cE '^[0-9.]+$' "$work/status-times.txt" || true)
failed_polls=$(grep -c '^failed' "$work/status-times.txt" || true)
init_bytes=$(stat -c %s "$work/initiate.json")
store="off"
[ -n "$state_dir" ] && store="$(du -sb "$state_dir" | awk '{printf "%.1fMB", $1 / 1048576}')"
job=""
[ "${JOB:-0}" != 0 ] && job=$(printf 'job=%ss cpu_job=%.2fs sweeps=%s sweep=%ss' "$JOB" "$cpu_job" \
  "$(sampled sweeps)" "$(sampled last_sweep_seconds)")
printf 'pods=%s latency=%s workers=%s entries=%s deliver=%.3fs collect=%.3fs results=%.1fMB/%.3fs rss=%dMB cpu=%.2fs cpu_deliver=%.2fs cpu_collect=%.2fs status_p50=%sms status_p99=%sms status_max=%sms polls=%s failed_polls=%s initiate=%.1fMB/%.3fs collected=%s store=%s %s%s\n' \
  "$pods" "$latency" "$workers" "$(field results_entries)" "$(field delivery_seconds)" \
  "$(field collection_seconds)" "$(echo "$bytes / 1048576" | bc -l)" "$seconds" \
  $((rss_kb / 1024)) "$cpu_total" \
  "$(echo "$cpu_delivered - $cpu_start" | bc -l)" "$(echo "$cpu_collected - $cpu_stop" | bc -l)" "$p50" "$p99" "$pmax" "$polls" "$failed_polls" \
  "$(echo "$init_bytes / 1048576" | bc -l)" "$initiate_seconds" "$(field collected)" "$store" "$floor" "$job"
