#!/usr/bin/env python3
"""Sampling during the job, against netpol-podsim's pods that reveal their
results over time and pods lost before /stop.

Usage: sampling_podsim.py NETPOL_PROXY NETPOL_PODSIM

Eight pods on loopback (127.93.x.y), four connections each, whose results
appear one by one over 3 s after /check; one restarts and one vanishes
1.5 s after its /check. kube-burner's calls are made as it makes them, with
a 3.5 s job between delivery and /stop. Run twice:
- with --sample-interval 300ms: every pod is in /results; the two lost ones
  are served their last sample (at least one entry, fewer than four), and
  /status says which and why ("does not extend", "collection failed");
  during the job, /report answers from the samples ("source": "samples")
  and what it counts as reported grows, and /metrics has the sampled
  totals;
- with sampling off (the default): the restarted pod's results are empty
  and the vanished pod is missing, as before sampling existed, and /report
  answers 409 during the job;
- with --sample-interval 300ms, the proxy killed (SIGKILL) 2.2 s into the
  job, after both pods were lost, and started again on its --state-dir:
  the samples taken before the kill are served as in the first run.
Every process is killed at the end; the run takes about 22 s.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

proxy, podsim = sys.argv[1:3]
work = tempfile.mkdtemp(prefix="sampling_podsim.")
procs = []
failures = []
TESTS_PER_POD = 4


def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def start(argv, log):
    p = subprocess.Popen(argv, stdout=open(os.path.join(work, log), "w"),
                         stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def http(url, data=None):
    req = urllib.request.Request(url, data=data,
                                 method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(what, check_fn, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check_fn():
                return True
        except OSError:
            pass
        time.sleep(0.05)
    check(False, f"{what} within {seconds} s")
    return False


def done(url):
    status, body = http(url)
    return status == 200 and json.loads(body).get("result") is True


def start_proxy(args, log, base):
    prox = start(args, log)
    wait_for("the proxy", lambda: http(base + "/healthz")[0] == 200, 10)
    return prox


def run(name, sample_interval, kill_at=None):
    """One round; answers (results by pod, /status with every pod, what
    /report and /metrics answered during the job). With kill_at, the proxy
    is killed that many seconds into the job and started again on the same
    state directory."""
    initiate = os.path.join(work, name + "-initiate.json")
    client_port = free_port("127.93.0.1")
    sim = start([podsim, "--pods", "8", "--first-address", "127.93.0.1",
                 "--port", str(client_port), "--connections-per-pod",
                 str(TESTS_PER_POD), "--reveal", "3s", "--restart", "1",
                 "--vanish", "1", "--after", "1500ms", "--seed", "7",
                 "--write-initiate", initiate], name + "-podsim.log")
    if not wait_for("the fleet", lambda: os.path.exists(initiate), 10):
        return {}, {}, {}
    port = free_port("127.0.0.1")
    args = [proxy, "--listen", f"127.0.0.1:{port}", "--client-port",
            str(client_port), "--state-dir", os.path.join(work, name + "-state"),
            "--retries", "1", "--backoff-base", "100ms", "--connect-timeout",
            "1s", "--request-timeout", "2s"]
    args += ["--sample-interval", sample_interval]
    base = f"http://127.0.0.1:{port}"
    prox = start_proxy(args, name + "-proxy.log", base)
    results, status, job = {}, {}, {}
    if prox.poll() is None:
        with open(initiate, "rb") as fh:
            http(base + "/initiate", fh.read())
        wait_for("delivery", lambda: done(base + "/checkConnectionsStatus"), 20)
        # The job: every pod's results appear by 3 s.
        if kill_at is not None:
            time.sleep(kill_at)
            prox.kill()
            prox.wait()
            prox = start_proxy(args, name + "-restarted-proxy.log", base)
            time.sleep(3.5 - kill_at)
        else:
            time.sleep(1.0)
            job["early"] = http(base + "/report")
            time.sleep(2.3)
            job["late"] = http(base + "/report")
            job["metrics"] = http(base + "/metrics")[1]
            time.sleep(0.2)
        http(base + "/stop")
        wait_for("collection", lambda: done(base + "/checkStopStatus"), 30)
        results = json.loads(http(base + "/results")[1])
        status = json.loads(http(base + "/status?pods=1")[1])
    stop(prox)
    stop(sim)
    return results, status, job


def entries(results, pod):
    return len(results.get(pod) or [])


def check_served(name, results, status):
    """Both lost pods are served the sample taken before they were lost."""
    pods = status.get("pod_details", [])
    check(len(pods) == 8 and len(results) == 8,
          f"{name}: all 8 pods are in /results ({len(results)})")
    served = {p["pod"]: p for p in pods if "served_sample" in p}
    check(len(served) == 2,
          f"{name}: 2 pods are served their sample ({len(served)})")
    check(any("does not extend" in p["served_sample"] for p in served.values()),
          f"{name}: the restarted pod's answer at /stop does not extend its "
          "sample")
    check(any(p["served_sample"].startswith("collection failed")
              for p in served.values()),
          f"{name}: the vanished pod: its collection failed")
    for pod, detail in served.items():
        n = entries(results, pod)
        check(1 <= n < TESTS_PER_POD and n == detail["results_entries"],
              f"{name}: {pod}: its sample has {n} entries, taken before it "
              "was lost")
    healthy = [p for p in pods if p["pod"] not in served]
    check(all(entries(results, p["pod"]) == TESTS_PER_POD for p in healthy),
          f"{name}: every other pod is served its answer at /stop, all 4 "
          "entries")


def check_job_report(job):
    """/report and /metrics during the job, from the samples."""
    early, late = (json.loads(job[k][1]) if job.get(k, (0,))[0] == 200
                   else {} for k in ("early", "late"))
    check(early.get("source") == "samples" and late.get("source") == "samples",
          "during the job /report answers from the samples")
    totals = [r.get("completeness", {}) for r in (early, late)]
    check(totals[1].get("expected") == 8 * TESTS_PER_POD
          and totals[1].get("pods_sampled") == 8
          and totals[1].get("oldest_sample_unix_ms", 0) > 0,
          f"the samples cover every pod's tests ({totals[1]})")
    check(0 < totals[0].get("reported", 0) < totals[1].get("reported", 0),
          "what is reported so far grows during the job: "
          f"{totals[0].get('reported')} then {totals[1].get('reported')}")
    check(sum(late.get("curve", {}).get("succeeded", [0])[-1:])
          == totals[1].get("reported"),
          "the curve so far ends at what is reported so far")
    sampled = re.search(r'^netpol_proxy_sampled_completeness_tests'
                        r'\{kind="reported"\} (\d+)$', job.get("metrics", ""),
                        re.MULTILINE)
    check(sampled is not None
          and int(sampled.group(1)) >= totals[0].get("reported", 1),
          "/metrics has the sampled totals")


try:
    results, status, job = run("sampled", "300ms")
    check_served("sampled", results, status)
    sampling = status.get("sampling", {})
    check(sampling.get("sweeps", 0) >= 3, f"sweeps: {sampling.get('sweeps')}")
    check(sampling.get("pods_served_from_sample") == 2
          and sampling.get("pods_restarted", 0) >= 1,
          f"/status sampling: {sampling}")
    check_job_report(job)

    results, status, job = run("unsampled", "0s")
    check("sampling" not in status, "--sample-interval 0s turns sampling off")
    check(job.get("late", (0,))[0] == 409,
          "without sampling /report answers 409 during the job")
    lost = [p["pod"] for p in status.get("pod_details", [])
            if entries(results, p["pod"]) == 0]
    check(len(lost) == 2,
          f"without sampling, the 2 lost pods have nothing in /results ({lost})")

    # Killed once both pods were lost (1.5 s after their /check): what the
    # restarted proxy serves of them it read before the kill.
    results, status, _ = run("killed", "300ms", kill_at=2.2)
    with open(os.path.join(work, "killed-restarted-proxy.log")) as fh:
        check("Resumed round 1 (phase delivered)" in fh.read(),
              "killed: the restarted proxy resumed the round in the job")
    check_served("killed", results, status)
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if failures:
        for log in sorted(os.listdir(work)):
            if log.endswith(".log"):
                print(f"--- {log}")
                with open(os.path.join(work, log)) as fh:
                    print(fh.read()[-3000:])
    shutil.rmtree(work, ignore_errors=True)

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
