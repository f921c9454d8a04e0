#!/usr/bin/env python3
"""Every log line README.md and docs/*.md quote comes from a real run.

Usage: doc_log_lines.py NETPOL_PROXY NETPOL_PODSIM NETPOL_CLIENT SOURCE_DIR

A quoted log line is any line of README.md or docs/*.md that starts with the
timestamp the proxy and netpol-client write, `YYYY/MM/DD HH:MM:SS ` (in a
fenced block or not): a new quoted line is checked without changing this
test. Each must have the shape of a line one of the runs below wrote:
numbers (counts, times, addresses, ports, versions), hex strings (commits,
hashes), the commit in `(commit ...)`, single-quoted values, absolute paths
and a ` ... ` in the quoted line (text left out) match anything of their
kind; every other character must be the same.

The runs, all on loopback (127.x addresses, ports the kernel hands out),
each bounded, every process killed at the end:
- README's walkthrough: its netpol-podsim and netpol-proxy command lines
  are read from README's fenced block, with the listen address, the client
  port and the state dir replaced by the test's own. Besides the shape
  check, README's log block must be the run "in full": every line the run
  wrote has the shape of a line of that block;
- the 400-pod run with faults that docs/kube-burner.md and
  docs/operations.md quote, with short timeouts (the lines' shapes do not
  depend on them);
- a refused /initiate (--max-pods below the body's pods);
- a proxy killed (SIGKILL) while /check calls to hung pods are out, and
  restarted on its state dir (the "Resumed round" line);
- netpol-client given a /check of two targets, one listening from the
  start and one after a while (docs/client.md's lines).

EXEMPT lists quoted lines no run here can make, each with its reason; it is
empty now.
"""
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

proxy, podsim, client, root = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="doc_log_lines.")
procs = []
failures = []
EXEMPT = [
    # (file, regex on the quoted line, reason)
]
TIMESTAMP = re.compile(r"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ")


def fail(what):
    failures.append(what)
    print("FAIL:", what)


def free_port(address="127.0.0.1"):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def start(argv, log):
    out = open(os.path.join(work, log), "w")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        p.send_signal(sig)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def lines_of(log):
    with open(os.path.join(work, log), encoding="utf-8", errors="replace") as fh:
        return [l.rstrip("\n") for l in fh]


def http(url, data=None, timeout=5):
    req = urllib.request.Request(url, data=data,
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(what, check, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except OSError:
            pass
        time.sleep(0.1)
    fail(f"{what}: not within {seconds} s")
    return False


def wait_log(log, text, seconds):
    return wait_for(f"'{text}' in {log}",
                    lambda: any(text in l for l in lines_of(log)), seconds)


def result_true(url):
    status, body = http(url)
    return status == 200 and json.loads(body).get("result") is True


def round_trip(port, initiate, pause=0.0):
    """What kube-burner does: /initiate, poll, /stop, poll, /results."""
    base = f"http://127.0.0.1:{port}"
    with open(initiate, "rb") as fh:
        http(base + "/initiate", fh.read())
    wait_for("delivery", lambda: result_true(base + "/checkConnectionsStatus"), 60)
    time.sleep(pause)
    http(base + "/stop")
    wait_for("collection", lambda: result_true(base + "/checkStopStatus"), 60)
    http(base + "/results")


def started(port):
    return lambda: http(f"http://127.0.0.1:{port}/healthz")[0] == 200


def walkthrough():
    """README's walkthrough, its commands read from README."""
    with open(os.path.join(root, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    block = re.search(r"## Try it with simulated pods.*?```sh\n(.*?)```", readme, re.S)
    if not block:
        fail("README: no walkthrough block under 'Try it with simulated pods'")
        return []
    commands = block.group(1).replace("\\\n", " ")
    sim = re.search(r"^build/tests/podsim/netpol-podsim (.*?) &$", commands, re.M)
    prox = re.search(r"^build/netpol-proxy (.*?) &$", commands, re.M)
    if not sim or not prox:
        fail("README's walkthrough: no netpol-podsim or netpol-proxy line")
        return []
    sim_args = shlex.split(sim.group(1))
    proxy_args = shlex.split(prox.group(1))
    if "--state-dir" not in proxy_args:
        fail("README's walkthrough gives the proxy no state dir of its own")
        return []
    state = os.path.join(work, "walkthrough-state")
    proxy_args[proxy_args.index("--state-dir") + 1] = state
    initiate = os.path.join(work, "initiate.json")
    sim_args[sim_args.index("--write-initiate") + 1] = initiate
    client_port = free_port("127.1.0.1")
    port = free_port()
    sim_p = start([podsim, *sim_args, "--port", str(client_port)], "walk-podsim.log")
    wait_for("the walkthrough's fleet", lambda: os.path.exists(initiate), 10)
    prox_p = start([proxy, *proxy_args, "--listen", f"127.0.0.1:{port}",
                    "--client-port", str(client_port)], "walk-proxy.log")
    if wait_for("the walkthrough's proxy", started(port), 10):
        round_trip(port, initiate)
        http(f"http://127.0.0.1:{port}/status")
        http(f"http://127.0.0.1:{port}/report")
    stop(prox_p)
    stop(sim_p)
    return lines_of("walk-proxy.log")


def faults():
    """docs/kube-burner.md's 400-pod run, with short timeouts."""
    initiate = os.path.join(work, "faults.json")
    client_port = free_port("127.87.0.1")
    sim_p = start([podsim, "--pods", "400", "--first-address", "127.87.0.1",
                   "--port", str(client_port), "--latency", "100ms",
                   "--connections-per-pod", "5", "--down", "2", "--http-500", "1",
                   "--hang", "1", "--partial", "2", "--alien", "1",
                   "--write-initiate", initiate], "faults-podsim.log")
    wait_for("the fleet of 400", lambda: os.path.exists(initiate), 10)
    port = free_port()
    prox_p = start([proxy, "--listen", f"127.0.0.1:{port}", "--client-port",
                    str(client_port), "--state-dir", os.path.join(work, "faults-state"),
                    "--connect-timeout", "1s", "--request-timeout", "1s",
                    "--backoff-cap", "1s", "--progress-interval", "500ms"],
                   "faults-proxy.log")
    if wait_for("the proxy of the 400-pod run", started(port), 10):
        round_trip(port, initiate, pause=0.5)
    stop(prox_p)
    stop(sim_p)
    return lines_of("faults-proxy.log")


def refused(initiate):
    port = free_port()
    p = start([proxy, "--listen", f"127.0.0.1:{port}", "--state-dir", "",
               "--max-pods", "5"], "refused.log")
    if wait_for("the proxy for a refusal", started(port), 10):
        with open(initiate, "rb") as fh:
            http(f"http://127.0.0.1:{port}/initiate", fh.read())
        wait_log("refused.log", "Until a valid /initiate arrives", 10)
    stop(p)
    return lines_of("refused.log")


def resumed():
    """Killed with /check calls to hung pods out, restarted on its store."""
    initiate = os.path.join(work, "resume.json")
    client_port = free_port("127.88.0.1")
    sim_p = start([podsim, "--pods", "20", "--first-address", "127.88.0.1",
                   "--port", str(client_port), "--hang", "4",
                   "--write-initiate", initiate], "resume-podsim.log")
    wait_for("the fleet of 20", lambda: os.path.exists(initiate), 10)
    port = free_port()
    state = os.path.join(work, "resume-state")
    argv = [proxy, "--listen", f"127.0.0.1:{port}", "--client-port",
            str(client_port), "--state-dir", state]
    first = start(argv, "resume-1.log")
    if wait_for("the proxy to be killed", started(port), 10):
        with open(initiate, "rb") as fh:
            http(f"http://127.0.0.1:{port}/initiate", fh.read())
        wait_for("16 pods delivered", lambda: json.loads(
            http(f"http://127.0.0.1:{port}/checkConnectionsStatus")[1])
            .get("delivered") == 16, 10)
    stop(first, signal.SIGKILL)
    second = start(argv, "resume-2.log")
    wait_log("resume-2.log", "Resumed round", 10)
    stop(second)
    stop(sim_p)
    return lines_of("resume-1.log") + lines_of("resume-2.log")


def serve_http(sock, until):
    """Answer every connection on sock 200 (netpol-client's success)."""
    def answer(conn):
        with conn:
            conn.settimeout(2)
            try:
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Connection: close\r\n\r\nok")
            except OSError:
                pass
    sock.settimeout(0.2)
    while not until.is_set():
        try:
            conn, _ = sock.accept()
        except OSError:
            continue
        threading.Thread(target=answer, args=(conn,), daemon=True).start()


def client_run():
    """netpol-client with two targets on loopback: one answers from the
    start; the other's accept queue is kept full, so its SYNs go
    unanswered (netpol-client's "no SYN-ACK in time"), until it answers
    too after 2.5 s."""
    done = threading.Event()
    early, late = socket.socket(), socket.socket()
    early.bind(("127.0.0.1", 0))
    early.listen(64)
    late.bind(("127.0.0.1", 0))
    late.listen(0)
    fillers = []
    for _ in range(4):  # fill the accept queue; later SYNs are dropped
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(late.getsockname())
        fillers.append(f)
    port = free_port()
    p = start([client, "--listen", f"127.0.0.1:{port}", "--progress-interval",
               "1s"], "client.log")
    servers = [threading.Thread(target=serve_http, args=(early, done), daemon=True)]
    servers[0].start()

    def open_late():
        time.sleep(2.5)
        for f in fillers:
            f.close()
        serve_http(late, done)
    if wait_for("netpol-client", lambda: http(
            f"http://127.0.0.1:{port}/results")[0] == 200, 10):
        body = json.dumps([
            {"addresses": ["127.0.0.1"], "ports": [early.getsockname()[1]],
             "netpol": "ingress-0"},
            {"addresses": ["127.0.0.1"], "ports": [late.getsockname()[1]],
             "netpol": "ingress-1"}])
        servers.append(threading.Thread(target=open_late, daemon=True))
        servers[1].start()
        http(f"http://127.0.0.1:{port}/check", body.encode())
        wait_log("client.log", "tests succeeded, the first at", 15)
    stop(p)
    done.set()
    for t in servers:
        t.join(timeout=5)
    early.close()
    late.close()
    return lines_of("client.log")


TOKEN = re.compile(
    r"(?P<skip> \.\.\. )"
    r"|(?P<commit>\(commit [^)]*\))"
    r"|(?P<quoted>'[^']*')"
    r"|(?P<path>/[\w.-]+(?:/[\w.-]+)+)"
    r"|(?P<hex>\b[0-9a-f]{12,}\b)"
    r"|(?P<number>\d+(?:[.,:]\d+)*)")
WILD = {"skip": r" .* ", "commit": r"\(commit [^)]*\)", "quoted": r"'[^']*'",
        "path": r"/\S+", "hex": r"[0-9a-f]+", "number": r"\d+(?:[.,:]\d+)*"}


def shape(line):
    """A quoted line (timestamp dropped) as a regex of its shape."""
    text = TIMESTAMP.sub("", line)
    out, pos = [], 0
    for m in TOKEN.finditer(text):
        out.append(re.escape(text[pos:m.start()]))
        out.append(WILD[m.lastgroup])
        pos = m.end()
    out.append(re.escape(text[pos:]))
    return re.compile("".join(out))


def quoted_lines():
    docs = ["README.md"] + sorted(
        os.path.join("docs", f) for f in os.listdir(os.path.join(root, "docs"))
        if f.endswith(".md"))
    for doc in docs:
        with open(os.path.join(root, doc), encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if TIMESTAMP.match(line):
                    yield doc, number, line.rstrip("\n")


def readme_log_block():
    with open(os.path.join(root, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    m = re.search(r"this run's, in full:\n\n```\n(.*?)```", readme, re.S)
    return m.group(1).splitlines() if m else None


try:
    written = {}
    written["walkthrough"] = walkthrough()
    written["faults"] = faults()
    written["refused"] = refused(os.path.join(work, "initiate.json"))
    written["resumed"] = resumed()
    written["client"] = client_run()
    for run, lines in written.items():
        print(f"-- {run}: {len(lines)} lines written")
    everything = [TIMESTAMP.sub("", l) for ls in written.values() for l in ls]

    count = exempt = 0
    for doc, number, line in quoted_lines():
        count += 1
        reason = next((r for f, pat, r in EXEMPT
                       if f == doc and re.search(pat, line)), None)
        if reason:
            exempt += 1
            print(f"exempt: {doc}:{number}: {reason}")
            continue
        regex = shape(line)
        if not any(regex.fullmatch(l) for l in everything):
            fail(f"{doc}:{number}: no run wrote a line of this shape: "
                 f"{TIMESTAMP.sub('', line)}")
    if count < 40:
        fail(f"only {count} quoted log lines found: is the timestamp format the same?")

    block = readme_log_block()
    if block is None:
        fail("README: no log block after \"this run's, in full:\"")
    else:
        shapes = [shape(l) for l in block]
        for line in written["walkthrough"]:
            bare = TIMESTAMP.sub("", line)
            if not any(s.fullmatch(bare) for s in shapes):
                fail(f"README's walkthrough log is not in full: the run wrote '{bare}'")
    print(f"doc_log_lines: {count} quoted lines, {exempt} exempt, "
          f"{len(failures)} failed")
finally:
    for p in procs:
        stop(p, signal.SIGKILL)
    if os.environ.get("DOC_LOG_LINES_KEEP"):
        print("kept", work)
    else:
        subprocess.run(["rm", "-rf", work])
sys.exit(1 if failures else 0)
