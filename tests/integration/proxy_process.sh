#!/usr/bin/env bash
# The netpol-proxy executable as an operator runs it: flags, startup log
# lines, serving on the listen address, graceful exit on SIGTERM and SIGINT.
# Usage: proxy_process.sh <path to netpol-proxy>
set -u
proxy=$1
passes=0
rm -rf state-TERM state-INT early-state
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }

"$proxy" --help > help.txt 2>&1 && pass "--help exits 0" || fail "--help exit code"
grep -q "NETPOL_PROXY_WORKERS" help.txt && pass "--help names env variables" \
  || fail "--help lacks env variables"
version=$("$proxy" --version 2>&1)
[[ $version == "netpol-proxy "[0-9]*" (commit "*")" ]] && pass "--version: $version" \
  || fail "--version printed: $version"
if NETPOL_PROXY_REQUEST_TIMEOUT=abc "$proxy" > env.txt 2>&1; then
  fail "a bad duration in the environment was accepted"
else
  grep -q "^NETPOL_PROXY_REQUEST_TIMEOUT=abc (the environment variable of --request-timeout)" env.txt \
    && pass "a bad environment value names the variable" || fail "env error: $(cat env.txt)"
fi
if "$proxy" --request-timeout forever > /dev/null 2>&1; then
  fail "a bad duration was accepted"
else
  pass "a bad duration exits non-zero"
fi

# Port 0 lets the kernel pick a free port; the startup line names it.
started_port() {
  sed -n 's/.* Client server started on :\([0-9]*\)$/\1/p' "$1"
}

for signal in TERM INT; do
  log=proxy-$signal.log
  "$proxy" --listen 127.0.0.1:0 --log-level info --state-dir "state-$signal" > "$log" 2>&1 &
  pid=$!
  up=0
  for _ in $(seq 1 100); do
    port=$(started_port "$log")
    if [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1; then up=1; break; fi
    sleep 0.05
  done
  [ $up = 1 ] && pass "serves /healthz (SIG$signal run)" || fail "never answered /healthz"
  body=$(curl -s "http://127.0.0.1:$port/checkConnectionsStatus")
  [[ $body == '{"result":false,'* ]] && pass "status before a round is false" \
    || fail "unexpected status body: $body"
  curl -s "http://127.0.0.1:$port/status" | grep -q '"commit": "' && pass "/status names the commit" \
    || fail "/status lacks the commit"
  start=$(date +%s%N)
  kill -$signal $pid
  waited=0
  while kill -0 $pid 2> /dev/null && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 $pid 2> /dev/null; then
    fail "still running 10s after SIG$signal"; kill -9 $pid
  else
    wait $pid; rc=$?
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    [ $rc = 0 ] && pass "SIG$signal: exit 0 after ${ms}ms" || fail "SIG$signal: exit code $rc"
  fi
  grep -Eq '^[0-9]{4}/[0-9]{2}/[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} Client server started on :'$port'$' "$log" \
    && pass "startup line in the original format" || fail "startup line missing: $(head -3 "$log")"
  grep -q "Wait for Connections from kube-burner.." "$log" && pass "waiting line" || fail "waiting line missing"
  head -1 "$log" | grep -q "^[0-9/]* [0-9:]* netpol-proxy [0-9.]* (commit .*): kube-burner's network-policy proxy, reimplemented (not the original Go image)$" \
    && pass "the first line says which proxy this is" || fail "first line: $(head -1 "$log")"
  sed -n 2p "$log" | grep -q "Settings (flags and environment): --listen=127.0.0.1:0 .*--workers=20 .*--state-dir='state-$signal'" \
    && pass "the second line gives every setting" || fail "settings line: $(sed -n 2p "$log")"
  grep -q "Received SIG$signal, shutting down" "$log" && pass "shutdown line" || fail "shutdown line missing"
done

# A port already taken: a clear error, non-zero exit.
"$proxy" --listen 127.0.0.1:0 --state-dir '' > holder.log 2>&1 &
holder=$!
for _ in $(seq 1 100); do port=$(started_port holder.log); [ -n "$port" ] && break; sleep 0.05; done
if timeout 5 "$proxy" --listen 127.0.0.1:$port --state-dir '' > taken.log 2>&1; then
  fail "started on a taken port"
else
  grep -q "Cannot listen on 127.0.0.1:$port: Address already in use$" taken.log && pass "taken port is reported" \
    || fail "no clear error for a taken port: $(cat taken.log)"
  [ "$(grep -oi "listen on" taken.log | wc -l)" = 1 ] && pass "the error names the address once" \
    || fail "the error repeats itself: $(cat taken.log)"
fi
kill $holder 2> /dev/null; wait $holder 2> /dev/null

# A number that is not one: the flag, the value and the range; exit 105,
# CLI11's code for a value refused by its check, as for any bad value.
"$proxy" --workers many > many.txt 2>&1; rc=$?
[ $rc = 105 ] && grep -q "^--workers: 'many' is not a number from 1 to 2000$" many.txt \
  && pass "--workers many: $(cat many.txt)" || fail "--workers many (exit $rc): $(cat many.txt)"

# up LOG: waits until the proxy logging to LOG serves; sets $port.
up() {
  for _ in $(seq 1 100); do
    port=$(started_port "$1")
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/healthz" > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  fail "never served: $(cat "$1")"
  return 1
}

# The store turned off by the environment alone, as a pod spec can: the
# variable set to off, or set empty. No directory of that name appears.
rm -rf off "''"
for value in off "" "''"; do
  NETPOL_PROXY_STATE_DIR=$value "$proxy" --listen 127.0.0.1:0 > envoff.log 2>&1 &
  pid=$!
  if up envoff.log; then
    grep -q "Round store: off (NETPOL_PROXY_STATE_DIR=$value): a restart of the proxy loses the round$" envoff.log \
      && pass "NETPOL_PROXY_STATE_DIR='$value' turns the store off" \
      || fail "NETPOL_PROXY_STATE_DIR='$value': $(sed -n 3p envoff.log)"
    curl -s "http://127.0.0.1:$port/status" | grep -q "\"persistence\": \"off: NETPOL_PROXY_STATE_DIR=$value\"" \
      && pass "/status says why the store is off" || fail "/status persistence: $(curl -s "http://127.0.0.1:$port/status" | grep persistence)"
  fi
  kill $pid; wait $pid 2> /dev/null
done
[ ! -e off ] && [ ! -e "''" ] && pass "no directory named off or ''" || fail "a directory named off or '' was made"

# A round resumed after a restart: the proxy says it resumes it (not that
# it waits for kube-burner's connections), and /metrics counts on from the
# stored round. The one pod refuses (nothing listens on its port): one
# refused /check, no retry, delivery over.
rm -rf resume-state
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
resume() {
  "$proxy" --listen 127.0.0.1:0 --client-port "$closed" --retries 0 --state-dir resume-state > "$1" 2>&1 &
  pid=$!
  up "$1"
}
refused_calls() {
  curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^netpol_proxy_pod_calls_total{outcome="refused",stage="delivery"} //p'
}
if resume resume-1.log; then
  curl -s -o /dev/null -X POST --data-binary \
    '{"127.0.0.1":[{"addresses":["10.9.9.9"],"ports":[8080],"netpol":"np-a"}]}' "http://127.0.0.1:$port/initiate"
  for _ in $(seq 1 100); do
    curl -s "http://127.0.0.1:$port/checkConnectionsStatus" | grep -q '"result":true' && break
    sleep 0.05
  done
  first=$(refused_calls)
  kill -TERM $pid; wait $pid
  [ "$first" = 1 ] && pass "one refused /check counted" || fail "refused /check calls before the restart: '$first'"
  if resume resume-2.log; then
    grep -q "Wait for Connections from kube-burner" resume-2.log \
      && fail "a resumed proxy says it waits for connections: $(cat resume-2.log)" \
      || pass "a resumed proxy does not say it waits for connections"
    resumed=$(grep -n "Resumed round 1 (phase delivered)" resume-2.log | cut -d: -f1)
    waiting=$(grep -n "Waiting for kube-burner's next call in resumed round 1 (phase delivered)$" resume-2.log | cut -d: -f1)
    [ -n "$resumed" ] && [ -n "$waiting" ] && [ "$resumed" -lt "$waiting" ] \
      && pass "it says it resumed round 1, then that it waits for kube-burner's next call" \
      || fail "resumed/waiting lines: $(cat resume-2.log)"
    [ "$(refused_calls)" = 1 ] && pass "/metrics counts the stored round's refused /check after the restart" \
      || fail "refused /check calls after the restart: '$(refused_calls)'"
    kill -TERM $pid; wait $pid
  fi
fi
rm -rf resume-state

# A stop signal at any instant of startup, even before serving begins, still
# stops the proxy: 30 starts, each signalled 0 to 29 ms after exec.
hung=0
for delay in $(seq 0 29); do
  "$proxy" --listen 127.0.0.1:0 --state-dir early-state > early.log 2>&1 &
  pid=$!
  sleep "0.0$(printf '%02d' "$delay")"
  kill -TERM $pid 2> /dev/null
  waited=0
  while kill -0 $pid 2> /dev/null && [ $waited -lt 50 ]; do sleep 0.1; waited=$((waited + 1)); done
  if kill -0 $pid 2> /dev/null; then
    hung=$((hung + 1)); kill -9 $pid 2> /dev/null
    echo "still running 5s after SIGTERM at +${delay}ms: $(tail -2 early.log)"
  fi
  wait $pid 2> /dev/null
done
[ $hung = 0 ] && pass "SIGTERM 0-29 ms after start: all 30 starts exited" \
  || fail "$hung of 30 starts hung after an early SIGTERM"

echo "$passes passed, $failures failed"
[ $failures = 0 ]
