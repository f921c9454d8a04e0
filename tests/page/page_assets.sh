#!/usr/bin/env bash
# The live page's assets over HTTP: GET / and the CSS and JS it names, with
# their content types and caching headers; unknown asset paths get 404;
# /ui/settings and /status?timeline=1 answer what the page reads.
# Usage: page_assets.sh <netpol-proxy>
set -u
proxy=$1
podsim=""
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=tests/support/fleet_lib.sh
source "$(dirname "$0")/../support/fleet_lib.sh"
passes=0 failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }
start_proxy

# header FILE NAME: the value of one response header, lower-cased name.
header() { tr -d '\r' < "$1" | sed -n "s/^$2: //Ip" | head -1; }

curl -s -D "$work/h" -o "$work/index.html" "$url/"
[ "$(head -1 "$work/h" | tr -d '\r')" = "HTTP/1.1 200 OK" ] && pass "GET / is 200" || fail "GET /: $(head -1 "$work/h")"
[ "$(header "$work/h" content-type)" = "text/html; charset=utf-8" ] && pass "/ is text/html; charset=utf-8" \
  || fail "/ content type: $(header "$work/h" content-type)"
[ "$(header "$work/h" cache-control)" = "no-cache" ] && pass "/ is revalidated (no-cache)" \
  || fail "/ cache-control: $(header "$work/h" cache-control)"
[ "$(header "$work/h" x-content-type-options)" = "nosniff" ] && pass "/ says nosniff" || fail "/ lacks nosniff"
grep -q "https\?://" "$work/index.html" && fail "the page names an external URL" || pass "the page names no external URL"

for kind in css js; do
  asset=$(grep -o "/ui/page-[0-9a-f]\{12\}\.$kind" "$work/index.html" | head -1)
  [ -n "$asset" ] || { fail "the page names no hashed .$kind"; continue; }
  curl -s -D "$work/h-$kind" -o "$work/asset.$kind" "$url$asset"
  want="text/css; charset=utf-8"
  [ "$kind" = js ] && want="text/javascript; charset=utf-8"
  [ "$(header "$work/h-$kind" content-type)" = "$want" ] && pass "$asset is $want" \
    || fail "$asset content type: $(header "$work/h-$kind" content-type)"
  [ "$(header "$work/h-$kind" cache-control)" = "public, max-age=31536000, immutable" ] \
    && pass "$asset is cached for good (its name changes with its content)" \
    || fail "$asset cache-control: $(header "$work/h-$kind" cache-control)"
  src=$(dirname "$0")/../../http_bridge/page/page.$kind
  cmp -s "$work/asset.$kind" "$src" && pass "$asset is http_bridge/page/page.$kind byte for byte" \
    || fail "$asset differs from page.$kind"
done
grep -o "https\?://[^\"' )]*" "$work/asset.js" "$work/asset.css" | grep -v "http://www.w3.org/" \
  && fail "an asset loads from outside the proxy" || pass "no asset loads from outside the proxy"

for path in /ui/page.js /ui/page-000000000000.js /ui/page-000000000000.css /ui/ /favicon.ico /index.html; do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url$path")
  [ "$code" = 404 ] && pass "$path is 404" || fail "$path answered $code"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$url/")
[ "$code" = 405 ] && pass "POST / is 405" || fail "POST / answered $code"

curl -s -D "$work/h-settings" -o "$work/settings.json" "$url/ui/settings"
python3 - "$work/settings.json" <<'PY' && pass "/ui/settings gives version, commit and every setting" || fail "/ui/settings: $(cat "$work/settings.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["version"] and s["commit"], s
assert "--workers=20" in s["settings"] and "--state-dir=''" in s["settings"], s["settings"]
PY
curl -s "$url/status?timeline=1" > "$work/status.json"
python3 - "$work/status.json" <<'PY' && pass "/status?timeline=1 has the timeline (empty before a round)" || fail "timeline: $(head -c 400 "$work/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
t = s["timeline"]
assert t["at_ms"] == [] and len(t["states"]) == 9 and all(v == [] for v in t["states"].values()), t
PY
curl -s "$url/status" | grep -q '"timeline"' && fail "/status without ?timeline=1 carries the timeline" \
  || pass "/status carries no timeline unless asked"

echo "$passes passed, $failures failed"
[ $failures = 0 ]
