"""The client lab's end-to-end test (client_lab.py e2e): several
netpol-clients, each in its own namespace, behind netpol-proxy in the hub,
driven with kube-burner's calls; the proxy's /results decoded by the Go
oracle (tests/oracle/kube_burner_decode.go --results) as kube-burner
decodes it, and every entry checked against the list sent and the instant
its test was enforced."""

import json
import os
import signal
import subprocess
import time

from client_lab import (Enforcer, ClientProcess, Network, connection_list,
                        die_with_parent, http, log, ours, quantile,
                        start_servers)

PROXY = "http://127.0.0.1:9002"


def poll(path, seconds):
    """kube-burner's wait: {"result": true} ends it (it polls every 5 s;
    half a second here)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        status, body = http("GET", PROXY + path)
        if status == 200 and json.loads(body).get("result") is True:
            return True
        time.sleep(0.5)
    return False


def start_proxy(path, out):
    proxy_log = open(os.path.join(out, "e2e-proxy.log"), "wb")
    proxy = subprocess.Popen(
        [path, "--listen", "127.0.0.1:9002", "--state-dir", "",
         "--progress-interval", "2s"],
        stdout=proxy_log, stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent)
    until = time.monotonic() + 10
    while time.monotonic() < until:
        try:
            http("GET", PROXY + "/checkConnectionsStatus", timeout=1)
            return proxy, proxy_log
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the proxy does not answer on 127.0.0.1:9002")


def plan(network, clients, tests):
    """Each client tests `tests` addresses; neighbours share half of them,
    as client pods share the policies that let them in."""
    addresses = network.server_addresses()
    lists = {}
    for i in range(clients):
        mine = [(i * tests // 2 + k) % len(addresses) for k in range(tests)]
        lists[network.client_address(i)] = [
            {"addresses": [addresses[j]], "ports": [8080],
             "netpol": f"ingress-{j}"} for j in mine]
    used = sorted({c["addresses"][0] for conns in lists.values()
                   for c in conns})
    return lists, used


def check(decoded, lists, instants, client_results):
    """What must hold; returns the failures and the errors (ms)."""
    failures, errors = [], []
    by_pod = {}
    for line in decoded:
        by_pod.setdefault(line["pod"], []).append(line)
    if set(by_pod) - set(lists):
        failures.append(f"pods nobody sent: {set(by_pod) - set(lists)}")
    for pod, conns in lists.items():
        got = by_pod.get(pod, [])
        expected = {(c["addresses"][0], 8080, i, c["netpol"])
                    for i, c in enumerate(conns)}
        keys = [(e["address"], e["port"], e["connectionidx"], e["npname"])
                for e in got]
        if len(keys) != len(set(keys)) or set(keys) != expected:
            failures.append(f"{pod}: entries {sorted(keys)} != expected "
                            f"{sorted(expected)}")
        for e in got:
            before, after = instants[e["address"]]
            if e["unix_nano"] < before:
                failures.append(f"{pod}: {e['address']} reported before its "
                                f"enforcement")
            errors.append((e["unix_nano"] - after) / 1e6)
        own = [(e["address"], e["port"], e["connectionidx"], e["npname"])
               for e in client_results[pod]]
        if own != keys:
            failures.append(f"{pod}: the proxy's entries differ from the "
                            f"client's own /results")
    return failures, sorted(errors)


def run(args):
    network = Network(4, 6, args.clients, "drop")
    clients, server_pid, proxy = [], None, None
    failures = []
    try:
        network.up()
        lists, used = plan(network, args.clients, args.tests)
        network.block(used)
        server_pid = start_servers(network)
        network.enter_hub()
        for i in range(args.clients):
            c = ClientProcess(network, i, ours(args.client),
                              os.path.join(args.out, f"e2e-client-{i}.log"))
            clients.append(c)
        for c in clients:
            c.wait_ready()
        proxy, proxy_log = start_proxy(args.proxy, args.out)
        status, _ = http("POST", PROXY + "/initiate", json.dumps(lists))
        if status != 200 or not poll("/checkConnectionsStatus", 30):
            raise RuntimeError(f"delivery did not finish (/initiate {status})")
        enforcer = Enforcer(network, used, args.window, args.seed, "random")
        enforcer.run()
        until = time.monotonic() + args.settle
        while time.monotonic() < until and not all(
                json.loads(http("GET", c.url + "/status")[1])["tests_pending"]
                == 0 for c in clients):
            time.sleep(0.25)
        status, _ = http("GET", PROXY + "/stop")
        if status != 200 or not poll("/checkStopStatus", 30):
            raise RuntimeError(f"collection did not finish (/stop {status})")
        status, body = http("GET", PROXY + "/results")
        results_path = os.path.join(args.out, "e2e-results.json")
        with open(results_path, "wb") as f:
            f.write(body)
        decoded_run = subprocess.run([args.oracle, "--results", results_path],
                                     capture_output=True, text=True)
        if status != 200 or decoded_run.returncode != 0:
            raise RuntimeError(f"/results {status}, kube-burner's decode: "
                               f"{decoded_run.stderr.strip()}")
        decoded = [json.loads(line) for line in
                   decoded_run.stdout.splitlines()]
        client_results = {c.address: json.loads(http("GET", c.url +
                                                      "/results")[1])
                          for c in clients}
        failures, errors = check(decoded, lists, enforcer.instants,
                                 client_results)
        print(f"{len(clients)} clients, {len(decoded)} results through the "
              f"proxy, decoded by Go as kube-burner decodes them; error "
              f"p50 {quantile(errors, .5):.0f} ms, p90 "
              f"{quantile(errors, .9):.0f} ms, max {errors[-1]:.0f} ms "
              f"(not asserted)")
        for c in clients:
            if c.stop() != 0:
                failures.append(f"{c.address}: the client did not exit 0 on "
                                f"SIGTERM")
    finally:
        for c in clients:
            c.stop()
        if proxy:
            proxy.terminate()
            proxy.wait(10)
            proxy_log.close()
        if server_pid:
            os.kill(server_pid, signal.SIGKILL)
            os.waitpid(server_pid, 0)
        network.down()
    for f in failures:
        log("FAILED", f)
    return 1 if failures else 0
