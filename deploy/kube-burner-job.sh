#!/usr/bin/env bash
# One kube-burner run with netpol-proxy pre-created as its network-policy
# proxy (docs/kube-burner.md, way a):
#   1. wait until the previous run's network-policy-proxy namespace is gone;
#   2. render deploy/kubernetes (kubectl kustomize), set the image, apply it;
#   3. wait until the pod is Ready (kube-burner itself will not wait);
#   4. follow the proxy's log and, through a port-forward of our own, save
#      /status and /report every interval into the run directory, so that
#      they outlive the namespace kube-burner deletes at the end of the job;
#   5. run the kube-burner command and exit with its exit code.
# Run with --help for the options and exit codes. Needs bash 4.4 or later,
# curl, and kubectl or oc; uses setsid (util-linux) when there is one.
set -u -o pipefail
if ((BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 404)); then
  echo "${0##*/}: needs bash 4.4 or later, this is $BASH_VERSION" >&2
  exit 64
fi

readonly NS=network-policy-proxy POD=network-policy-proxy
readonly PROXY_PORT=9002 # the pod's port, and kube-burner's local port
readonly EXIT_USAGE=64 EXIT_RUN_DIR=65 EXIT_KUBECTL=66 EXIT_NAMESPACE=67 EXIT_NOT_READY=68

prog=${0##*/}
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<EOF
Usage: $prog [options] -- KUBE-BURNER-COMMAND [ARGS...]
  e.g. $prog --image registry.example.com/perf/netpol-proxy:latest \\
         -- kube-burner init -c network-policy.yml

Pre-creates netpol-proxy as kube-burner's network-policy proxy pod, runs the
command, and keeps the proxy's log and its /status and /report answers in a
run directory. Exits with the command's exit code.

Options (durations: N, Nms, Ns, Nm or Nh; N alone is seconds):
  --image IMAGE            the proxy image to run (default: \$NETPOL_PROXY_IMAGE,
                           else the image deploy/kubernetes names, which is
                           kube-burner's own quay.io/cloud-bulldozer/netpolproxy)
  --run-dir DIR            where this run's files go; must not exist yet
                           (default: ./netpol-proxy-runs/<UTC time>)
  --kubectl CMD            kubectl or oc (default: kubectl)
  --manifests DIR          the kustomization to apply (default: $script_dir/kubernetes)
  --timeout-namespace DUR  wait this long for the previous namespace to go (5m)
  --timeout-ready DUR      wait this long for the pod to be Ready (3m)
  --snapshot-interval DUR  save /status and /report this often (10s)
  --busy-interval DUR      ... and this often while a round is under way
                           (from kube-burner's /initiate until collection
                           ends), so that the round's final state is caught
                           before kube-burner deletes the namespace (1s)
  --local-port N           local port of the script's own port-forward to the
                           pod's 9002; not 9002, which is kube-burner's (19002)
  --max-restarts N         restarts of the port-forward, and of the log
                           follower, each, before giving up on it (5)
  --delete-existing        delete a network-policy-proxy namespace that is
                           still active (left by an earlier run that failed)
                           instead of failing
  -h, --help               this text

Exit codes:
  the command's own      the command ran (0 when it succeeded)
  $EXIT_USAGE                     bad options
  $EXIT_RUN_DIR                     the run directory exists already or cannot be created
  $EXIT_KUBECTL                     kubectl missing, or failing (reading the namespace,
                         rendering or applying the manifests)
  $EXIT_NAMESPACE                     the previous namespace was not gone in time, or is active
  $EXIT_NOT_READY                     the pod was not Ready in time (its description and
                         events are saved in the run directory)
  128+N                  stopped by signal N before the command started

Signals: SIGTERM while the command runs is passed on to it; a Ctrl-C (SIGINT)
reaches it from the terminal, as without this script. Either way the script
then saves a last snapshot and exits with the command's exit code.
EOF
}

# ---------------------------------------------------------------- messages

run_dir= # set once created; from then on messages also go to job.log
# Messages go to the script's own stderr even from a trap that runs while a
# command's stderr is redirected.
if ! exec {stderr_copy}>&2; then exec {stderr_copy}>/dev/null; fi # (closed: nowhere to say so)

say() {
  local stamp line
  stamp=$(date -u +%H:%M:%S)
  line="$prog: $stamp $*"
  printf '%s\n' "$line" >&"$stderr_copy"
  if [[ -n $run_dir ]]; then printf '%s\n' "$line" >>"$run_dir/job.log"; fi
  return 0
}

usage_error() {
  printf '%s: %s\n' "$prog" "$1" >&2
  printf 'Try %s --help.\n' "$prog" >&2
  exit "$EXIT_USAGE"
}

fail() { # CODE MESSAGE...
  local code=$1
  shift
  say "FAILED: $*"
  if [[ -n $run_dir ]]; then say "run directory: $run_dir"; fi
  exit "$code"
}

# last_lines FILE: the end of a command's output, on one line, for a message.
last_lines() {
  [[ -s $1 ]] || return 0
  tail -n 3 -- "$1" | tr '\n' ' ' | cut -c 1-400
}

# ------------------------------------------------------------ option values

# to_ms OPTION VALUE: sets ms to the duration VALUE in milliseconds.
to_ms() {
  [[ $2 =~ ^([0-9]{1,9})(ms|s|m|h)?$ ]] ||
    usage_error "$1: not a duration: '$2' (e.g. 500ms, 10s, 5m, 1h)"
  local n=$((10#${BASH_REMATCH[1]}))
  case ${BASH_REMATCH[2]:-s} in
    ms) ms=$n ;;
    s) ms=$((n * 1000)) ;;
    m) ms=$((n * 60000)) ;;
    h) ms=$((n * 3600000)) ;;
  esac
  ((ms > 0)) || usage_error "$1 must be more than 0"
}

# seconds MS: sets secs to MS milliseconds as seconds, for sleep.
seconds() { printf -v secs '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# now_ms: sets now to the time in milliseconds (whole seconds before bash 5).
now_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local t=${EPOCHREALTIME/[.,]/}
    now=$((10#$t / 1000))
  else
    printf -v now '%(%s)T' -1
    now=$((now * 1000))
  fi
}

# ------------------------------------------------------------------ options

image=${NETPOL_PROXY_IMAGE:-}
run_dir_opt=
kubectl=kubectl
manifests=$script_dir/kubernetes
timeout_namespace=5m
timeout_ready=3m
snapshot_interval=10s
busy_interval=1s
local_port=19002
max_restarts=5
delete_existing=0

while (($#)); do
  if [[ $1 == --*=* ]]; then # --option=value
    set -- "${1%%=*}" "${1#*=}" "${@:2}"
  fi
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      break
      ;;
    --delete-existing) delete_existing=1 ;;
    --image | --run-dir | --kubectl | --manifests | --timeout-namespace | --timeout-ready | \
      --snapshot-interval | --busy-interval | --local-port | --max-restarts)
      (($# >= 2)) || usage_error "$1 needs a value"
      case $1 in
        --image) image=$2 ;;
        --run-dir) run_dir_opt=$2 ;;
        --kubectl) kubectl=$2 ;;
        --manifests) manifests=$2 ;;
        --timeout-namespace) timeout_namespace=$2 ;;
        --timeout-ready) timeout_ready=$2 ;;
        --snapshot-interval) snapshot_interval=$2 ;;
        --busy-interval) busy_interval=$2 ;;
        --local-port) local_port=$2 ;;
        --max-restarts) max_restarts=$2 ;;
      esac
      shift
      ;;
    *) usage_error "unknown option: $1 (the kube-burner command goes after --)" ;;
  esac
  shift
done
(($#)) || usage_error "no command: give the kube-burner command after --"
command_line=("$@")

to_ms --timeout-namespace "$timeout_namespace"
timeout_namespace_ms=$ms
to_ms --timeout-ready "$timeout_ready"
timeout_ready_ms=$ms
to_ms --snapshot-interval "$snapshot_interval"
interval_ms=$ms
to_ms --busy-interval "$busy_interval"
busy_interval_ms=$ms
if [[ ! $local_port =~ ^[0-9]{1,5}$ ]] || ((10#$local_port < 1 || 10#$local_port > 65535)); then
  usage_error "--local-port: not a port: '$local_port'"
fi
local_port=$((10#$local_port))
((local_port != PROXY_PORT)) ||
  usage_error "--local-port: $PROXY_PORT is kube-burner's own port-forward; choose another"
[[ $max_restarts =~ ^[0-9]{1,4}$ ]] || usage_error "--max-restarts: not a count: '$max_restarts'"
max_restarts=$((10#$max_restarts))
if [[ -n $image && ! $image =~ ^[A-Za-z0-9][A-Za-z0-9._/:@-]*$ ]]; then
  usage_error "--image: not an image reference: '$image'"
fi
[[ -f $manifests/kustomization.yaml ]] ||
  usage_error "--manifests: no kustomization.yaml in '$manifests'"

# ------------------------------------------------------- background children

child_pid=  # a foreground step run in the background so signals get through
kb_pid=     # the kube-burner command
kb_rc=      # its exit code, once it ended
pf_pid=     # our port-forward
log_pid=    # kubectl logs -f
# The command's stdin (background jobs get /dev/null).
if { : <&0; } 2>/dev/null; then exec {stdin_copy}<&0; else exec {stdin_copy}</dev/null; fi
# The log follower and the port-forward run in a session of their own, so a
# Ctrl-C meant for kube-burner does not end them before the final snapshot.
detach=()
if command -v setsid >/dev/null; then detach=(setsid); fi

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }

# stop PID: TERM, and KILL after 2 s; reaps it.
stop() {
  local pid=$1 i
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 40; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# run_child CMD...: runs CMD and returns its exit code. CMD runs in the
# background so that a signal to this script is handled at once rather than
# when a long kubectl wait ends.
run_child() {
  local rc
  "$@" &
  child_pid=$!
  while :; do
    wait "$child_pid"
    rc=$?
    # Above 128 with the child still running: the wait was cut short by a
    # signal this script handled; wait again.
    if ((rc > 128)) && alive "$child_pid"; then continue; fi
    break
  done
  child_pid=
  return "$rc"
}

# While the command runs, TERM is passed on to it; INT and HUP are not: a
# Ctrl-C or a hangup reaches the command from the terminal, as it would
# without this script, and passing it on would deliver it twice.
# shellcheck disable=SC2317 # on_signal and on_exit run from traps only
on_signal() { # NAME NUMBER
  # kb_pid is set from the command's start until the main loop has its exit
  # code: the loop then saves the last snapshot and exits with that code.
  if [[ -n $kb_pid ]]; then
    if ! alive "$kb_pid"; then
      say "got SIG$1: the command has ended; saving what there is"
    elif [[ $1 == TERM ]]; then
      say "got SIGTERM: passing it on to the command (pid $kb_pid), then saving what there is"
      kill -s TERM "$kb_pid" 2>/dev/null
    else
      say "got SIG$1: waiting for the command (pid $kb_pid), which gets it from the terminal; SIGTERM stops it"
    fi
    return 0
  fi
  say "got SIG$1: stopping"
  if [[ -n $kb_rc ]]; then exit "$kb_rc"; fi
  exit $((128 + $2))
}

# shellcheck disable=SC2317
on_exit() {
  local rc=$?
  trap - EXIT
  trap '' INT TERM HUP # cleaning up: no second interruption
  stop "$child_pid"
  if alive "$kb_pid"; then
    say "stopping the command (pid $kb_pid)"
    stop "$kb_pid"
  fi
  stop "$pf_pid"
  stop "$log_pid"
  rm -f -- "${run_dir:-/nonexistent}"/.*.tmp 2>/dev/null
  exit "$rc"
}

trap on_exit EXIT
trap 'on_signal TERM 15' TERM
trap 'on_signal INT 2' INT
trap 'on_signal HUP 1' HUP

# -------------------------------------------------------------- run directory

if [[ -n $run_dir_opt ]]; then
  if ! mkdir -p -- "$(dirname -- "$run_dir_opt")" || ! mkdir -- "$run_dir_opt"; then
    fail "$EXIT_RUN_DIR" "cannot create the run directory '$run_dir_opt' (it must not exist yet: a run never overwrites another)"
  fi
  created=$run_dir_opt
else
  mkdir -p netpol-proxy-runs || fail "$EXIT_RUN_DIR" "cannot create ./netpol-proxy-runs"
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  created=
  for suffix in "" -{2..99}; do
    if mkdir -- "netpol-proxy-runs/$stamp$suffix" 2>/dev/null; then
      created=netpol-proxy-runs/$stamp$suffix
      break
    fi
  done
  [[ -n $created ]] || fail "$EXIT_RUN_DIR" "cannot create a run directory in ./netpol-proxy-runs"
fi
run_dir=$(cd -- "$created" && pwd) || fail "$EXIT_RUN_DIR" "cannot enter '$created'"
mkdir -p -- "$run_dir/snapshots"

{
  printf 'started:   %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'command:  '
  printf ' %q' "${command_line[@]}"
  printf '\nimage:     %s\n' "${image:-(from the manifests)}"
  printf 'kubectl:   %s\n' "$kubectl"
  printf 'manifests: %s\n' "$manifests"
  printf 'options:   timeout-namespace=%s timeout-ready=%s snapshot-interval=%s busy-interval=%s local-port=%s max-restarts=%s delete-existing=%s\n' \
    "$timeout_namespace" "$timeout_ready" "$snapshot_interval" "$busy_interval" \
    "$local_port" "$max_restarts" "$delete_existing"
} >"$run_dir/run.txt"
say "run directory: $run_dir"

command -v -- "$kubectl" >/dev/null ||
  fail "$EXIT_KUBECTL" "'$kubectl' not found (--kubectl kubectl|oc)"
command -v curl >/dev/null || say "curl not found: no /status or /report snapshots"
context=$("$kubectl" config current-context 2>/dev/null) && printf 'context:   %s\n' "$context" >>"$run_dir/run.txt"

# ------------------------------------------- 1. the previous namespace is gone

# kubectl get, not kubectl wait --for=delete: an absent namespace, one that
# is terminating, one that is active and an API error must be told apart.
namespace_phase() { # sets ns_phase: "" (gone), Active or Terminating; fails on an API error
  ns_phase=$("$kubectl" --request-timeout=30s get namespace "$NS" --ignore-not-found \
    -o 'jsonpath={.status.phase}' 2>"$run_dir/.namespace.tmp")
}

now_ms
deadline=$((now + timeout_namespace_ms))
noted_at=
deleted=0
while :; do
  namespace_phase ||
    fail "$EXIT_KUBECTL" "cannot read namespace $NS: $(last_lines "$run_dir/.namespace.tmp")"
  [[ -n $ns_phase ]] || break
  if [[ $ns_phase == Active && $deleted == 0 ]]; then
    if ((!delete_existing)); then
      "$kubectl" --request-timeout=30s get namespace "$NS" -o yaml >"$run_dir/namespace.yaml" 2>&1
      fail "$EXIT_NAMESPACE" "namespace $NS exists and is not being deleted: an earlier run left it," \
        "or another run is using it. Delete it ($kubectl delete namespace $NS) or pass --delete-existing."
    fi
    say "namespace $NS is still active: deleting it (--delete-existing)"
    "$kubectl" --request-timeout=30s delete namespace "$NS" --wait=false >>"$run_dir/job.log" 2>&1 ||
      fail "$EXIT_KUBECTL" "cannot delete namespace $NS"
    deleted=1
  fi
  now_ms
  if ((now >= deadline)); then
    "$kubectl" --request-timeout=30s get namespace "$NS" -o yaml >"$run_dir/namespace.yaml" 2>&1
    fail "$EXIT_NAMESPACE" "namespace $NS is still there ($ns_phase) after $timeout_namespace;" \
      "its conditions are in $run_dir/namespace.yaml"
  fi
  if [[ -z $noted_at ]] || ((now - noted_at >= 30000)); then
    say "waiting for namespace $NS to be gone ($ns_phase; up to $timeout_namespace)"
    noted_at=$now
  fi
  # Every second, or every tenth of a short timeout.
  wait_ms=$((timeout_namespace_ms / 10))
  ((wait_ms <= 1000)) || wait_ms=1000
  ((wait_ms >= 100)) || wait_ms=100
  ((wait_ms <= deadline - now)) || wait_ms=$((deadline - now))
  seconds "$wait_ms"
  run_child sleep "$secs"
done
rm -f -- "$run_dir/.namespace.tmp"
say "namespace $NS is gone"

# --------------------------------------------- 2. render, set image, apply

# kubectl's built-in kustomize renders deploy/kubernetes; the pod's one
# "image:" line is then set here, so the checkout is never edited and what
# was applied is kept as manifest.yaml.
"$kubectl" kustomize "$manifests" >"$run_dir/.rendered.tmp" 2>"$run_dir/.kustomize.tmp" ||
  fail "$EXIT_KUBECTL" "$kubectl kustomize $manifests failed: $(last_lines "$run_dir/.kustomize.tmp")"
rm -f -- "$run_dir/.kustomize.tmp"
image_lines=$(grep -cE '^[[:space:]]*(- )?image:' "$run_dir/.rendered.tmp")
[[ $image_lines == 1 ]] ||
  fail "$EXIT_KUBECTL" "expected one image: line in the rendered manifests, found ${image_lines:-0}"
if [[ -n $image ]]; then
  IMAGE=$image awk '
    match($0, /^[[:space:]]*(- )?image:/) { print substr($0, 1, RLENGTH) " " ENVIRON["IMAGE"]; next }
    { print }' "$run_dir/.rendered.tmp" >"$run_dir/manifest.yaml"
  rm -f -- "$run_dir/.rendered.tmp"
else
  mv -- "$run_dir/.rendered.tmp" "$run_dir/manifest.yaml"
  image=$(sed -nE 's/^[[:space:]]*(- )?image:[[:space:]]*//p' "$run_dir/manifest.yaml")
  say "no --image: running $image as the manifests name it (kube-burner's own image" \
    "unless your cluster mirrors it to netpol-proxy)"
fi
"$kubectl" --request-timeout=60s apply -f - <"$run_dir/manifest.yaml" >"$run_dir/apply.txt" 2>&1 ||
  fail "$EXIT_KUBECTL" "$kubectl apply failed: $(last_lines "$run_dir/apply.txt")"
say "applied $manifests with image $image"

# ------------------------------------------------------ 3. the pod is Ready

if ! run_child "$kubectl" -n "$NS" wait --for=condition=Ready "pod/$POD" \
  --timeout="${timeout_ready_ms}ms" >"$run_dir/wait-ready.txt" 2>&1; then
  "$kubectl" --request-timeout=30s -n "$NS" describe pod "$POD" >"$run_dir/pod-describe.txt" 2>&1
  "$kubectl" --request-timeout=30s -n "$NS" get events >"$run_dir/events.txt" 2>&1
  "$kubectl" --request-timeout=30s -n "$NS" get pod "$POD" -o yaml >"$run_dir/pod.yaml" 2>&1
  "$kubectl" --request-timeout=30s -n "$NS" logs "$POD" >"$run_dir/proxy.log" 2>&1
  "$kubectl" --request-timeout=30s -n "$NS" logs --previous "$POD" >"$run_dir/proxy-previous.log" 2>&1
  fail "$EXIT_NOT_READY" "pod $NS/$POD is not Ready after $timeout_ready ($(last_lines "$run_dir/wait-ready.txt"));" \
    "its description and events are in $run_dir (pod-describe.txt, events.txt)." \
    "The namespace is left for inspection: $kubectl delete namespace $NS"
fi
"$kubectl" --request-timeout=30s -n "$NS" get pod "$POD" -o yaml >"$run_dir/pod.yaml" 2>&1
say "pod $NS/$POD is Ready"

# ------------------------------------- 4. log follower, port-forward, snapshots

pf_restarts=0
log_restarts=0
pf_failures=0    # snapshots in a row that got no answer
pf_given_up=0
log_given_up=0
pod_gone=0
pf_why=          # why the port-forward is down, for the restart message
log_alive_at=    # UTC time at which the log follower was last seen running
phase=
seq=0

start_log_follower() { # [SINCE-TIME]
  local args=(-n "$NS" logs -f "pod/$POD")
  if [[ -n ${1:-} ]]; then args+=("--since-time=$1"); fi
  "${detach[@]}" "$kubectl" "${args[@]}" >>"$run_dir/proxy.log" 2>>"$run_dir/proxy-log.err" &
  log_pid=$!
}

# start_port_forward: starts it and waits up to 5 s for it to listen; fails
# if it exits first.
start_port_forward() {
  local log=$run_dir/port-forward.log mark i
  printf '==== %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
  mark=$(wc -c <"$log")
  "${detach[@]}" "$kubectl" -n "$NS" port-forward --address 127.0.0.1 "pod/$POD" "$local_port:$PROXY_PORT" >>"$log" 2>&1 &
  pf_pid=$!
  for ((i = 0; i < 50; i++)); do
    if ! alive "$pf_pid"; then
      wait "$pf_pid" 2>/dev/null
      pf_pid=
      return 1
    fi
    tail -c +$((mark + 1)) -- "$log" | grep -q 'Forwarding from' && return 0
    sleep 0.1
  done
  return 0 # running but silent: the snapshots will tell
}

# check_pod: sets pod_gone when the pod is gone or being deleted (kube-burner
# deletes the namespace at the end of the job). An API error counts as there.
check_pod() {
  local out
  out=$("$kubectl" --request-timeout=10s -n "$NS" get pod "$POD" --ignore-not-found \
    -o 'jsonpath={.metadata.deletionTimestamp}/{.status.phase}' 2>/dev/null) || return 0
  if [[ -z $out || $out != /* ]]; then
    pod_gone=1
    say "the proxy pod is gone or being deleted (kube-burner deletes its namespace at the end" \
      "of the job): snapshots and log end here"
  fi
}

keep_log() {
  if alive "$log_pid"; then
    log_alive_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    return 0
  fi
  ((log_given_up)) && return 0
  if [[ -n $log_pid ]]; then
    wait "$log_pid" 2>/dev/null
    log_pid=
    check_pod
    ((pod_gone)) && return 0
  fi
  if ((log_restarts >= max_restarts)); then
    say "the log follower ended $log_restarts times: no more of the proxy's log ($(last_lines "$run_dir/proxy-log.err"))"
    log_given_up=1
    return 0
  fi
  ((++log_restarts))
  say "the log follower ended (the container restarted?): following again from $log_alive_at" \
    "($log_restarts/$max_restarts)"
  start_log_follower "$log_alive_at"
}

keep_port_forward() {
  if alive "$pf_pid" && ((pf_failures < 3)); then return 0; fi
  ((pf_given_up)) && return 1
  local why=${pf_why:-exited}
  pf_why=
  if [[ -n $pf_pid ]]; then
    if alive "$pf_pid"; then why="gave no answer to 3 snapshots in a row"; fi
    stop "$pf_pid"
    pf_pid=
    check_pod
    ((pod_gone)) && return 1
  fi
  pf_failures=0
  if ((pf_restarts >= max_restarts)); then
    say "port-forward $why; it was restarted $max_restarts times: no more snapshots (the run goes on)"
    pf_given_up=1
    return 1
  fi
  ((++pf_restarts))
  say "port-forward to $NS/$POD $why ($(last_lines "$run_dir/port-forward.log")):" \
    "restarting it ($pf_restarts/$max_restarts)"
  start_port_forward && return 0
  pf_why="exited at once"
  return 1 # the next tick tries again
}

# snapshot NAME PATH: GET PATH; a 200 answer becomes NAME.json, and goes into
# snapshots/ when it differs from the one before. Anything else is dropped.
# Returns 1 when there was no HTTP answer at all.
snapshot() {
  local name=$1 path=$2 tmp=$run_dir/.$1.tmp code stamp
  # Not $(curl ...): a signal would wait until curl ends.
  run_child curl -sS -o "$tmp" -w '%{http_code}' --connect-timeout 2 --max-time 30 \
    "http://127.0.0.1:$local_port$path" >"$run_dir/.code.tmp" 2>>"$run_dir/snapshot-errors.log"
  code=$(<"$run_dir/.code.tmp")
  if [[ $code == 200 ]]; then
    if ! cmp -s -- "$tmp" "$run_dir/$name.json"; then
      ((++seq))
      stamp=$(date -u +%Y%m%dT%H%M%SZ)
      cp -- "$tmp" "$run_dir/snapshots/$name-$(printf %04d "$seq")-$stamp.json"
      mv -f -- "$tmp" "$run_dir/$name.json"
    fi
  fi
  rm -f -- "$tmp"
  [[ $code =~ ^[1-5][0-9][0-9]$ ]]
}

note_phase() {
  local now_phase round
  now_phase=$(sed -nE 's/.*"phase":"([a-z_]*)".*/\1/p' "$run_dir/status.json" 2>/dev/null | head -n 1)
  round=$(sed -nE 's/.*"round":([0-9]+).*/\1/p' "$run_dir/status.json" 2>/dev/null | head -n 1)
  if [[ -n $now_phase && $now_phase != "$phase" ]]; then
    say "proxy: round ${round:-?}, phase $now_phase"
    phase=$now_phase
  fi
}

tick() { # [final]: the command has ended, restart nothing
  ((pod_gone)) && return 0
  if [[ ${1:-} == final ]]; then
    alive "$pf_pid" || return 0
  else
    keep_log
    ((pod_gone)) && return 0
    keep_port_forward || return 0
  fi
  command -v curl >/dev/null || return 0
  if snapshot status /status; then
    pf_failures=0
    note_phase
    snapshot report /report
  else
    ((++pf_failures))
  fi
  return 0
}

start_log_follower
if ! start_port_forward; then
  say "port-forward to $NS/$POD exited at once ($(last_lines "$run_dir/port-forward.log")); retrying at the next snapshot"
  pf_why="exited at once"
fi
tick

# ------------------------------------------------------------- 5. the command

say "running:$(printf ' %q' "${command_line[@]}")"
# Simple commands run with & start with SIGINT and SIGQUIT ignored (no job
# control); the command gets the dispositions it would have in the
# foreground, so that a Ctrl-C reaches it.
(
  trap - INT QUIT
  exec "${command_line[@]}"
) <&"$stdin_copy" &
kb_pid=$!
while alive "$kb_pid"; do
  tick
  case $phase in
    delivering | delivered | collecting) wait_ms=$busy_interval_ms ;;
    *) wait_ms=$interval_ms ;;
  esac
  now_ms
  next=$((now + wait_ms))
  while alive "$kb_pid" && ((now < next)); do
    step=$((next - now))
    ((step < 200)) || step=200
    seconds "$step"
    sleep "$secs"
    now_ms
  done
done
while :; do
  wait "$kb_pid"
  kb_rc=$?
  alive "$kb_pid" || break # a signal cut the wait short
done
kb_pid=

# Final snapshots (the namespace is usually gone by now), then the log: give
# the follower a moment to write what it still has.
tick final
stop "$pf_pid"
pf_pid=
for ((i = 0; i < 10; i++)); do
  alive "$log_pid" || break
  sleep 0.1
done
stop "$log_pid"
log_pid=

statuses=$(find "$run_dir/snapshots" -name 'status-*' | wc -l)
reports=$(find "$run_dir/snapshots" -name 'report-*' | wc -l)
say "the command exited with $kb_rc; kept ${statuses// /} /status and ${reports// /} /report answers" \
  "(last phase: ${phase:-none}) and $(wc -l <"$run_dir/proxy.log" 2>/dev/null || echo 0) log lines"
if ! grep -q 'Round [0-9]*:' "$run_dir/proxy.log" 2>/dev/null; then
  say "note: the proxy's log has no 'Round N:' line: kube-burner did not start a round on this pod"
fi
say "run directory: $run_dir"
exit "$kb_rc"
