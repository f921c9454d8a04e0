#!/usr/bin/env python3
"""README's endpoint table against the routes the proxy serves.

Usage: doc_endpoints.py NETPOL_PROXY SOURCE_DIR

- The table (README.md, "Endpoints": each row's first cell names methods
  and paths) and the route table in http_bridge/routes.cpp (its entries
  `{"/path", {"METHOD", ...}, ...}`, plus the live page's assets, which
  the page's HTML names) list the same paths with the same methods, both
  ways.
- The running binary (loopback, a port the kernel hands out, no state
  dir) answers each documented path and method with something other than
  404 and 405, a method the table does not give with 405 and an `Allow` of
  exactly the table's methods, and a path the table does not have with
  404 `not_found`; the page's CSS and JS, named in its HTML, answer 200.
"""
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request

proxy, root = sys.argv[1], sys.argv[2]
failures = []


def fail(what):
    failures.append(what)
    print("FAIL:", what)


def ok(what):
    print("ok:", what)


def read(rel):
    with open(os.path.join(root, rel), encoding="utf-8") as fh:
        return fh.read()


readme = read("README.md")
section = re.search(r"\n## Endpoints\n(.*?)\n## ", readme, re.S)
documented = {}
if not section:
    fail("README has no 'Endpoints' section")
else:
    for line in section.group(1).splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        methods = set(re.findall(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD)\b", first))
        paths = re.findall(r"(/[\w/.-]*)", first)
        for path in paths:
            documented[path] = documented.get(path, set()) | methods
if len(documented) < 10:
    fail(f"README's endpoint table: {len(documented)} paths found")

source = {}
routes_cpp = read("http_bridge/routes.cpp")
for m in re.finditer(r'\{"(/[^"]*)",\s*\{([^}]*)\}', routes_cpp):
    source[m.group(1)] = set(re.findall(r'"([A-Z]+)"', m.group(2)))
if "page_assets[i].path" in routes_cpp:
    source["/"] = {"GET"}  # the live page; its assets are checked below
if len(source) < 10:
    fail(f"http_bridge/routes.cpp: {len(source)} routes found")

for path in sorted(set(source) | set(documented)):
    if path not in documented:
        fail(f"routes.cpp serves {path} {sorted(source[path])}; README's table does not have it")
    elif path not in source:
        fail(f"README's table has {path}; routes.cpp does not serve it")
    elif source[path] != documented[path]:
        fail(f"{path}: README gives {sorted(documented[path])}, routes.cpp {sorted(source[path])}")
    else:
        ok(f"{' '.join(sorted(source[path]))} {path}: in the table and the source")


def request(port, method, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=b"" if method in ("POST", "PUT", "PATCH") else None)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode("utf-8", "replace")


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
p = subprocess.Popen([proxy, "--listen", f"127.0.0.1:{port}", "--state-dir", ""],
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.monotonic() + 10
    while True:
        try:
            if request(port, "GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            fail("the proxy did not answer /healthz within 10 s")
            raise SystemExit(1)
        time.sleep(0.05)
    for path, methods in sorted(documented.items()):
        for method in sorted(methods):
            status = request(port, method, path)[0]
            if status in (404, 405):
                fail(f"{method} {path}: {status} from the binary")
            else:
                ok(f"{method} {path}: {status}")
        other = next(m for m in ("DELETE", "PUT", "PATCH") if m not in methods)
        status, headers, _ = request(port, other, path)
        allow = {m.strip() for m in headers.get("Allow", "").split(",") if m.strip()}
        if status == 405 and allow == methods:
            ok(f"{other} {path}: 405, Allow: {', '.join(sorted(allow))}")
        else:
            fail(f"{other} {path}: {status}, Allow {sorted(allow)}; the table gives {sorted(methods)}")
    status, _, body = request(port, "GET", "/no-such-endpoint")
    if status == 404 and json.loads(body).get("error") == "not_found":
        ok("an unknown path: 404 not_found")
    else:
        fail(f"an unknown path: {status} {body}")
    _, _, html = request(port, "GET", "/")
    assets = sorted(set(re.findall(r"/ui/page-[0-9a-zA-Z]+\.(?:css|js)", html)))
    kinds = {a.rsplit(".", 1)[1] for a in assets}
    if kinds != {"css", "js"}:
        fail(f"the page names assets {assets}; README's table says a CSS and a JS")
    for asset in assets:
        status = request(port, "GET", asset)[0]
        (ok if status == 200 else fail)(f"GET {asset}: {status}")
finally:
    p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()

print(f"doc_endpoints: {len(failures)} failed" if failures else
      "doc_endpoints: all checks passed")
sys.exit(1 if failures else 0)
