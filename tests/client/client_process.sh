#!/usr/bin/env bash
# netpol-client as a process (docs/client.md, "Flags and environment"):
# the default listen answers on IPv4 and IPv6, the log's first lines, exit
# codes for bad flags and variables, a port in use, SIGTERM.
# Then docs/client.md's table of flags against --help: every flag, its
# variable and its default.
# Usage: client_process.sh NETPOL_CLIENT DOCS_CLIENT_MD
set -euo pipefail
client=$1 docs=$2
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::", 0)); print(s.getsockname()[1])'
}

wait_listening() { # url
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.05
  done
  return 1
}

port=$(free_port)
"$client" --listen ":$port" > "$work/log" 2>&1 &
pid=$!
pids+=("$pid")
if wait_listening "http://127.0.0.1:$port/status"; then
  ok "the default listen (:PORT) answers on 127.0.0.1"
else
  fail "no answer on 127.0.0.1:$port"
fi
if curl -s -o /dev/null -g "http://[::1]:$port/status"; then
  ok "and on [::1]"
elif [ ! -e /proc/net/if_inet6 ]; then
  ok "no IPv6 on this machine: IPv4 only"
else
  fail "no answer on [::1]:$port"
fi
body=$(curl -s "http://127.0.0.1:$port/results")
[ "$body" = "[]" ] && ok "/results before a list is []" || fail "/results: '$body'"
grep -q "^[0-9/]* [0-9:]* netpol-client " "$work/log" \
  && ok "the first line names the version" || fail "no version line: $(head -1 "$work/log")"
grep -q "Settings: --listen=:$port --interval=200ms" "$work/log" \
  && ok "the second line gives the settings" || fail "no settings line"
grep -q "Server started on \[::\]:$port" "$work/log" \
  && ok "'Server started on [::]:$port'" || fail "no 'Server started' line: $(cat "$work/log")"

echo "-- a port in use: exit 1 with the reason"
set +e
"$client" --listen "127.0.0.1:$port" > "$work/busy" 2>&1
code=$?
set -e
[ "$code" = 1 ] && grep -q "Cannot listen on 127.0.0.1:$port" "$work/busy" \
  && ok "exit 1: $(tail -1 "$work/busy" | cut -c21-)" || fail "port in use: exit $code, $(cat "$work/busy")"

echo "-- SIGTERM: exit 0 with a last line"
kill -TERM "$pid"
set +e
wait "$pid"
code=$?
set -e
[ "$code" = 0 ] && ok "exit 0 after SIGTERM" || fail "exit $code after SIGTERM"
grep -q "Stopping on SIGTERM" "$work/log" && ok "'Stopping on SIGTERM'" || fail "no stop line"

echo "-- bad flags and variables: non-zero, the variable named"
expect_refused() { # description, then env assignments and arguments
  local what=$1
  shift
  set +e
  env "$@" > "$work/bad" 2>&1
  local code=$?
  set -e
  if [ "$code" -ge 2 ]; then ok "$what: exit $code"; else fail "$what: exit $code"; fi
}
expect_refused "--interval fast" "$client" --interval fast
expect_refused "--interval 5ms" "$client" --interval 5ms
expect_refused "--listen 9001" "$client" --listen 9001
expect_refused "an unknown flag" "$client" --workers 3
expect_refused "NETPOL_CLIENT_INTERVAL=soon" NETPOL_CLIENT_INTERVAL=soon "$client"
grep -q "NETPOL_CLIENT_INTERVAL=soon (the environment variable of --interval)" "$work/bad" \
  && ok "the error names the variable" || fail "$(cat "$work/bad")"
expect_refused "PARALLEL_CONNECTIONS=ten" PARALLEL_CONNECTIONS=ten "$client"
grep -q "PARALLEL_CONNECTIONS='ten' is not an integer" "$work/bad" \
  && ok "PARALLEL_CONNECTIONS is read as the real client reads it" || fail "$(cat "$work/bad")"

echo "-- PARALLEL_CONNECTIONS=20: taken, said, sets nothing"
port=$(free_port)
PARALLEL_CONNECTIONS=20 "$client" --listen "127.0.0.1:$port" > "$work/pc" 2>&1 &
pid=$!
pids+=("$pid")
wait_listening "http://127.0.0.1:$port/status" || fail "no answer"
grep -q "PARALLEL_CONNECTIONS=20 is the real client's batch count; it sets nothing here" "$work/pc" \
  && ok "the log says so" || fail "$(cat "$work/pc")"
kill -TERM "$pid"
wait "$pid" || true

echo "-- the endpoints over HTTP: 413, 400, 200, 200 again, 409, 404, 405"
port=$(free_port)
"$client" --listen "127.0.0.1:$port" --max-body 1KiB > "$work/http" 2>&1 &
pid=$!
pids+=("$pid")
wait_listening "http://127.0.0.1:$port/status" || fail "no answer"
url=http://127.0.0.1:$port
code_of() { curl -s -o "$work/answer" -w '%{http_code}' "$@"; }
big=$(python3 -c 'print("[" + ",".join(["{\"addresses\":[\"10.0.0.1\"],\"ports\":[80]}"] * 40) + "]")')
[ "$(code_of -X POST --data-binary "$big" "$url/check")" = 413 ] \
  && ok "a body over --max-body: 413" || fail "big body: $(cat "$work/answer")"
[ "$(code_of -X POST --data-binary '[{"ports":"80"}]' "$url/check")" = 400 ] \
  && grep -q '"ports" must be an array of integers' "$work/answer" \
  && ok "a body that does not parse: 400 with the reason" || fail "bad body: $(cat "$work/answer")"
list='[{"addresses":["127.0.0.1"],"ports":[9],"netpol":"np"}]'
[ "$(code_of -X POST --data-binary "$list" "$url/check")" = 200 ] \
  && ok "the list: 200" || fail "list: $(cat "$work/answer")"
[ "$(code_of -X POST --data-binary "$list" "$url/check")" = 200 ] \
  && ok "the same list again: 200" || fail "same list: $(cat "$work/answer")"
[ "$(code_of -X POST --data-binary '[]' "$url/check")" = 409 ] \
  && ok "another list: 409" || fail "other list: $(cat "$work/answer")"
sha=$(printf '%s' "$list" | sha256sum | cut -d' ' -f1)
curl -s "$url/status" | grep -q "\"list_sha256\":\"$sha\"" \
  && ok "/status gives the list's SHA-256 as sha256sum computes it" || fail "$(curl -s "$url/status")"
[ "$(code_of "$url/nothing")" = 404 ] && ok "404 elsewhere" || fail "404"
[ "$(code_of -X PUT "$url/results")" = 405 ] && ok "405 for another method" || fail "405"
kill -TERM "$pid"
wait "$pid" || true

echo "-- --help and --version: exit 0"
"$client" --help > "$work/help" && grep -q "NETPOL_CLIENT_MAX_PROBES_PER_SECOND" "$work/help" \
  && ok "--help lists the variables" || fail "--help"
"$client" --version | grep -q "^netpol-client [0-9.]* (commit " && ok "--version" || fail "--version"

echo "-- docs/client.md's flag table against --help"
rows=$(grep -E '^\| `--[a-z-]+` \| `NETPOL_CLIENT_' "$docs" || true)
[ "$(wc -l <<< "$rows")" -ge 7 ] || fail "the flag table has $(wc -l <<< "$rows") rows"
while IFS='|' read -r _ flag variable default _; do
  flag=$(tr -d ' `' <<< "$flag") variable=$(tr -d ' `' <<< "$variable")
  default=$(tr -d ' `' <<< "$default")
  # --help prints "--flag TYPE=DEFAULT (Env:VARIABLE)" on one line.
  if grep -qE -- "$flag [A-Z:]+.*=$default( |\().*\(Env:$variable\)" "$work/help"; then
    ok "docs: $flag, $variable, default $default"
  else
    fail "docs say $flag / $variable / $default; --help says: $(grep -- "$flag " "$work/help")"
  fi
done <<< "$rows"
helped=$(grep -oE -- '--[a-z][a-z-]+' "$work/help" | sort -u | grep -vE -- '--(help|version)$')
for flag in $helped; do
  grep -q -- "| \`$flag\` |" "$docs" && continue
  fail "--help has $flag, docs/client.md's table does not"
done

[ "$failures" -eq 0 ] && echo "client_process: all checks passed" || { echo "client_process: $failures failed"; exit 1; }
