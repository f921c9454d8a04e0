"""Reads a page rendered by page_browser.sh (--dump-dom) and compares it
with /status and /report fetched right after it.

Usage: page_check.py MODE PAGE.html STATUS.json REPORT.json CHROMIUM.err
MODE: moving (the round goes on: the page may be behind, never ahead),
final (the round ended: every number equal), gone (the proxy was killed:
the page shows the error and keeps the last numbers).
"""
import json
import re
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    """Text by element id, rows per table, SVG shapes per chart."""

    def __init__(self):
        super().__init__()
        self.text, self.attrs, self.rows, self.shapes = {}, {}, {}, {}
        self.stack = []  # (tag, id) of open elements

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.attrs[a["id"]] = a
            self.text.setdefault(a["id"], "")
        ids = [i for _, i in self.stack if i]
        if tag == "tr" and "tbody" in [t for t, _ in self.stack]:
            for i in ids:
                self.rows[i] = self.rows.get(i, 0) + 1
        if tag in ("path", "polyline"):
            for i in ids:
                self.shapes.setdefault(i, []).append(a)
        if tag in ("meta", "link", "input", "br", "img", "path", "polyline",
                   "line", "rect"):
            return
        self.stack.append((tag, a.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k][0] == tag:
                del self.stack[k:]
                break

    def handle_data(self, data):
        for _, i in self.stack:
            if i:
                self.text[i] = self.text.get(i, "") + data


mode, page_file, status_file, report_file, err_file = sys.argv[1:6]
page = Page()
page.feed(open(page_file, encoding="utf-8").read())
status = report = None
if mode != "gone":
    status = json.load(open(status_file))
    try:
        report = json.load(open(report_file))
    except ValueError:  # /report before /stop: an error body
        report = None
failures = 0


def check(ok, what):
    global failures
    print(("ok: " if ok else "FAIL: ") + what)
    failures += 0 if ok else 1


def number(element_id):
    text = page.text.get(element_id, "").strip().split(" ")[0].replace(",", "")
    return int(text) if text.isdigit() else None


print(f"-- {mode}: page phase {page.text.get('phase')!r}, round {page.text.get('round')!r}")
check(page.text.get("console-errors", "").strip() == "0",
      f"no console error (page counted {page.text.get('console-errors')!r})")
console = [line for line in open(err_file, errors="replace")
           if "CONSOLE" in line or "Uncaught" in line]
if mode != "gone":
    check(not console, "chromium logged no console message: " + "".join(console[:3]))
    check(page.attrs.get("error", {}).get("hidden") is not None,
          f"no error banner ({page.text.get('error', '').strip()!r})")

if mode == "gone":
    banner = page.text.get("error", "").strip()
    check(page.attrs.get("error", {}).get("hidden") is None and "did not answer" in banner,
          f"the page says the proxy stopped answering: {banner!r}")
    sys.exit(1 if failures else 0)

check(page.text.get("round", "").strip() == str(status["round"]),
      f"round {page.text.get('round')!r} = {status['round']}")
check(number("n-pods") == status["pods"], f"pods {number('n-pods')} = {status['pods']}")
order = ["idle", "delivering", "delivered", "collecting", "collected"]
page_phase = page.text.get("phase", "").strip()
if mode == "final":
    check(page_phase == status["phase"] == "collected", f"phase {page_phase!r} = collected")
else:
    check(page_phase in order and order.index(page_phase) <= order.index(status["phase"]),
          f"phase {page_phase!r} not ahead of {status['phase']!r}")
for key in ["delivered", "unconfirmed", "delivery_failed", "collected",
            "collect_failed", "calls", "retries"]:
    shown, now = number(f"n-{key}"), status[key]
    if mode == "final":
        check(shown == now, f"{key}: page {shown} = /status {now}")
    else:
        check(shown is not None and shown <= now, f"{key}: page {shown} <= /status {now}")

chart = page.shapes.get("states-chart", [])
check(len(chart) >= 2, f"pods-by-state chart drawn ({len(chart)} areas: "
      + ", ".join(a.get("data-state", "?") for a in chart) + ")")
problems_rows = page.rows.get("problems", 0)
if mode == "final":
    check(problems_rows == min(25, len(status["problems"])),
          f"problem pods table: {problems_rows} rows for {status['problems_total']} problem pods")
    check(status["problems_total"] > 0, "the faults made problem pods")
    c = status["completeness"]
    for key in ["expected", "reported", "missing", "unknown", "netpols_incomplete",
                "pods_incomplete"]:
        check(number(f"c-{key}") == c[key], f"completeness {key}: page {number(f'c-{key}')} = {c[key]}")
    netpol_rows = page.rows.get("netpols", 0)
    check(netpol_rows == min(25, len(report["netpols"])),
          f"netpols table: {netpol_rows} rows of {report['netpols_total']} netpols")
    first = re.sub(r"\s+", " ", page.text.get("netpols", "")).strip()
    worst = report["netpols"][0]["name"]
    check(worst in first, f"the worst netpol ({worst}) is listed")
    curve = page.shapes.get("curve-chart", [])
    last = curve[0].get("data-last") if curve else None
    check(last == str(report["curve"]["succeeded"][-1]) and last == str(c["reported"]),
          f"enforcement curve drawn, ending at {last} = {c['reported']} tests reported")
    settings = page.rows.get("settings", 0)
    check(settings >= 15, f"settings table: {settings} rows")
    check(page.text.get("version", "").strip() == status["version"], "version shown")
else:
    check(problems_rows <= 25, f"problem pods table paged ({problems_rows} rows)")
sys.exit(1 if failures else 0)
