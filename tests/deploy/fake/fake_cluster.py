#!/usr/bin/env python3
"""The long-running parts of the fake kubectl (tests/deploy/fake/kubectl).

  fake_cluster.py port-forward STATE PORT BEHAVIOUR
      Listens on 127.0.0.1:PORT like `kubectl port-forward` and answers GET
      /status and /report from STATE/http/<name>.json with the status code in
      STATE/http/<name>.code (200 if absent). BEHAVIOUR: normal; die-after-N
      (exits 1 after N requests, as a port-forward does when it loses the
      pod); mute (accepts connections and closes them unanswered). Exits
      when STATE/ns-gone exists (kube-burner deleted the namespace).

  fake_cluster.py logs STATE
      Like `kubectl logs -f`: prints the current container's log
      (STATE/container-<N>.log, N in STATE/container-current) and follows it
      until that container ends (STATE/container-<N>.ended) or the namespace
      is gone.

Both are exec'ed by the fake kubectl, so killing the kubectl pid kills them.
"""
import os
import signal
import socket
import sys
import time


def gone(state):
    return os.path.exists(os.path.join(state, "ns-gone"))


def read(path, default=""):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return default.encode()


def port_forward(state, port, behaviour):
    # kubectl port-forward stops on SIGINT (it asks for os.Interrupt), even
    # when started with SIGINT ignored, as background jobs of a script are.
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    die_after = None
    if behaviour.startswith("die-after-"):
        die_after = int(behaviour[len("die-after-"):])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        srv.bind(("127.0.0.1", port))
    except OSError as e:
        print(f"Unable to listen on port {port}: {e}", file=sys.stderr, flush=True)
        print("error: unable to listen on any of the requested ports", file=sys.stderr, flush=True)
        return 1
    srv.listen(16)
    srv.settimeout(0.05)
    print(f"Forwarding from 127.0.0.1:{port} -> 9002", flush=True)
    served = 0
    while not gone(state):
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        with conn:
            conn.settimeout(2)
            if behaviour == "mute":
                continue
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except socket.timeout:
                continue
            line = data.split(b"\r\n", 1)[0].decode("latin-1").split()
            path = line[1] if len(line) > 1 else "/"
            name = path.lstrip("/").split("?", 1)[0]
            print(f"Handling connection for {port}", flush=True)
            if name in ("status", "report"):
                code = int(read(os.path.join(state, "http", name + ".code"), "200").strip() or 200)
                body = read(os.path.join(state, "http", name + ".json"), "{}")
            else:
                code, body = 404, b"404 page not found\n"
            reason = {200: "OK", 404: "Not Found", 409: "Conflict"}.get(code, "Status")
            head = (f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
            conn.sendall(head.encode() + body)
            with open(os.path.join(state, "http-requests.log"), "a") as f:
                f.write(f"{port} {path} {code}\n")
        served += 1
        if die_after is not None and served >= die_after:
            print("E0101 00:00:00.000000 portforward.go:413] an error occurred forwarding "
                  f"{port} -> 9002: lost connection to pod", file=sys.stderr, flush=True)
            return 1
    print("error: lost connection to pod", file=sys.stderr, flush=True)
    return 1


def logs(state):
    n = read(os.path.join(state, "container-current"), "1").decode().strip() or "1"
    log = os.path.join(state, f"container-{n}.log")
    ended = os.path.join(state, f"container-{n}.ended")
    pos = 0
    while True:
        done = gone(state) or os.path.exists(ended)
        data = read(log)
        if len(data) > pos:
            sys.stdout.buffer.write(data[pos:])
            sys.stdout.flush()
            pos = len(data)
        if done:
            return 0
        time.sleep(0.05)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "port-forward":
        return port_forward(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    if len(sys.argv) == 3 and sys.argv[1] == "logs":
        return logs(sys.argv[2])
    print(f"usage: {sys.argv[0]} port-forward STATE PORT BEHAVIOUR | logs STATE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
