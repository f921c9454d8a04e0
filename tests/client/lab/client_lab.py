#!/usr/bin/env python3
"""The client lab (docs/client.md, "The lab"): how late a client pod's
success timestamps are, measured against known instants.

A hub network namespace routes between client namespaces and server
namespaces, each joined to it by a veth pair. Every server address listens
on :8080 and answers `GET /` with 200. An nftables set in the hub holds one
element per test (server address . 8080) that drops (or rejects) its SYNs,
the way a CNI enforces a deny-all policy; "enforcing" a test removes its
element, in process through libnftables, and records the instant before
and after. A counter in the hub counts every SYN towards the servers. The
client under test runs in its own namespace; the lab posts it the list,
enforces the tests one by one over a window, reads /results, and compares
each timestamp with its test's enforcement.

Subcommands:
  run    one client, one mode: a JSON summary (and a line for the table)
  test   ctest: ours, small, drop then reject; asserts what must hold
  e2e    ctest: several clients behind netpol-proxy, kube-burner's calls,
         the results decoded by the Go oracle as kube-burner decodes them
  bench  make bench-client: 20, 100 and 1,000 tests, drop and reject, for
         ours and (when given) the real client built by hand

Needs root (namespaces, nftables): exits 77 (skipped) otherwise. Every
namespace it makes is removed at the end, and those of a lab that died
are removed at the next start.
"""

import argparse
import ctypes
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SKIP = 77
PREFIX = "ncl"  # namespaces: ncl<pid>-hub, ncl<pid>-s<k>, ncl<pid>-c<i>
TABLE = "netpol_client_lab"
CLONE_NEWNET = 0x40000000
PR_SET_PDEATHSIG = 1
libc = ctypes.CDLL("libc.so.6", use_errno=True)


def log(*args):
    print("client_lab:", *args, file=sys.stderr, flush=True)


def sh(*cmd, input=None, check=True):
    done = subprocess.run(cmd, input=input, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {done.stderr.strip()}")
    return done.stdout


def enter_netns(name):
    fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {name}")
    finally:
        os.close(fd)


def die_with_parent():
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


# --------------------------------------------------------------------------
# The network


class Network:
    """Namespaces, veth pairs, addresses, routes and the hub's nftables."""

    def __init__(self, servers, addresses_per_server, clients, mode):
        self.home = os.open("/proc/self/ns/net", os.O_RDONLY)
        self.name = f"{PREFIX}{os.getpid()}"
        self.hub = f"{self.name}-hub"
        self.servers = [f"{self.name}-s{k}" for k in range(servers)]
        self.clients = [f"{self.name}-c{i}" for i in range(clients)]
        self.per_server = addresses_per_server
        self.mode = mode
        self.nft = None

    def server_addresses(self):
        return [f"10.202.{k}.{j + 1}"
                for k in range(len(self.servers))
                for j in range(self.per_server)]

    def client_address(self, i):
        return f"10.201.{i}.2"

    def up(self):
        remove_stale_labs()
        sh("ip", "netns", "add", self.hub)
        for ns in self.servers + self.clients:
            sh("ip", "netns", "add", ns)
        hub_batch = ["link set lo up"]
        for k, ns in enumerate(self.servers):
            self._veth(f"s{k}", ns)
            hub_batch += [f"addr add 10.202.{k}.254/24 dev s{k}",
                          f"link set s{k} up"]
            batch = [f"addr add 10.202.{k}.{j + 1}/24 dev eth0"
                     for j in range(self.per_server)]
            batch += ["link set lo up", "link set eth0 up",
                      f"route add default via 10.202.{k}.254"]
            sh("ip", "-n", ns, "-batch", "-", input="\n".join(batch) + "\n")
        for i, ns in enumerate(self.clients):
            self._veth(f"c{i}", ns)
            hub_batch += [f"addr add 10.201.{i}.1/24 dev c{i}",
                          f"link set c{i} up"]
            sh("ip", "-n", ns, "-batch", "-", input="\n".join([
                f"addr add {self.client_address(i)}/24 dev eth0",
                "link set lo up", "link set eth0 up",
                f"route add default via 10.201.{i}.1"]) + "\n")
        sh("ip", "-n", self.hub, "-batch", "-",
           input="\n".join(hub_batch) + "\n")
        sh("ip", "netns", "exec", self.hub, "sysctl", "-qw",
           "net.ipv4.ip_forward=1")
        verdict = "drop" if self.mode == "drop" else "reject with tcp reset"
        sh("ip", "netns", "exec", self.hub, "nft", "-f", "-", input=f"""
table inet {TABLE} {{
  counter syns {{ }}
  set blocked {{ type ipv4_addr . inet_service; }}
  chain forward {{
    type filter hook forward priority 0; policy accept;
    ip daddr 10.202.0.0/16 tcp dport 8080 tcp flags & (syn | ack) == syn counter name syns
    ip daddr . tcp dport @blocked {verdict}
  }}
}}
""")

    def _veth(self, hub_side, ns):
        sh("ip", "link", "add", hub_side, "netns", self.hub, "type", "veth",
           "peer", "name", "eth0", "netns", ns)

    def block(self, addresses):
        elements = ", ".join(f"{a} . 8080" for a in addresses)
        sh("ip", "netns", "exec", self.hub, "nft", "add", "element", "inet",
           TABLE, "blocked", "{ " + elements + " }")

    def enter_hub(self):
        """From here on this process lives in the hub: it reaches every
        namespace, and libnftables edits the hub's table in process."""
        enter_netns(self.hub)
        self.nft = Nft()

    def enforce(self, address):
        """Removes `address`'s drop; returns the instants (ns, real-time
        clock) just before and just after."""
        before = time.time_ns()
        self.nft.run(f"delete element inet {TABLE} blocked "
                     f"{{ {address} . 8080 }}")
        return before, time.time_ns()

    def syns(self):
        out = json.loads(sh("nft", "-j", "list", "counter", "inet", TABLE,
                            "syns"))
        for item in out["nftables"]:
            if "counter" in item:
                return item["counter"]["packets"]
        raise RuntimeError("no SYN counter")

    def down(self):
        if self.nft:
            self.nft.close()
            self.nft = None
        libc.setns(self.home, CLONE_NEWNET)  # out of the hub, so it can go
        os.close(self.home)
        for ns in [self.hub] + self.servers + self.clients:
            subprocess.run(["ip", "netns", "delete", ns],
                           capture_output=True)


def remove_stale_labs():
    """Namespaces of labs whose process is gone (killed mid-run)."""
    for line in sh("ip", "netns", "list").splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX) or "-" not in name:
            continue
        pid = name[len(PREFIX):name.index("-")]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            subprocess.run(["ip", "netns", "delete", name],
                           capture_output=True)


class Nft:
    """libnftables in process: removing one set element takes well under
    a millisecond, against several for an `nft` process."""

    def __init__(self):
        self.lib = ctypes.CDLL("libnftables.so.1")
        self.lib.nft_ctx_new.restype = ctypes.c_void_p
        self.lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        self.lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p,
                                                     ctypes.c_char_p]
        self.lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
        self.lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
        self.lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
        self.ctx = self.lib.nft_ctx_new(0)
        self.lib.nft_ctx_buffer_error(self.ctx)

    def close(self):
        self.lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        self.lib.nft_ctx_free(self.ctx)

    def run(self, command):
        if self.lib.nft_run_cmd_from_buffer(self.ctx, command.encode()) != 0:
            error = self.lib.nft_ctx_get_error_buffer(self.ctx)
            raise RuntimeError(f"nft {command}: {error.decode().strip()}")


# --------------------------------------------------------------------------
# The servers: every address of every server namespace on :8080


SERVER_ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 b"Content-Length: 2\r\nConnection: close\r\n\r\nok")


def start_servers(network):
    """Forks one process that listens in every server namespace and
    answers 200 as soon as a request's header is in."""
    ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_r)
            die_with_parent()
            serve(network.servers, ready_w)
        finally:
            os._exit(0)
    os.close(ready_w)
    if os.read(ready_r, 1) != b"1":
        raise RuntimeError("the servers did not start")
    os.close(ready_r)
    return pid


def serve(namespaces, ready_fd):
    import asyncio
    sockets = []
    for ns in namespaces:
        enter_netns(ns)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", 8080))
        s.listen(1024)
        s.setblocking(False)
        sockets.append(s)

    async def answer(reader, writer):
        try:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            writer.write(SERVER_ANSWER)
            await writer.drain()
        except Exception:
            pass
        finally:
            writer.close()

    async def main():
        for s in sockets:
            await asyncio.start_server(answer, sock=s)
        os.write(ready_fd, b"1")
        await asyncio.Event().wait()

    asyncio.run(main())


# --------------------------------------------------------------------------
# A client pod, over HTTP


def http(method, url, body=None, timeout=10):
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class ClientProcess:
    """A client pod's container: the command, run in its namespace."""

    def __init__(self, network, index, command, log_path):
        self.address = network.client_address(index)
        argv = [a.replace("{ip}", self.address) for a in command]
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", network.clients[index]] + argv,
            stdout=self.log, stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent)
        self.url = f"http://{self.address}:9001"

    def wait_ready(self, seconds=10):
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise RuntimeError(f"the client exited ({self.process.returncode})")
            try:
                http("GET", self.url + "/results", timeout=1)
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the client does not answer on :9001")

    def cpu_seconds(self):
        """(user, system) CPU seconds so far."""
        with open(f"/proc/{self.process.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick

    def memory_kib(self):
        """(peak RSS, RSS) in KiB."""
        values = {}
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmHWM", "VmRSS"):
                    values[key] = int(rest.split()[0])
        return values.get("VmHWM", 0), values.get("VmRSS", 0)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        return self.process.returncode


# --------------------------------------------------------------------------
# Measurement


def go_time_ns(text):
    """Unix nanoseconds of an RFC 3339 UTC timestamp as Go writes it."""
    date, _, clock = text.rstrip("Z").partition("T")
    whole, _, fraction = clock.partition(".")
    seconds = int(time.mktime(time.strptime(date + "T" + whole,
                                            "%Y-%m-%dT%H:%M:%S"))
                  - time.timezone)
    return seconds * 10**9 + int((fraction + "000000000")[:9])


def quantile(sorted_values, q):
    """Nearest rank: the smallest value with at least q of them at or
    below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def connection_list(addresses, first_index=0):
    """One connection (one policy) per address, on port 8080."""
    return [{"addresses": [a], "ports": [8080],
             "netpol": f"ingress-{first_index + i}"}
            for i, a in enumerate(addresses)]


class Enforcer:
    """Removes each test's drop at its instant, evenly spaced over the
    window: in the list's order by default, which is the order kube-burner
    creates the policies in (it builds each pod's list as it iterates over
    the jobs' iterations and replicas), or in a seeded random order."""

    def __init__(self, network, addresses, window, seed, order="list"):
        self.network = network
        order_of = list(addresses)
        if order == "random":
            random.Random(seed).shuffle(order_of)
        order = order_of
        n = len(order)
        self.plan = [(window * k / n, a) for k, a in enumerate(order)]
        self.instants = {}  # address -> (before ns, after ns)

    def run(self, on_tick=None, tick=1.0):
        """Enforces every test at its instant; calls `on_tick` every
        `tick` seconds in between (reading /results as a proxy would)."""
        start = time.monotonic()
        next_tick = start + tick
        for offset, address in self.plan:
            due = start + offset
            while on_tick and next_tick < due:
                pause_until(next_tick)
                on_tick()
                next_tick += tick
            pause_until(due)
            self.instants[address] = self.network.enforce(address)


def pause_until(moment):
    left = moment - time.monotonic()
    if left > 0:
        time.sleep(left)


def decode_results(body):
    return json.loads(body) if body.strip() else []


class PrefixWatch:
    """Reads /results now and then: each answer must extend the last."""

    def __init__(self, url):
        self.url = url
        self.last = []
        self.reads = 0
        self.violations = 0

    def read(self):
        status, body = http("GET", self.url + "/results")
        if status != 200:
            raise RuntimeError(f"/results answered {status}")
        entries = decode_results(body)
        self.reads += 1
        if entries[:len(self.last)] != self.last:
            self.violations += 1
        self.last = entries
        return entries


def measure(entries, instants, tests):
    """Errors against enforcement; what is missing, doubled or early."""
    seen = {}
    for e in entries:
        key = (e["address"], e["port"], e["connectionidx"], e["npname"])
        seen.setdefault(key, []).append(go_time_ns(e["timestamp"]))
    errors, early, duplicates, missing = [], 0, 0, 0
    for key in tests:
        stamps = seen.get(key, [])
        if not stamps:
            missing += 1
            continue
        duplicates += len(stamps) - 1
        before, after = instants[key[0]]
        if stamps[0] < before:
            early += 1
        errors.append((stamps[0] - after) / 1e6)
    errors.sort()
    unexpected = sum(len(v) for k, v in seen.items() if k not in tests)
    return {
        "reported": len(tests) - missing, "missing": missing,
        "duplicates": duplicates, "unexpected": unexpected, "early": early,
        "error_ms": {name: quantile(errors, q) for name, q in
                     (("p50", .5), ("p90", .9), ("p99", .99), ("max", 1.0))}
        | {"min": errors[0] if errors else None},
    }


# --------------------------------------------------------------------------
# One client, one mode


def run_one(args, client_command, label, mode, tests, out_dir):
    servers = min(args.servers, tests)
    per_server = math.ceil(tests / servers)
    network = Network(servers, per_server, 1, mode)
    client = None
    server_pid = None
    try:
        network.up()
        addresses = network.server_addresses()[:tests]
        network.block(addresses)
        server_pid = start_servers(network)
        network.enter_hub()
        client = ClientProcess(network, 0, client_command,
                               os.path.join(out_dir,
                                            f"{label}-{mode}-{tests}.log"))
        client.wait_ready()
        connections = connection_list(addresses)
        expected = {(a, 8080, i, f"ingress-{i}")
                    for i, a in enumerate(addresses)}
        status, answer = http("POST", client.url + "/check",
                              json.dumps(connections))
        if status != 200:
            raise RuntimeError(f"/check answered {status}: {answer!r}")
        started = time.monotonic()
        cpu0, syns0 = client.cpu_seconds(), network.syns()
        time.sleep(args.lead)
        watch = PrefixWatch(client.url)
        enforcer = Enforcer(network, addresses, args.window, args.seed,
                            args.order)
        enforcer.run(on_tick=watch.read)
        entries = settle(watch, len(expected), args.settle)
        summary = measure(entries, {a: enforcer.instants[a]
                                    for a in addresses}, expected)
        resolution = sorted((b - a) / 1e6 for a, b in
                            enforcer.instants.values())
        peak, rss = client.memory_kib()
        syns = network.syns() - syns0
        summary |= {
            "client": label, "mode": mode, "tests": tests,
            "window_s": args.window, "order": args.order, "seed": args.seed,
            "resolution_ms": quantile(resolution, .5),
            "resolution_max_ms": resolution[-1],
            "syns": syns, "syns_per_test": round(syns / tests, 1),
            "cpu_s": round(sum(client.cpu_seconds()) - sum(cpu0), 2),
            "cpu_user_s": round(client.cpu_seconds()[0] - cpu0[0], 2),
            "rss_peak_kib": peak, "rss_kib": rss,
            "results_reads": watch.reads,
            "prefix_violations": watch.violations,
            "seconds": round(time.monotonic() - started, 1),
        }
        status_code, body = http("GET", client.url + "/status")
        if status_code == 200:
            summary["client_status"] = json.loads(body)
        return summary
    finally:
        if client:
            client.stop()
        if server_pid:
            os.kill(server_pid, signal.SIGKILL)
            os.waitpid(server_pid, 0)
        network.down()


def settle(watch, expected, seconds):
    """Reads /results until every test is in or `seconds` have passed."""
    until = time.monotonic() + seconds
    entries = watch.read()
    while len(entries) < expected and time.monotonic() < until:
        time.sleep(0.25)
        entries = watch.read()
    return entries


def table_row(s):
    e = s["error_ms"]
    fmt = lambda v: "–" if v is None else f"{v:.0f}"
    return (f"| {s['client']} | {s['mode']} | {s['tests']} | "
            f"{s['reported']}/{s['tests']} | {fmt(e['p50'])} | "
            f"{fmt(e['p90'])} | {fmt(e['p99'])} | {fmt(e['max'])} | "
            f"{fmt(e['min'])} | {s['syns_per_test']} | {s['cpu_s']} | "
            f"{s['rss_peak_kib'] / 1024:.1f} |")


TABLE_HEAD = ("| client | mode | tests | reported | p50 ms | p90 ms | p99 ms "
              "| max ms | min ms | SYNs/test | CPU s | peak RSS MiB |\n"
              "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")


# --------------------------------------------------------------------------
# Subcommands


def ours(path, extra=()):
    return [path, "--listen", "{ip}:9001", "--progress-interval", "5s",
            *extra]


def cmd_run(args):
    command = ours(args.client, args.client_arg) if args.label == "netpol-client" \
        else [args.client, *args.client_arg]
    summary = run_one(args, command, args.label, args.mode, args.tests,
                      args.out)
    print(json.dumps(summary, indent=1))
    print(TABLE_HEAD)
    print(table_row(summary))
    return 0


def cmd_test(args):
    """What must hold whatever the machine's speed: every test reported
    once, none before its enforcement, /results only ever growing, and
    the SYNs within the cap. The errors are printed, not asserted (they
    are measured by `make bench-client`)."""
    cap = 100  # 20 tests at a 100 ms interval would be 200/s: the cap binds
    failures = []
    for mode in ("drop", "reject"):
        s = run_one(args, ours(args.client, ["--interval", "100ms",
                                             "--max-probes-per-second",
                                             str(cap)]),
                    "netpol-client", mode, args.tests, args.out)
        print(TABLE_HEAD if mode == "drop" else "", end="\n" if mode == "drop" else "")
        print(table_row(s))
        status = s.get("client_status", {})
        probes = status.get("probes_sent", 0)
        checks = [
            (s["reported"] == args.tests, "every test reported"),
            (s["duplicates"] == 0 and s["unexpected"] == 0,
             "each test once, nothing else"),
            (s["early"] == 0, "no timestamp before its enforcement"),
            (s["prefix_violations"] == 0 and s["results_reads"] > 3,
             "each /results answer extends the one before"),
            (status.get("tests_succeeded") == args.tests,
             "/status agrees with /results"),
            (0 < s["syns"] <= probes,
             "one SYN per probe at most (no SYN retransmitted)"),
            (probes <= cap * (s["seconds"] + 1) + args.tests,
             f"probes within the cap ({cap}/s)"),
        ]
        for ok, what in checks:
            if not ok:
                failures.append(f"{mode}: {what}: {json.dumps(s)}")
    for f in failures:
        log("FAILED", f)
    return 1 if failures else 0


def cmd_bench(args):
    clients = [("netpol-client", ours(args.client, args.client_arg))]
    if args.real_client:
        clients.append(("real client", [args.real_client]))
    rows = []
    with open(os.path.join(args.out, "bench-client.jsonl"), "w") as jsonl:
        for tests in args.sizes:
            for mode in ("drop", "reject"):
                for label, command in clients:
                    log(f"{label}, {tests} tests, {mode}")
                    s = run_one(args, command, label, mode, tests, args.out)
                    jsonl.write(json.dumps(s) + "\n")
                    jsonl.flush()
                    rows.append(table_row(s))
                    print(rows[-1], flush=True)
    print()
    print(f"Window {args.window} s, order {args.order} (seed {args.seed}); "
          f"error = timestamp - the instant the drop was gone; nearest-rank "
          f"quantiles.")
    print(TABLE_HEAD)
    print("\n".join(rows))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p, tests, window, lead, settle):
        p.add_argument("--client", required=True,
                       help="netpol-client binary (or the real client)")
        p.add_argument("--client-arg", action="append", default=[],
                       help="one more argument for the client ({ip}: its "
                            "address)")
        p.add_argument("--tests", type=int, default=tests)
        p.add_argument("--servers", type=int, default=20,
                       help="server namespaces at most")
        p.add_argument("--window", type=float, default=window,
                       help="seconds over which the tests are enforced")
        p.add_argument("--lead", type=float, default=lead,
                       help="seconds between /check and the first "
                            "enforcement")
        p.add_argument("--settle", type=float, default=settle,
                       help="seconds to wait for late results")
        p.add_argument("--order", choices=("list", "random"), default="list",
                       help="enforcement order: the list's (kube-burner "
                            "creates policies in it) or a seeded shuffle")
        p.add_argument("--seed", type=int, default=1)
        p.add_argument("--out", default=".", help="directory for logs")

    run = sub.add_parser("run", help="one client, one mode")
    common(run, 50, 30, 2, 30)
    run.add_argument("--mode", choices=("drop", "reject"), default="drop")
    run.add_argument("--label", default="netpol-client",
                     help="'netpol-client' adds its flags; anything else "
                          "runs --client as it is")
    test = sub.add_parser("test", help="ctest: ours, drop and reject")
    common(test, 20, 6, 1, 10)
    e2e = sub.add_parser("e2e", help="ctest: clients behind netpol-proxy")
    common(e2e, 8, 6, 1, 10)
    e2e.add_argument("--proxy", required=True)
    e2e.add_argument("--oracle", required=True,
                     help="kube-burner-decode (tests/oracle)")
    e2e.add_argument("--clients", type=int, default=3)
    bench = sub.add_parser("bench", help="make bench-client")
    common(bench, 0, 30, 2, 30)
    bench.add_argument("--real-client",
                       help="the real client, built by hand, for a side "
                            "by side")
    bench.add_argument("--sizes", type=int, nargs="+",
                       default=[20, 100, 1000])
    args = parser.parse_args()

    if os.geteuid() != 0:
        print("client_lab: SKIPPED: the lab needs root (network namespaces "
              "and nftables); run it as root, as CI does", flush=True)
        return SKIP
    os.makedirs(args.out, exist_ok=True)
    if args.command == "e2e":
        import client_e2e
        return client_e2e.run(args)
    return {"run": cmd_run, "test": cmd_test, "bench": cmd_bench}[
        args.command](args)


if __name__ == "__main__":
    sys.exit(main())
