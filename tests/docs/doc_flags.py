#!/usr/bin/env python3
"""README's flag table, and docs/operations.md's, against `netpol-proxy --help`;
the exit codes README gives, against the binary.

Usage: doc_flags.py NETPOL_PROXY SOURCE_DIR

- every flag --help lists is a row of both tables (README.md, "Flags";
  docs/operations.md, "Flags and environment") with the same environment
  variable and the same default, and every row's flag is in --help. A
  default cell is compared by its first word, or its first `quoted` text;
- README's --log-level row names every level --help accepts;
- every NETPOL_PROXY_* variable README.md or docs/*.md names is in --help;
- each exit code README gives ("Exit codes: ...") is what the binary
  returns for such a case, and README names each code the cases give;
- --log-level off prints nothing, even the error that ends it.
"""
import os
import re
import socket
import subprocess
import sys

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


help_text = subprocess.run([proxy, "--help"], capture_output=True, text=True,
                           timeout=10).stdout
helped = {}
for m in re.finditer(r"--([a-z][a-z-]+) (.*?)=(.*?) \(Env:(\w+)\)", help_text):
    helped["--" + m.group(1)] = (m.group(4), m.group(3), m.group(2))
if len(helped) < 15:
    fail(f"--help lists {len(helped)} flags with a variable: cannot parse it")


def first_value(cell):
    cell = cell.strip()
    m = re.match(r"`([^`]*)`", cell)
    if m:
        return m.group(1)
    return cell.split()[0] if cell.split() else ""


def table_rows(text):
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\| `(--[a-z-]+)` \| `(NETPOL_PROXY_\w+)` \| ([^|]*) \|",
                     line)
        if m:
            rows[m.group(1)] = (m.group(2), first_value(m.group(3)), m.group(3))
    return rows


for doc in ("README.md", "docs/operations.md"):
    rows = table_rows(read(doc))
    for flag, (variable, default, _type) in sorted(helped.items()):
        if flag not in rows:
            fail(f"{doc}: --help has {flag} ({variable}), the table does not")
            continue
        doc_var, doc_default, _ = rows[flag]
        if doc_var != variable:
            fail(f"{doc}: {flag} has {doc_var}, --help says {variable}")
        elif doc_default != default:
            fail(f"{doc}: {flag} defaults to '{doc_default}', --help says '{default}'")
        else:
            ok(f"{doc}: {flag} {variable} {default}")
    for flag in sorted(set(rows) - set(helped)):
        fail(f"{doc}: the table has {flag}, --help does not")

levels = re.search(r"--log-level TEXT:\{([a-z,]+)\}", help_text)
readme = read("README.md")
if not levels:
    fail("--help gives no set of log levels")
else:
    row = table_rows(readme).get("--log-level", ("", "", ""))[2]
    for level in levels.group(1).split(","):
        if f"`{level}`" in row:
            ok(f"README names log level {level}")
        else:
            fail(f"README's --log-level row does not name `{level}`")

docs_text = readme + "".join(
    read(os.path.join("docs", f)) for f in sorted(os.listdir(os.path.join(root, "docs")))
    if f.endswith(".md"))
variables = {v for v, _, _ in helped.values()}
for name in sorted(set(re.findall(r"NETPOL_PROXY_[A-Z_]*[A-Z]", docs_text))):
    if name not in variables:
        fail(f"the docs name {name}, --help does not")

# Exit codes.
exit_para = re.search(r"Exit codes:(.*?)\n\n", readme, re.S)
if not exit_para:
    fail("README has no 'Exit codes:' paragraph")
    exit_para_text = ""
else:
    exit_para_text = " ".join(exit_para.group(1).split())
busy = socket.socket()
busy.bind(("127.0.0.1", 0))
busy.listen()
busy_port = busy.getsockname()[1]
base = [proxy, "--state-dir", ""]
cases = [
    ("--help", [proxy, "--help"], {}, 0),
    ("--version", [proxy, "--version"], {}, 0),
    ("--workers 0", base + ["--workers", "0"], {}, 105),
    ("--connect-timeout fast", base + ["--connect-timeout", "fast"], {}, 105),
    ("--log-level loud", base + ["--log-level", "loud"], {}, 105),
    ("NETPOL_PROXY_WORKERS=many", base, {"NETPOL_PROXY_WORKERS": "many"}, 105),
    ("an unknown flag", base + ["--nope"], {}, 109),
    ("an extra argument", base + ["extra"], {}, 109),
    ("a flag twice", base + ["--workers", "1", "--workers", "2"], {}, 114),
    ("a flag without its value", base + ["--workers"], {}, 114),
    ("--backoff-cap under --backoff-base", base + ["--backoff-base", "9s"], {}, 2),
    ("the listen address in use",
     base + ["--listen", f"127.0.0.1:{busy_port}"], {}, 1),
]
for what, argv, env, expected in cases:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=20,
                       env={**os.environ, **env})
    if r.returncode != expected:
        fail(f"{what}: exit {r.returncode}, expected {expected}: {r.stderr.strip()}")
        continue
    if not re.search(rf"(?<![\d-]){expected}(?![\d])", exit_para_text):
        fail(f"{what}: exit {expected}, which README's 'Exit codes' does not give")
        continue
    ok(f"{what}: exit {expected}")
    if what.startswith("NETPOL_PROXY_WORKERS"):
        if "(the environment variable of --workers)" in r.stderr:
            ok("the error names the variable")
        else:
            fail(f"the error does not name the variable: {r.stderr.strip()}")

r = subprocess.run(base + ["--log-level", "off", "--listen",
                           f"127.0.0.1:{busy_port}"],
                   capture_output=True, text=True, timeout=20)
if r.returncode == 1 and r.stdout == "" and r.stderr == "":
    ok("--log-level off: exit 1 and no line for the port in use")
else:
    fail(f"--log-level off: exit {r.returncode}, wrote {r.stdout + r.stderr!r}")
busy.close()

print(f"doc_flags: {len(failures)} failed" if failures else
      "doc_flags: all checks passed")
sys.exit(1 if failures else 0)
