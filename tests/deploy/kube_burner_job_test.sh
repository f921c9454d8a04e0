#!/usr/bin/env bash
# ctest kube_burner_job: deploy/kube-burner-job.sh against the fake kubectl
# and the fake kube-burner of tests/deploy/fake (loopback only). Each case
# runs the script with short intervals and checks its exit code, its
# messages, the kubectl calls the fake recorded, the run directory, and that
# no process the case started is left running.
#   usage: kube_burner_job_test.sh SOURCE_DIR
set -u -o pipefail

root=$(cd -- "${1:?usage: $0 SOURCE_DIR}" && pwd)
script=$root/deploy/kube-burner-job.sh
fake=$root/tests/deploy/fake
image=registry.example.com/perf/netpol-proxy:test
work=$(mktemp -d "${TMPDIR:-/tmp}/kube-burner-job-test.XXXXXX")
started=$SECONDS

# A real kubectl, if there is one, renders the manifests (its built-in
# kustomize) in the cases that set real=1; the others use the fake's own
# rendering.
real_kubectl=$(command -v kubectl || true)
if [[ -n $real_kubectl ]] && ! "$real_kubectl" kustomize "$root/deploy/kubernetes" >/dev/null 2>&1; then
  real_kubectl=
fi
export PATH="$fake:$PATH"
# The interpreter itself, not a version manager's shim: the fakes start it
# often. Loopback only, below.
FAKE_PYTHON=$(python3 -c 'import sys; print(sys.executable)') || exit 1
export FAKE_PYTHON

failures=0
checks=0
case_name=
ok() { ((++checks)); }
bad() {
  ((++checks))
  ((++failures))
  printf 'FAIL [%s]: %s\n' "$case_name" "$*"
}
check() { # DESCRIPTION COMMAND...
  if "${@:2}"; then ok; else bad "$1"; fi
}
has() { grep -qE -- "$2" "$1" 2>/dev/null; }   # FILE ERE
lacks() { ! grep -qE -- "$2" "$1" 2>/dev/null; }
count_of() { # FILE ERE: matching lines (0 when FILE is missing)
  local c
  c=$(grep -cE -- "$2" "$1" 2>/dev/null)
  echo "${c:-0}"
}
first_at() { grep -nE -m 1 -- "$2" "$1" 2>/dev/null | cut -d: -f1; } # FILE ERE: line number
last_at() { grep -nE -- "$2" "$1" 2>/dev/null | tail -n 1 | cut -d: -f1; }
before() { [[ -n $1 && -n $2 ]] && (($1 < $2)); }

free_port() {
  "$FAKE_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------- a case

# start NAME SCENARIO [VAR=VALUE...] -- SCRIPT-ARGS...: runs the script in
# the background with the fakes; sets dir, state, run, port, token, pid.
# Unless the arguments give one, --run-dir is $dir/run.
start() {
  case_name=$1
  local scenario=$2 envs=()
  shift 2
  while (($#)) && [[ $1 != -- ]]; do
    envs+=("$1")
    shift
  done
  shift
  dir=$work/$case_name
  state=$dir/state
  run=$dir/run
  mkdir -p "$state"
  port=$(free_port)
  token=kbjt-$$-$case_name
  local defaults=(--local-port "$port" --snapshot-interval 300ms --busy-interval 100ms
    --timeout-namespace 2s --timeout-ready 5s --max-restarts 2)
  [[ " $* " == *" --run-dir "* || ${NO_RUN_DIR:-0} == 1 ]] || defaults+=(--run-dir "$run")
  [[ -e $dir/stdin ]] || : >"$dir/stdin"
  # SESSION=1: in a session of its own, for a Ctrl-C to its process group.
  local session=()
  if [[ ${SESSION:-0} == 1 ]]; then session=(setsid); fi
  (cd "$dir" && exec "${session[@]}" env FAKE_STATE="$state" FAKE_SCENARIO="$scenario" FAKE_TOKEN="$token" \
    FAKE_REAL_KUBECTL="${real:+$real_kubectl}" "${envs[@]}" \
    bash "$script" "${defaults[@]}" "$@" >"$dir/stdout" 2>"$dir/stderr" <"$dir/stdin") &
  pid=$!
  t0=$SECONDS
}

# finish: waits for the script (killing it after 30 s), sets rc and elapsed,
# and checks that nothing the case started is still running.
finish() {
  local limit=30 i
  while kill -0 "$pid" 2>/dev/null && ((SECONDS - t0 < limit)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    bad "still running after ${limit}s: killed"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid"
  rc=$?
  elapsed=$((SECONDS - t0))
  printf 'kube_burner_job: %-20s exit %3s in %2ss\n' "$case_name" "$rc" "$elapsed"
  local left=()
  for ((i = 0; i < 10; i++)); do
    mapfile -t left < <(grep -lzx "FAKE_TOKEN=$token" /proc/[0-9]*/environ 2>/dev/null |
      sed -E 's#^/proc/([0-9]+)/environ$#\1#')
    ((${#left[@]} == 0)) && break
    sleep 0.1
  done
  if ((${#left[@]})); then
    local p
    for p in "${left[@]}"; do
      bad "left running: pid $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"
      kill -KILL "$p" 2>/dev/null
    done
  else
    ok
  fi
}

run_case() { # as start, then finish
  start "$@"
  finish
}

expect_rc() {
  if [[ $rc == "$1" ]]; then ok; else
    bad "exit code $rc, expected $1; stderr:"
    sed 's/^/    /' "$dir/stderr"
  fi
}

# Every run that got a run directory says where it is, last.
expect_run_dir_named() {
  check "prints the run directory last" \
    test "$(tail -n 1 "$dir/stderr" | sed -E 's/.* run directory: //')" = "$1"
}

# ------------------------------------------------------------------ usage

echo "kube_burner_job: work directory $work"
if [[ -n $real_kubectl ]]; then
  echo "kube_burner_job: rendering with $real_kubectl kustomize in the cases marked real"
else
  echo "kube_burner_job: no kubectl here: the fake renders the manifests itself"
fi

run_case help normal -- --help
expect_rc 0
check "--help shows the usage" has "$dir/stdout" '^Usage: kube-burner-job.sh'
check "--help lists the exit codes" has "$dir/stdout" '^Exit codes:'

for bad_args in "no-command|no command" \
  "local-port-9002|kube-burner's own port-forward|--local-port 9002" \
  "bad-duration|not a duration|--snapshot-interval 10x" \
  "zero-duration|must be more than 0|--timeout-ready 0s" \
  "unknown-option|unknown option: --bogus|--bogus" \
  "bad-image|not an image reference|--image bad\$image" \
  "bad-port|not a port|--local-port 70000"; do
  IFS='|' read -r name message args <<<"$bad_args"
  read -ra argv <<<"$args"
  if [[ $name == no-command ]]; then
    run_case "usage-$name" normal -- "${argv[@]}"
  else
    run_case "usage-$name" normal -- "${argv[@]}" -- kube-burner init
  fi
  expect_rc 64
  check "says: $message" has "$dir/stderr" "$message"
  check "no kubectl call" test ! -e "$state/calls.log"
  check "no run directory" test ! -e "$run"
done

# An existing run directory is never reused.
mkdir -p "$work/run-dir-exists/run"
echo keep >"$work/run-dir-exists/run/mine"
run_case run-dir-exists normal -- -- kube-burner init
expect_rc 65
check "says why" has "$dir/stderr" "cannot create the run directory .* must not exist yet"
check "leaves it alone" test "$(ls "$run")" = mine
check "no kubectl call" test ! -e "$state/calls.log"

run_case no-kubectl normal -- --kubectl "$work/nonexistent/kubectl" -- kube-burner init
expect_rc 66
check "says kubectl is missing" has "$dir/stderr" "nonexistent/kubectl' not found"
check "kept its messages" has "$run/job.log" "not found"

# ------------------------------------------------------------ a whole run

mkdir -p "$work/normal" && printf 'hello-stdin\n' >"$work/normal/stdin"
real=1 start normal normal -- --image "$image" -- kube-burner init -c "network policy.yml"
finish
calls=$state/calls.log
expect_rc 0
expect_run_dir_named "$run"
check "no unexpected kubectl call" lacks "$calls" '^UNEXPECTED'
check "waited through the terminating namespace" \
  test "$(count_of "$calls" 'get namespace network-policy-proxy --ignore-not-found')" -ge 3
check "said it waited" has "$dir/stderr" 'waiting for namespace network-policy-proxy to be gone \(Terminating'
check "namespace gone before rendering" \
  before "$(last_at "$calls" 'get namespace network-policy-proxy --ignore')" "$(first_at "$calls" '^kustomize ')"
check "rendered $root/deploy/kubernetes" has "$calls" "^kustomize $root/deploy/kubernetes"
check "rendered before applying" before "$(first_at "$calls" '^kustomize ')" "$(first_at "$calls" '(^| )apply ')"
check "applied from stdin" has "$calls" '(^| )apply -f - $'
check "applied once" test "$(count_of "$calls" '(^| )apply ')" = 1
check "applied before waiting for Ready" \
  before "$(first_at "$calls" '(^| )apply ')" "$(first_at "$calls" '^-n network-policy-proxy wait ')"
check "waits for Ready with the timeout" \
  has "$calls" '^-n network-policy-proxy wait --for=condition=Ready pod/network-policy-proxy --timeout=5000ms'
check "Ready before following the log" \
  before "$(first_at "$calls" ' wait ')" "$(first_at "$calls" ' logs -f ')"
check "Ready before the port-forward" \
  before "$(first_at "$calls" ' wait ')" "$(first_at "$calls" ' port-forward ')"
check "port-forward on loopback, its own port, to 9002" \
  has "$calls" "^-n network-policy-proxy port-forward --address 127.0.0.1 pod/network-policy-proxy $port:9002 \$"
check "one port-forward" test "$(count_of "$calls" ' port-forward ')" = 1
applied=$state/applied-1.yaml
check "the image is rewritten in what was applied" has "$applied" "^ +image: $image\$"
check "one image line in what was applied" test "$(count_of "$applied" 'image:')" = 1
check "no trace of the original image" lacks "$applied" 'image: quay.io/cloud-bulldozer/netpolproxy'
check "the pod and the namespace were applied" has "$applied" '^kind: Pod'
check "manifest.yaml is what was applied" cmp -s "$applied" "$run/manifest.yaml"
mkdir -p "$dir/render"
FAKE_STATE=$dir/render FAKE_REAL_KUBECTL=$real_kubectl "$fake/kubectl" kustomize "$root/deploy/kubernetes" >"$dir/rendered.yaml"
check "the rest of the manifests is untouched" \
  diff <(grep -v 'image:' "$dir/rendered.yaml") <(grep -v 'image:' "$applied")
check "kube-burner got its arguments" test "$(head -n 1 "$state/kube-burner.args")" = 'init -c network\ policy.yml '
check "kube-burner got the script's stdin" has "$state/kube-burner.args" '^stdin: hello-stdin$'
# As run in the foreground: SIGINT and SIGQUIT ignored only if they are here
# (signals ignored when a shell starts stay ignored).
own_sigign=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status)
check "kube-burner started with SIGINT and SIGQUIT as the script was" \
  test $((0x$(cat "$state/kube-burner.sigign") & 0x6)) = $((0x$own_sigign & 0x6))
for f in job.log run.txt manifest.yaml apply.txt pod.yaml proxy.log port-forward.log status.json report.json; do
  check "run dir has $f" test -s "$run/$f"
done
check "run.txt has the command" has "$run/run.txt" 'command: +kube-burner init -c network\\ policy.yml'
check "job.log has the messages" has "$run/job.log" 'the command exited with 0'
check "proxy log followed to the end" has "$run/proxy.log" 'Results collected from 2/2 pods'
check "proxy log from the start" has "$run/proxy.log" 'Client server started'
check "latest /status is the final one" has "$run/status.json" '"phase":"collected"'
for phase in idle delivering delivered collecting collected; do
  check "status history has phase $phase" \
    test "$(grep -l "\"phase\":\"$phase\"" "$run"/snapshots/status-*.json 2>/dev/null | wc -l)" = 1
done
check "said the phases" has "$dir/stderr" 'proxy: round 1, phase collecting'
check "/report answered 409 first" has "$state/http-requests.log" ' /report 409$'
check "no 409 answer kept" test "$(cat "$run"/report.json "$run"/snapshots/report-* | grep -c 'not started')" = 0
check "latest /report is the final one" has "$run/report.json" '"final":true'
check "report history: partial, then final" \
  test "$(cat "$run"/snapshots/report-*.json | tr -d '\n')" = '{"partial":true}{"final":true}'
check "no restarts" lacks "$dir/stderr" 'restarting'
check "noticed the namespace going" has "$dir/stderr" 'proxy pod is gone or being deleted'
check "no leftover temporary file" test -z "$(find "$run" -name '.*')"
check "no 'no Round' note" lacks "$dir/stderr" "no 'Round N:' line"

# Two runs with the default run directory: both kept, side by side.
for i in 1 2; do
  NO_RUN_DIR=1 run_case default-run-dir normal FAKE_KB_STEP=0.05 -- --image "$image" -- kube-burner init
  expect_rc 0
done
mapfile -t runs < <(ls "$dir/netpol-proxy-runs")
check "two run directories" test "${#runs[@]}" = 2
for r in "${runs[@]}"; do
  check "timestamped name: $r" test -n "$(grep -E '^[0-9]{8}T[0-9]{6}Z(-[0-9]+)?$' <<<"$r")"
  check "complete: $r" has "$dir/netpol-proxy-runs/$r/proxy.log" 'Results collected'
  check "has the final /status: $r" has "$dir/netpol-proxy-runs/$r/status.json" '"phase":"collected"'
done
expect_run_dir_named "$dir/netpol-proxy-runs/${runs[1]}"

# No --image: the manifests' own image, with a warning.
run_case no-image normal FAKE_KB_STEP=0.05 -- -- kube-burner init
expect_rc 0
check "warns about the image" has "$dir/stderr" 'no --image: running quay.io/cloud-bulldozer/netpolproxy:latest'
check "applied the manifests' image" has "$state/applied-1.yaml" 'image: quay.io/cloud-bulldozer/netpolproxy:latest'

# ---------------------------------------------------------------- failures

run_case ns-stuck ns-stuck -- --timeout-namespace 1s -- kube-burner init
expect_rc 67
expect_run_dir_named "$run"
check "says the namespace is still there" \
  has "$dir/stderr" 'FAILED: namespace network-policy-proxy is still there \(Terminating\) after 1s'
check "saved the namespace" has "$run/namespace.yaml" NamespaceFinalizersRemaining
check "polled more than once" test "$(count_of "$state/calls.log" 'get namespace .*jsonpath')" -ge 3
check "applied nothing" lacks "$state/calls.log" '(^| )(kustomize|apply) '
check "kube-burner did not run" test ! -e "$state/kube-burner.args"
check "within about the timeout" test "$elapsed" -le 4

run_case ns-active ns-active -- --timeout-namespace 10s -- kube-burner init
expect_rc 67
check "says it is active" has "$dir/stderr" 'exists and is not being deleted.*--delete-existing'
check "at once, not after the timeout" test "$elapsed" -le 3
check "deleted nothing" lacks "$state/calls.log" '(^| )delete '
check "applied nothing" lacks "$state/calls.log" '(^| )apply '

run_case ns-active-delete ns-active FAKE_KB_STEP=0.05 -- --delete-existing --image "$image" -- kube-burner init
expect_rc 0
check "says it deletes" has "$dir/stderr" 'still active: deleting it'
check "deleted the namespace" has "$state/calls.log" '(^| )delete namespace network-policy-proxy --wait=false'
check "deleted, waited, then applied" \
  before "$(first_at "$state/calls.log" '(^| )delete ')" "$(first_at "$state/calls.log" '(^| )apply ')"
check "waited after deleting" \
  before "$(first_at "$state/calls.log" '(^| )delete ')" "$(last_at "$state/calls.log" 'get namespace network-policy-proxy --ignore')"

run_case not-ready not-ready -- --image "$image" -- kube-burner init
expect_rc 68
expect_run_dir_named "$run"
check "says the pod is not Ready" has "$dir/stderr" 'FAILED: pod network-policy-proxy/network-policy-proxy is not Ready after 5s'
check "passes on kubectl's reason" has "$dir/stderr" 'timed out waiting for the condition'
check "saved the description" has "$run/pod-describe.txt" 'Back-off pulling image'
check "saved the events" has "$run/events.txt" 'Warning +Failed'
check "saved the log" has "$run/proxy.log" 'Client server started'
check "kube-burner did not run" test ! -e "$state/kube-burner.args"
check "no log follower or port-forward" lacks "$state/calls.log" ' (logs -f|port-forward) '

run_case kube-burner-fails normal FAKE_KB_RC=3 -- --image "$image" -- kube-burner init
expect_rc 3
expect_run_dir_named "$run"
check "says the command's exit code" has "$dir/stderr" 'the command exited with 3'
check "kept the final /status" has "$run/status.json" '"phase":"collected"'
check "kept the log" has "$run/proxy.log" 'Results collected'

run_case command-not-found normal -- --image "$image" -- "$work/no-such-kube-burner"
expect_rc 127
check "says the command's exit code" has "$dir/stderr" 'the command exited with 127'
check "notes that no round ran" has "$dir/stderr" "no 'Round N:' line"

# ----------------------------------------------------- port-forward trouble

run_case pf-dies-returns pf-dies-returns -- --image "$image" -- kube-burner init
expect_rc 0
check "says it restarts the port-forward" \
  has "$dir/stderr" 'port-forward to network-policy-proxy/network-policy-proxy exited .*restarting it \(1/2\)'
check "passes on the port-forward's last words" has "$dir/stderr" 'lost connection to pod'
check "restarted once" test "$(count_of "$state/calls.log" ' port-forward ')" = 2
check "snapshots went on after the restart" has "$run/status.json" '"phase":"collected"'
check "says the log follower ended" has "$dir/stderr" 'the log follower ended .*following again from'
check "follows the new container since the old one ended" \
  has "$state/calls.log" ' logs -f pod/network-policy-proxy --since-time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z $'
check "proxy log has the first container" has "$run/proxy.log" 'Round 1:'
check "proxy log has the second container" has "$run/proxy.log" 'container 2'
check "proxy log to the end" has "$run/proxy.log" 'Results collected'

run_case pf-dies-for-good pf-dies-for-good -- --image "$image" -- kube-burner init
expect_rc 0
check "restart 1" has "$dir/stderr" 'restarting it \(1/2\)'
check "restart 2" has "$dir/stderr" 'exited at once .*pod is not running.*restarting it \(2/2\)'
check "gives up, the run goes on" has "$dir/stderr" 'restarted 2 times: no more snapshots \(the run goes on\)'
check "no further port-forward" test "$(count_of "$state/calls.log" ' port-forward ')" = 3
check "kept what it had" has "$run/status.json" '"phase"'
check "kube-burner ran to the end" has "$dir/stderr" 'the command exited with 0'

run_case pf-mute pf-mute -- --image "$image" -- kube-burner init
expect_rc 0
check "says the port-forward gave no answer" has "$dir/stderr" 'gave no answer to 3 snapshots in a row'
check "restarted once" test "$(count_of "$state/calls.log" ' port-forward ')" = 2
check "snapshots after the restart" has "$run/status.json" '"phase":"collected"'

# ------------------------------------------------------------------ signals

# TERM while kube-burner runs: passed on, then the script exits with
# kube-burner's exit code, having cleaned up.
start term-during-run normal FAKE_KB_HANG=1 -- --image "$image" -- kube-burner init
for ((i = 0; i < 150; i++)); do
  grep -qs '"phase":"delivered"' "$run/status.json" && break
  sleep 0.1
done
check "the run reached delivery" has "$run/status.json" '"phase":"delivered"'
kill -TERM "$pid"
t_signal=$SECONDS
finish
expect_rc 143
check "kube-burner got TERM once" test "$(cat "$state/kube-burner.signals" 2>/dev/null)" = "kube-burner got SIGTERM"
check "says it passes it on" has "$dir/stderr" 'got SIGTERM: passing it on to the command'
check "says the command's exit code" has "$dir/stderr" 'the command exited with 143'
check "promptly" test $((SECONDS - t_signal)) -le 5
check "a final snapshot after the command ended" has "$run/status.json" after-signal
expect_run_dir_named "$run"

# Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
# kube-burner must get it once (not passed on a second time), and the log
# follower and port-forward must outlive it for the final snapshot.
SESSION=1 start ctrl-c-during-run normal FAKE_KB_HANG=1 -- --image "$image" -- kube-burner init
for ((i = 0; i < 150; i++)); do
  grep -qs '"phase":"delivered"' "$run/status.json" && break
  sleep 0.1
done
check "the run reached delivery" has "$run/status.json" '"phase":"delivered"'
kill -INT -- "-$pid"
t_signal=$SECONDS
finish
expect_rc 130
check "kube-burner got SIGINT once" test "$(cat "$state/kube-burner.signals" 2>/dev/null)" = "kube-burner got SIGINT"
# (or, if it ended before the trap ran, that it has ended)
check "says it waits for the command" has "$dir/stderr" 'got SIGINT: (waiting for the command|the command has ended)'
check "says the command's exit code" has "$dir/stderr" 'the command exited with 130'
check "the port-forward outlived the Ctrl-C" has "$run/status.json" after-signal
check "one port-forward" test "$(count_of "$state/calls.log" ' port-forward ')" = 1
check "the log follower outlived the Ctrl-C" lacks "$dir/stderr" 'log follower ended'
check "promptly" test $((SECONDS - t_signal)) -le 5

# TERM while waiting for the namespace: no kubectl wait or sleep outlives it.
start term-during-wait ns-stuck -- --timeout-namespace 60s -- kube-burner init
for ((i = 0; i < 100; i++)); do
  (($(count_of "$state/calls.log" 'get namespace network-policy-proxy --ignore') >= 2)) && break
  sleep 0.1
done
kill -TERM "$pid"
t_signal=$SECONDS
finish
expect_rc 143
check "says it stops" has "$dir/stderr" 'got SIGTERM: stopping'
check "promptly" test $((SECONDS - t_signal)) -le 3
check "kube-burner did not run" test ! -e "$state/kube-burner.args"

# --------------------------------------------------------------- shellcheck

case_name=shellcheck
if command -v shellcheck >/dev/null; then
  for f in "$script" "$root/tests/deploy/kube_burner_job_test.sh" "$fake/kubectl" "$fake/kube-burner"; do
    if out=$(shellcheck "$f" 2>&1) && [[ -z $out ]]; then ok; else
      bad "shellcheck ${f#"$root"/}:"
      printf '%s\n' "$out" | sed 's/^/    /'
    fi
  done
else
  bad "shellcheck is not installed (deploy/test-packages.txt; make deps)"
fi

# ------------------------------------------------------------------- result

echo "kube_burner_job: $checks checks, $failures failed, $((SECONDS - started))s"
if ((failures)); then
  echo "kube_burner_job: the cases' files are in $work"
  exit 1
fi
rm -rf -- "$work"
