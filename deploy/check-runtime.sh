#!/usr/bin/env bash
# Proves the runtime stage of deploy/Containerfile without a container engine.
#
# Builds a Debian bookworm root like the image's base (debootstrap
# --variant=minbase, which debian:bookworm-slim is made from; cached under the
# build directory), installs exactly the packages of deploy/runtime-packages.txt
# into it, copies the built netpol-proxy in and runs it there as uid/gid 1000
# with no capabilities and no_new_privs,
# configured through environment variables only (as deploy/kubernetes does).
# The root is mounted read-only for the run (readOnlyRootFilesystem: true).
# Then it measures the time to the first /healthz answer, runs one round
# against a simulated pod fleet (netpol-podsim, outside the root, on 127.86.0.x)
# and checks /results names exactly the pods that were up.
#
# Usage: deploy/check-runtime.sh          (as root: debootstrap, chroot, mount)
# Environment:
#   BUILD_DIR           build tree with netpol-proxy and tests/podsim (default: build)
#   DEPLOY_CHECK_DIR    cache for the roots (default: $BUILD_DIR/deploy-check)
#   MIRROR              Debian mirror (default: the one apt uses for bookworm)
#   SECURITY_MIRROR     mirror for bookworm-security (default: the one apt uses)
#   STARTUP_BUDGET_MS   fail when the first /healthz answer takes longer (default: 500)
#   STARTS              proxy starts to time (default: 3; the last one runs the round)
#   REBUILD_ROOT=1      discard the cached package root and build it again
# Exit status: 0 when every check passed, 1 otherwise.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=$(realpath -m "${BUILD_DIR:-$repo/build}")
cache=$(realpath -m "${DEPLOY_CHECK_DIR:-$build_dir/deploy-check}")
packages_file=$repo/deploy/runtime-packages.txt
proxy_bin=$build_dir/netpol-proxy
podsim_bin=$build_dir/tests/podsim/netpol-podsim
base_dir=$cache/minbase
root_dir=$cache/root
work=$cache/run
startup_budget_ms=${STARTUP_BUDGET_MS:-500}
starts=${STARTS:-3}

# The round: pods on 127.86.0.1.., the proxy on 127.86.0.254:9002 (addresses
# no other test or walkthrough uses, so this can run next to them).
proxy_host=127.86.0.254
proxy_port=9002
proxy_url=http://$proxy_host:$proxy_port
first_pod=127.86.0.1
pod_count=6
down_pods=1
connections_per_pod=2

say() { printf '%s deploy-check: %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot and mount need it); try: sudo $0"
[ -x "$proxy_bin" ] || die "$proxy_bin not found; build first (make build)"
[ -x "$podsim_bin" ] || die "$podsim_bin not found; build first (make build)"
[ -f "$packages_file" ] || die "$packages_file not found"
chroot_bin=$(command -v chroot || true)
read -r -a packages <<< "$(sed 's/#.*//' "$packages_file" | xargs)"
[ ${#packages[@]} -gt 0 ] || die "$packages_file lists no packages"
for tool in chroot curl python3 mountpoint; do
  command -v "$tool" > /dev/null || die "$tool is needed on this machine"
done

# --- mounts -----------------------------------------------------------------

# Unmounts everything mounted at or below $1, deepest first.
unmount_below() {
  local dir target
  dir=$(realpath -m "$1")
  awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r target; do
      umount "$target" 2> /dev/null || umount -l "$target"
    done
}

# Removes a root directory, never following a mount out of it.
remove_root() {
  unmount_below "$1"
  if awk -v d="$(realpath -m "$1")" '$2 == d || index($2, d "/") == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    die "$1 still has mounts below it; not removing it"
  fi
  rm -rf --one-file-system "$1"
}

# /proc only: debootstrap made the device nodes a container runtime provides
# (null, zero, full, random, urandom, tty, ptmx). The host's /dev is bound in
# only where they could not be made (no CAP_MKNOD).
mount_kernel_fs() {
  mountpoint -q "$1/proc" || mount -t proc proc "$1/proc"
  if [ ! -c "$1/dev/null" ] || [ ! -c "$1/dev/urandom" ]; then
    mountpoint -q "$1/dev" || mount --bind /dev "$1/dev"
  fi
}

proxy_pid=""
podsim_pid=""
cleanup() {
  local rc=$?
  if [ -n "$proxy_pid" ] && kill -0 "$proxy_pid" 2> /dev/null; then kill -KILL "$proxy_pid" 2> /dev/null || true; fi
  if [ -n "$podsim_pid" ] && kill -0 "$podsim_pid" 2> /dev/null; then
    kill -TERM "$podsim_pid" 2> /dev/null || true
    wait "$podsim_pid" 2> /dev/null || true
  fi
  for dir in "$root_dir" "$root_dir.tmp" "$base_dir.tmp"; do
    [ -d "$dir" ] && unmount_below "$dir"
  done
  exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the mirror apt uses ------------------------------------------------------

# Prints the first URI serving suite $1 (type deb) in the host's apt sources,
# one-line (.list) and deb822 (.sources) formats both.
apt_mirror_for() {
  local suite=$1 file
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$file" |
      awk -v s="$suite" '$1 == "deb" && $3 == s { print $2; exit }'
  done
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    awk -v s="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^#/ || !match($i, /^[A-Za-z-]+:/)) continue
          key = tolower(substr($i, 1, RLENGTH - 1)); val = substr($i, RLENGTH + 1)
          gsub(/^[ \t]+|[ \t]+$/, "", val)
          if (key == "uris") uris = val
          else if (key == "suites") suites = val
          else if (key == "types") types = val
          else if (key == "enabled") enabled = tolower(val)
        }
        if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ (" " s " ")) {
          split(uris, u, " "); print u[1]; exit
        }
      }' "$file"
  done
}

mirror=${MIRROR:-$(apt_mirror_for bookworm | head -n 1)}
[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list{,.d}; set MIRROR=http://deb.debian.org/debian"
security_mirror=${SECURITY_MIRROR:-$(apt_mirror_for bookworm-security | head -n 1)}
say "mirror $mirror${security_mirror:+, security $security_mirror}"

# --- the minbase root (cached) --------------------------------------------------

mkdir -p "$cache"
if [ ! -f "$base_dir/.deploy-check-minbase" ] || [ "$(cat "$base_dir/.deploy-check-minbase")" != "$mirror" ]; then
  if ! command -v debootstrap > /dev/null; then
    say "installing debootstrap"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap > /dev/null
  fi
  [ -d "$base_dir" ] && remove_root "$base_dir"
  [ -d "$base_dir.tmp" ] && remove_root "$base_dir.tmp"
  extra=()
  # A https mirror needs CA certificates inside the root for apt-get there.
  [[ $mirror == https:* ]] && extra=(--include=ca-certificates)
  say "debootstrap --variant=minbase bookworm (a few minutes, once)"
  t0=$(now_ms)
  if ! debootstrap --variant=minbase "${extra[@]}" bookworm "$base_dir.tmp" "$mirror" > "$cache/debootstrap.log" 2>&1; then
    tail -n 20 "$cache/debootstrap.log" >&2
    die "debootstrap failed (log: $cache/debootstrap.log)"
  fi
  unmount_below "$base_dir.tmp"
  echo "$mirror" > "$base_dir.tmp/.deploy-check-minbase"
  mv "$base_dir.tmp" "$base_dir"
  say "minbase root ready in $(( ($(now_ms) - t0) / 1000 ))s"
else
  say "minbase root cached: $base_dir"
fi

# --- the runtime root: minbase + exactly runtime-packages.txt (cached) ------------

stamp=$( { printf '%s\n' "$mirror" "$security_mirror"; sed 's/#.*//' "$packages_file" | xargs; } | sha256sum | cut -d' ' -f1)
if [ "${REBUILD_ROOT:-0}" = 1 ] || [ ! -f "$root_dir/.deploy-check-root" ] || [ "$(cat "$root_dir/.deploy-check-root")" != "$stamp" ]; then
  [ -d "$root_dir" ] && remove_root "$root_dir"
  [ -d "$root_dir.tmp" ] && remove_root "$root_dir.tmp"
  say "runtime root: copying minbase, installing ${packages[*]}"
  t0=$(now_ms)
  cp -a "$base_dir" "$root_dir.tmp"
  rm -f "$root_dir.tmp/.deploy-check-minbase"
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    [ -z "$security_mirror" ] || echo "deb $security_mirror bookworm-security main"
  } > "$root_dir.tmp/etc/apt/sources.list"
  cp /etc/resolv.conf "$root_dir.tmp/etc/resolv.conf"
  mount_kernel_fs "$root_dir.tmp"
  chroot "$root_dir.tmp" dpkg-query -W -f '${Package}\n' | sort > "$cache/packages-before.txt"
  if ! { chroot "$root_dir.tmp" apt-get update -qq &&
         DEBIAN_FRONTEND=noninteractive chroot "$root_dir.tmp" \
           apt-get install -y -qq --no-install-recommends "${packages[@]}"; } > "$cache/apt.log" 2>&1; then
    tail -n 20 "$cache/apt.log" >&2
    die "apt-get in the root failed (log: $cache/apt.log)"
  fi
  chroot "$root_dir.tmp" apt-get clean
  chroot "$root_dir.tmp" dpkg-query -W -f '${Package}\n' | sort > "$cache/packages-after.txt"
  # The image's user: uid/gid 1000, no home, no shell (the same command as the Containerfile).
  chroot "$root_dir.tmp" useradd --uid 1000 --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin netpol
  unmount_below "$root_dir.tmp"
  echo "$stamp" > "$root_dir.tmp/.deploy-check-root"
  mv "$root_dir.tmp" "$root_dir"
  say "runtime root ready in $(( ($(now_ms) - t0) / 1000 ))s; packages added to minbase:" \
      "$(comm -13 "$cache/packages-before.txt" "$cache/packages-after.txt" | xargs)"
else
  say "runtime root cached: $root_dir (REBUILD_ROOT=1 to rebuild)"
fi

# --- the binary in the root ----------------------------------------------------

install -m 0755 "$proxy_bin" "$root_dir/usr/local/bin/netpol-proxy"
# Read-only from here on, as the pod's readOnlyRootFilesystem: true.
mount --bind "$root_dir" "$root_dir"
mount -o remount,bind,ro "$root_dir"
mount_kernel_fs "$root_dir"
touch "$root_dir/tmp/.deploy-check-write" 2> /dev/null && die "the root is still writable"
missing=$(chroot "$root_dir" ldd /usr/local/bin/netpol-proxy | grep 'not found' || true)
[ -z "$missing" ] || die "libraries missing from the runtime root: $missing"
say "ldd in the root: every library found"
chroot "$root_dir" getent passwd 1000 > /dev/null || die "no uid 1000 in the root"

rm -rf "$work"
mkdir -p "$work"

# --- the simulated fleet, outside the root --------------------------------------

"$podsim_bin" --pods $pod_count --down $down_pods --first-address $first_pod \
  --connections-per-pod $connections_per_pod \
  --write-initiate "$work/initiate.json" --write-pods "$work/pods.txt" > "$work/podsim.log" 2>&1 &
podsim_pid=$!
for _ in $(seq 1 200); do
  [ -s "$work/pods.txt" ] && curl -sf -o /dev/null --max-time 1 "http://$first_pod:9001/results" && break
  kill -0 $podsim_pid 2> /dev/null || die "netpol-podsim exited: $(cat "$work/podsim.log")"
  sleep 0.05
done
curl -sf -o /dev/null --max-time 1 "http://$first_pod:9001/results" \
  || die "netpol-podsim does not answer on $first_pod:9001: $(cat "$work/podsim.log")"
say "fleet: $(head -n 1 "$work/podsim.log")"

# --- the proxy, as the pod runs it --------------------------------------------

# As in the pod: a read-only root, uid/gid 1000, no supplementary groups, every capability
# dropped (bounding and inheritable sets too), no_new_privs
# (allowPrivilegeEscalation: false), a clean environment, no arguments:
# the configuration comes from NETPOL_PROXY_* variables.
start_proxy() {
  local log=$1 t0 answered=0
  t0=$(now_ms)
  env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/nonexistent \
    NETPOL_PROXY_LISTEN=$proxy_host:$proxy_port \
    NETPOL_PROXY_RETRIES=1 NETPOL_PROXY_BACKOFF_BASE=100ms \
    NETPOL_PROXY_CONNECT_TIMEOUT=1s NETPOL_PROXY_REQUEST_TIMEOUT=2s \
    NETPOL_PROXY_PROGRESS_INTERVAL=500ms \
    "$chroot_bin" "$root_dir" /usr/bin/setpriv --reuid=1000 --regid=1000 --clear-groups \
      --inh-caps=-all --bounding-set=-all --no-new-privs \
      /usr/local/bin/netpol-proxy > "$log" 2>&1 &
  proxy_pid=$!
  while [ $(( $(now_ms) - t0 )) -lt 10000 ]; do
    if curl -sf -o /dev/null --max-time 1 "$proxy_url/healthz"; then answered=1; break; fi
    kill -0 $proxy_pid 2> /dev/null || die "the proxy exited at startup: $(cat "$log")"
    sleep 0.002
  done
  [ $answered = 1 ] || die "no /healthz answer within 10s: $(cat "$log")"
  startup_ms=$(( $(now_ms) - t0 ))
  # CPU the proxy used to get there (clock ticks): tells a slow start from a busy machine.
  startup_cpu_ms=$(awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$proxy_pid/stat")
}

stop_proxy() {
  local t0 rc=0
  t0=$(now_ms)
  kill -TERM $proxy_pid
  for _ in $(seq 1 100); do kill -0 $proxy_pid 2> /dev/null || break; sleep 0.05; done
  kill -0 $proxy_pid 2> /dev/null && die "the proxy still runs 5s after SIGTERM"
  wait $proxy_pid || rc=$?
  [ $rc = 0 ] || die "the proxy exited with $rc after SIGTERM"
  proxy_pid=""
  stop_ms=$(( $(now_ms) - t0 ))
}

startup_times=()
startup_cpu=()
for i in $(seq 1 "$starts"); do
  start_proxy "$work/proxy-$i.log"
  startup_times+=("$startup_ms")
  startup_cpu+=("$startup_cpu_ms")
  if [ "$i" -lt "$starts" ]; then stop_proxy; fi
done
say "startup: first /healthz answer after ${startup_times[*]} ms, using ${startup_cpu[*]} ms of CPU" \
    "(${starts} starts; budget ${startup_budget_ms} ms; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores)"

status=$(awk '/^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs):/ { printf "%s%s", sep, $0; sep = "; " }' "/proc/$proxy_pid/status" | tr -s '\t' ' ')
say "process: $status"
grep -q '^Uid:[[:space:]]*1000[[:space:]]*1000[[:space:]]*1000[[:space:]]*1000' "/proc/$proxy_pid/status" \
  || die "the proxy does not run as uid 1000"
grep -q '^CapEff:[[:space:]]*0*$' "/proc/$proxy_pid/status" || die "the proxy holds capabilities"
root_of_proxy=$(readlink "/proc/$proxy_pid/root")
[ "$root_of_proxy" = "$root_dir" ] || die "the proxy's root is $root_of_proxy, not $root_dir"
say "root: $root_of_proxy, mounted $(awk -v d="$root_dir" '$2 == d { split($4, o, ","); print o[1] }' /proc/mounts)"

failures=0
check() {  # check <description> <command...>
  local what=$1; shift
  if "$@"; then say "ok: $what"; else say "FAIL: $what"; failures=$((failures + 1)); fi
}

for i in "${!startup_times[@]}"; do
  check "start $((i + 1)) answered /healthz in ${startup_times[$i]} ms (<= ${startup_budget_ms} ms)" \
    test "${startup_times[$i]}" -le "$startup_budget_ms"
done
check "/readyz answers 200" curl -sf -o /dev/null "$proxy_url/readyz"

# Polls a status endpoint until "result":true, as kube-burner does (faster).
wait_result() {
  local url=$1 body
  for _ in $(seq 1 300); do
    body=$(curl -sf "$url") || return 1
    [[ $body == '{"result":true'* ]] && { echo "$body"; return 0; }
    sleep 0.1
  done
  return 1
}

# --- one round, driven like kube-burner ------------------------------------------

round_start=$(now_ms)
code=$(curl -s -o "$work/initiate.out" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data-binary @"$work/initiate.json" "$proxy_url/initiate")
check "POST /initiate answers 200 (got $code)" test "$code" = 200
delivered=$(wait_result "$proxy_url/checkConnectionsStatus") || delivered=""
check "/checkConnectionsStatus reaches result:true" test -n "$delivered"
code=$(curl -s -o /dev/null -w '%{http_code}' "$proxy_url/stop")
check "GET /stop answers 200 (got $code)" test "$code" = 200
collected=$(wait_result "$proxy_url/checkStopStatus") || collected=""
check "/checkStopStatus reaches result:true" test -n "$collected"
code=$(curl -s -o "$work/results.json" -w '%{http_code}' "$proxy_url/results")
check "GET /results answers 200 (got $code)" test "$code" = 200
say "round took $(( $(now_ms) - round_start )) ms; stop status: $collected"

check_results() {
  python3 - "$work/results.json" "$work/pods.txt" "$connections_per_pod" <<'EOF'
import json, sys
results_path, pods_path, per_pod = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(results_path) as f:
    results = json.load(f)
with open(pods_path) as f:
    pods = [line.split() for line in f if line.strip()]
up = {ip for ip, fault in pods if fault == "none"}
problems = []
if set(results) != up:
    problems.append(f"pods {sorted(results)} instead of {sorted(up)}")
for ip, entries in results.items():
    if len(entries) != per_pod:
        problems.append(f"{ip}: {len(entries)} entries instead of {per_pod}")
    for entry in entries:
        missing = {"address", "port", "connectionidx", "npname", "timestamp"} - set(entry)
        if missing:
            problems.append(f"{ip}: entry without {sorted(missing)}")
for problem in problems:
    print("  " + problem)
print(f"  /results: {len(results)} pods, {sum(len(e) for e in results.values())} entries "
      f"(expected: the {len(up)} pods up of {len(pods)}, {per_pod} entries each)")
sys.exit(1 if problems else 0)
EOF
}
check "/results holds exactly the pods that were up, each with its entries" check_results

stop_proxy
say "ok: SIGTERM: exit 0 after ${stop_ms} ms"

say "proxy log (last start):"
sed 's/^/  | /' "$work/proxy-$starts.log"

if [ $failures -ne 0 ]; then
  say "FAILED: $failures check(s) failed (files in $work)"
  exit 1
fi
say "PASSED: the runtime root runs netpol-proxy as uid 1000 with ${packages[*]}"
