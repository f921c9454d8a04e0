# shellcheck shell=bash disable=SC2154 # proxy, podsim, work: set by the sourcing script
# Shared by the shell tests: a simulated fleet and a proxy on
# loopback, each on a port the kernel picks. Source it after setting
# $proxy, $podsim and $work; it defines start_fleet, start_proxy, wait_for.
pids=()
started_port() { sed -n 's/.* Client server started on :\([0-9]*\)$/\1/p' "$1"; }

# start_fleet ARGS...: sets $fleet_port, writes $work/initiate.json.
start_fleet() {
  "$podsim" --port 0 --write-initiate "$work/initiate.json" "$@" > "$work/fleet.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "^netpol-podsim: .* pods on " "$work/fleet.log" && break; sleep 0.05; done
  fleet_port=$(sed -n "s/^netpol-podsim: .* port \([0-9]*\) .*/\1/p" "$work/fleet.log" | head -1)
  [ -n "$fleet_port" ] || { echo "fleet did not start: $(cat "$work/fleet.log")"; exit 1; }
}

# start_proxy ARGS...: sets $port, $url and $proxy_pid.
start_proxy() {
  "$proxy" --listen 127.0.0.1:0 --client-port "${fleet_port:-9001}" --state-dir '' "$@" \
    > "$work/proxy.log" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  port=""
  for _ in $(seq 1 100); do port=$(started_port "$work/proxy.log"); [ -n "$port" ] && break; sleep 0.05; done
  [ -n "$port" ] || { echo "proxy did not start: $(cat "$work/proxy.log")"; exit 1; }
  url=http://127.0.0.1:$port
}

# wait_for ENDPOINT: until its "result" is true (at most 60 s).
wait_for() {
  for _ in $(seq 1 600); do
    curl -s "$url/$1" | grep -q '"result":true' && return 0
    sleep 0.1
  done
  echo "$1 never became true"
  exit 1
}
