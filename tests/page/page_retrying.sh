#!/usr/bin/env bash
# The live page while pods wait to retry: every pod refuses the connection
# (nothing listens on their port) and the backoff is 10 minutes, so the
# round stays in that state while headless Chromium renders the page. Its
# "Problem pods" table must list them (state, attempts, the error) rather
# than say none has a problem; /status lists them under "retrying". Also:
# the netpol table's number columns are right-aligned in their headers as
# in their cells (class "num").
# Usage: page_retrying.sh <netpol-proxy>
set -u
proxy=$1
work=$(mktemp -d)
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
# shellcheck source=tests/support/fleet_lib.sh
source "$(dirname "$0")/../support/fleet_lib.sh"
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "FAIL: chromium is not installed (deploy/test-packages.txt)"; exit 1; }
passes=0 failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; passes=$((passes + 1)); }

# A port nothing listens on: bound, then closed.
fleet_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_proxy --retries 3 --backoff-base 10m --backoff-cap 10m
cat > "$work/initiate.json" <<'JSON'
{"127.0.0.1":[{"addresses":["10.9.9.9"],"ports":[8080],"netpol":"np-a"}],
 "127.0.0.2":[{"addresses":["10.9.9.9"],"ports":[8080],"netpol":"np-b"}],
 "127.0.0.3":[{"addresses":["10.9.9.9"],"ports":[8080],"netpol":"np-c"}]}
JSON
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$work/initiate.json" "$url/initiate")
[ "$code" = 200 ] && pass "/initiate taken" || fail "/initiate answered $code"
for _ in $(seq 1 100); do
  curl -s "$url/status" > "$work/status.json"
  grep -q '"retrying_total": 3' "$work/status.json" && break
  sleep 0.05
done
python3 - "$work/status.json" <<'PY' && pass "/status lists the 3 pods waiting to retry" || fail "/status: $(head -c 600 "$work/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["problems_total"] == 0 and s["retrying_total"] == 3, s
assert [p["pod"] for p in s["retrying"]] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"], s["retrying"]
assert all(p["state"] == "queued" and p["delivery_attempts"] == 1 and p["delivery_error"]
           for p in s["retrying"]), s["retrying"]
PY

timeout 60 "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$work/profile" --virtual-time-budget=2500 --dump-dom \
  "$url/" > "$work/page.html" 2> "$work/chromium.err"
python3 - "$work/page.html" "$work/status.json" <<'PY' || failures=$((failures + 1))
import json, re, sys
from html.parser import HTMLParser

class Tables(HTMLParser):
    """The text of each cell, by table id and row; the class of each th."""
    def __init__(self):
        super().__init__()
        self.table, self.rows, self.heads = None, {}, {}
        self.cell = None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tr" and self.table:
            self.rows.setdefault(self.table, []).append([])
        elif tag in ("td", "th") and self.table:
            self.cell = tag
            self.rows[self.table][-1].append("")
            if tag == "th":
                self.heads.setdefault(self.table, []).append(a.get("class") or "")
    def handle_endtag(self, tag):
        if tag == "table":
            self.table = None
        elif tag in ("td", "th"):
            self.cell = None
    def handle_data(self, data):
        if self.cell and self.table:
            self.rows[self.table][-1][-1] += data

html = open(sys.argv[1], encoding="utf-8").read()
page = Tables()
page.feed(html)
def text_of(element_id):
    match = re.search(r'<[a-z]+ [^>]*id="' + element_id + r'"[^>]*>([^<]*)<', html)
    return match.group(1).strip() if match else None
status = json.load(open(sys.argv[2]))
failures = 0
def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1

body = [r for r in page.rows.get("problems", []) if r and r[0] != "pod"]
check([r[0] for r in body] == ["127.0.0.1", "127.0.0.2", "127.0.0.3"],
      f"the problem pods table lists the pods waiting to retry: {body}")
error = status["retrying"][0]["delivery_error"]
check(all(r[1] == "queued, waiting to retry" and r[3] == "1 + 0" and r[4] == error
          for r in body), f"each with its state, attempts so far and last error ({error!r})")
note = text_of("problems-note")
check(note == "", f"no note says that no pod has a problem: {note!r}")
total = text_of("problems-total")
check(total == "(0, and 3 waiting to retry)", f"the count says 3 wait: {total!r}")
heads = page.heads.get("netpols", [])
check(len(heads) == 7 and heads[0] == "" and all(h == "num" for h in heads[1:]),
      f"the netpol table's number headers are right-aligned as their cells: {heads}")
sys.exit(1 if failures else 0)
PY

echo "$passes passed, $failures failed"
[ $failures = 0 ]
