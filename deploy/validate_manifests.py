#!/usr/bin/env python3
"""Validates the Kubernetes manifests in deploy/kubernetes against what
kube-burner expects of its network-policy proxy pod and against the proxy
itself (the environment variables `netpol-proxy --help` lists).

Usage: validate_manifests.py --proxy PATH/netpol-proxy [MANIFEST_DIR]
       validate_manifests.py --help-text FILE [MANIFEST_DIR]

Checks, for every *.yaml / *.yml file in MANIFEST_DIR (default: the
kubernetes/ directory next to this script):
  - each document parses and has apiVersion, kind and metadata.name;
  - a v1 Namespace named network-policy-proxy;
  - a v1 Pod network-policy-proxy in namespace network-policy-proxy with one
    container: an image, imagePullPolicy Always, no command/args, TCP port
    9002; securityContext runAsNonRoot, runAsUser 1000,
    allowPrivilegeEscalation false, capabilities drop ALL (none added),
    seccomp RuntimeDefault (pod or container level); liveness probe GET
    /healthz and readiness probe GET /readyz on port 9002; cpu and memory
    requests, a memory limit not below the request;
  - env: string values, names that `netpol-proxy --help` lists, and every
    variable it lists present;
  - kustomization.yaml lists exactly the other manifest files, and its images
    entries name the pod's image.
Then it breaks copies of the pod in known ways and fails unless every broken
copy is rejected (so a check that silently stopped working shows up).
Exit status: 0 valid, 1 invalid, 2 usage or environment error.
"""

import argparse
import copy
import os
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    sys.stderr.write("validate_manifests.py: PyYAML is missing (Debian: apt-get install python3-yaml)\n")
    sys.exit(2)

NAMESPACE = "network-policy-proxy"
POD = "network-policy-proxy"
PROXY_PORT = 9002
KUSTOMIZATION = "kustomization.yaml"

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")
_FACTORS = {None: 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}


def quantity(value):
    """A Kubernetes resource quantity as a number, or None when malformed."""
    match = _QUANTITY.match(str(value))
    if not match:
        return None
    return float(match.group(1)) * _FACTORS[match.group(2)]


def help_variables(text):
    """NETPOL_PROXY_* variable -> default, from `netpol-proxy --help`."""
    variables = {}
    for line in text.splitlines():
        match = re.search(r"\(Env:([A-Z0-9_]+)\)", line)
        if match:
            default = re.search(r"=(\S*) \(Env:", line)
            variables[match.group(1)] = default.group(1) if default else None
    return variables


def get(obj, *path):
    """obj[path[0]][path[1]]..., or None where a step is missing."""
    for key in path:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def check_probe(errors, container, kind, path):
    probe = container.get(kind)
    where = f"container {container.get('name')!r}: {kind}"
    if not isinstance(probe, dict):
        errors.append(f"{where} missing")
        return
    http = probe.get("httpGet")
    if not isinstance(http, dict):
        errors.append(f"{where} is not an httpGet probe")
        return
    if http.get("path") != path:
        errors.append(f"{where} path is {http.get('path')!r}, expected {path!r}")
    port = http.get("port")
    if isinstance(port, str):  # a named port
        named = [p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port]
        port = named[0] if named else port
    if port != PROXY_PORT:
        errors.append(f"{where} port is {http.get('port')!r}, expected {PROXY_PORT}")
    if str(http.get("scheme", "HTTP")).upper() != "HTTP":
        errors.append(f"{where} scheme is {http.get('scheme')!r}, expected HTTP")


def check_pod(errors, pod, variables):
    """Appends to errors everything wrong with the proxy pod."""
    if pod.get("apiVersion") != "v1":
        errors.append(f"pod: apiVersion is {pod.get('apiVersion')!r}, expected 'v1'")
    if get(pod, "metadata", "namespace") != NAMESPACE:
        errors.append(f"pod: namespace is {get(pod, 'metadata', 'namespace')!r}, expected {NAMESPACE!r}")
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        errors.append("pod: no spec")
        return
    containers = spec.get("containers")
    if not isinstance(containers, list) or len(containers) != 1 or not isinstance(containers[0], dict):
        errors.append("pod: expected exactly one container")
        return
    c = containers[0]
    where = f"container {c.get('name')!r}"

    if not isinstance(c.get("image"), str) or not c["image"].strip():
        errors.append(f"{where}: no image")
    if c.get("imagePullPolicy") != "Always":
        errors.append(f"{where}: imagePullPolicy is {c.get('imagePullPolicy')!r}, expected 'Always' (as kube-burner)")
    for key in ("command", "args"):
        if key in c:
            errors.append(f"{where}: has {key}; the image's ENTRYPOINT runs the proxy, configured by env")
    ports = [p for p in c.get("ports") or [] if isinstance(p, dict)]
    if not any(p.get("containerPort") == PROXY_PORT and p.get("protocol", "TCP") == "TCP" for p in ports):
        errors.append(f"{where}: no TCP containerPort {PROXY_PORT}")

    # Security: container settings override the pod's.
    pod_sc = spec.get("securityContext") or {}
    sc = c.get("securityContext") or {}

    def effective(key):
        return sc[key] if key in sc else pod_sc.get(key)

    if effective("runAsNonRoot") is not True:
        errors.append(f"{where}: runAsNonRoot is {effective('runAsNonRoot')!r}, expected true")
    if effective("runAsUser") != 1000:
        errors.append(f"{where}: runAsUser is {effective('runAsUser')!r}, expected 1000")
    if sc.get("allowPrivilegeEscalation") is not False:
        errors.append(f"{where}: allowPrivilegeEscalation is {sc.get('allowPrivilegeEscalation')!r}, expected false")
    if sc.get("privileged"):
        errors.append(f"{where}: privileged")
    drop = get(sc, "capabilities", "drop") or []
    if "ALL" not in drop:
        errors.append(f"{where}: capabilities.drop is {drop!r}, expected to contain 'ALL'")
    if get(sc, "capabilities", "add"):
        errors.append(f"{where}: capabilities.add is {get(sc, 'capabilities', 'add')!r}, expected none")
    seccomp = get(effective("seccompProfile") or {}, "type")
    if seccomp != "RuntimeDefault":
        errors.append(f"{where}: seccompProfile.type is {seccomp!r}, expected 'RuntimeDefault'")

    check_probe(errors, c, "livenessProbe", "/healthz")
    check_probe(errors, c, "readinessProbe", "/readyz")

    requests = get(c, "resources", "requests") or {}
    limits = get(c, "resources", "limits") or {}
    for resource in ("cpu", "memory"):
        if resource not in requests:
            errors.append(f"{where}: no {resource} request")
        elif quantity(requests[resource]) is None:
            errors.append(f"{where}: {resource} request {requests[resource]!r} is not a quantity")
    if "memory" not in limits:
        errors.append(f"{where}: no memory limit")
    elif quantity(limits["memory"]) is None:
        errors.append(f"{where}: memory limit {limits['memory']!r} is not a quantity")
    elif quantity(requests.get("memory", 0)) is not None and \
            quantity(limits["memory"]) < quantity(requests.get("memory", 0)):
        errors.append(f"{where}: memory limit {limits['memory']} is below the request {requests['memory']}")

    env = c.get("env") or []
    names = []
    for entry in env:
        if not isinstance(entry, dict) or "name" not in entry:
            errors.append(f"{where}: env entry without a name: {entry!r}")
            continue
        name = entry["name"]
        names.append(name)
        if "valueFrom" not in entry and not isinstance(entry.get("value"), str):
            errors.append(f"{where}: env {name} value {entry.get('value')!r} is not a string (quote it)")
        if name not in variables:
            errors.append(f"{where}: env {name} is not a variable of netpol-proxy --help")
    for name in sorted(set(n for n in names if names.count(n) > 1)):
        errors.append(f"{where}: env {name} set more than once")
    for name in sorted(set(variables) - set(names)):
        errors.append(f"{where}: env lacks {name} (listed by netpol-proxy --help)")


def check_documents(documents, variables):
    """documents: list of (file name, parsed document). Returns the errors."""
    errors = []
    namespaces, pods = [], []
    for name, doc in documents:
        if not isinstance(doc, dict):
            errors.append(f"{name}: a document is not a mapping")
            continue
        for key in ("apiVersion", "kind"):
            if not doc.get(key):
                errors.append(f"{name}: no {key}")
        if doc.get("kind") == "Kustomization":
            continue
        if not get(doc, "metadata", "name"):
            errors.append(f"{name}: {doc.get('kind')} without metadata.name")
        if doc.get("kind") == "Namespace":
            namespaces.append(doc)
        elif doc.get("kind") == "Pod":
            pods.append(doc)

    if not any(get(ns, "metadata", "name") == NAMESPACE and ns.get("apiVersion") == "v1" for ns in namespaces):
        errors.append(f"no v1 Namespace named {NAMESPACE!r}")
    proxy_pods = [p for p in pods if get(p, "metadata", "name") == POD]
    if len(proxy_pods) != 1:
        errors.append(f"expected one Pod named {POD!r}, found {len(proxy_pods)}")
    for pod in proxy_pods:
        check_pod(errors, pod, variables)
    return errors


def check_kustomization(errors, directory, files, documents):
    path = os.path.join(directory, KUSTOMIZATION)
    if not os.path.exists(path):
        return
    kustomization = next((doc for name, doc in documents if name == KUSTOMIZATION), None)
    if not isinstance(kustomization, dict) or kustomization.get("kind") != "Kustomization":
        errors.append(f"{KUSTOMIZATION}: not a Kustomization")
        return
    resources = kustomization.get("resources") or []
    expected = sorted(f for f in files if f != KUSTOMIZATION)
    if sorted(resources) != expected:
        errors.append(f"{KUSTOMIZATION}: resources {sorted(resources)} instead of {expected}")
    images = [get(c, "image") for _, doc in documents if isinstance(doc, dict) and doc.get("kind") == "Pod"
              for c in get(doc, "spec", "containers") or [] if isinstance(c, dict)]
    image_names = {re.sub(r"(@.*|:[^/:]*)$", "", i) for i in images if isinstance(i, str)}
    for entry in kustomization.get("images") or []:
        if get(entry, "name") not in image_names:
            errors.append(f"{KUSTOMIZATION}: images entry {get(entry, 'name')!r} matches no image "
                          f"of the pod ({sorted(image_names)})")


# Ways to break the pod, each of which must be rejected.
def _set(path, value):
    def mutate(pod):
        target = pod
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _delete(path):
    def mutate(pod):
        target = pod
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]
    return mutate


def _rename_env(pod):
    pod["spec"]["containers"][0]["env"][0]["name"] = "NETPOL_PROXY_NO_SUCH_FLAG"


def _drop_env(pod):
    pod["spec"]["containers"][0]["env"].pop()


def _number_env(pod):
    pod["spec"]["containers"][0]["env"][0]["value"] = 20


C = ("spec", "containers", 0)
BREAKAGES = [
    ("pod in another namespace", _set(("metadata", "namespace"), "default")),
    ("pod renamed", _set(("metadata", "name"), "netpol-proxy")),
    ("apiVersion v2", _set(("apiVersion",), "v2")),
    ("runAsUser 0", _set(C + ("securityContext", "runAsUser"), 0)),
    ("runAsNonRoot false", _set(C + ("securityContext", "runAsNonRoot"), False)),
    ("privilege escalation allowed", _set(C + ("securityContext", "allowPrivilegeEscalation"), True)),
    ("capabilities kept", _set(C + ("securityContext", "capabilities"), {"drop": ["NET_RAW"]})),
    ("seccomp Unconfined", _set(C + ("securityContext", "seccompProfile"), {"type": "Unconfined"})),
    ("no liveness probe", _delete(C + ("livenessProbe",))),
    ("liveness on /health", _set(C + ("livenessProbe", "httpGet", "path"), "/health")),
    ("readiness on port 9001", _set(C + ("readinessProbe", "httpGet", "port"), 9001)),
    ("no port 9002", _set(C + ("ports",), [{"containerPort": 8080}])),
    ("imagePullPolicy IfNotPresent", _set(C + ("imagePullPolicy",), "IfNotPresent")),
    ("a command", _set(C + ("command",), ["/bin/sh"])),
    ("no memory limit", _delete(C + ("resources", "limits"))),
    ("unknown env variable", _rename_env),
    ("env variable missing", _drop_env),
    ("env value not a string", _number_env),
]


def self_test(documents, variables):
    """Returns the names of breakages that were not rejected."""
    pod_index = next(i for i, (_, doc) in enumerate(documents)
                     if isinstance(doc, dict) and doc.get("kind") == "Pod")
    missed = []
    for name, mutate in BREAKAGES:
        broken = copy.deepcopy(documents)
        mutate(broken[pod_index][1])
        if not check_documents(broken, variables):
            missed.append(name)
    return missed


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--proxy", help="netpol-proxy executable (runs --help)")
    source.add_argument("--help-text", help="file holding the output of netpol-proxy --help")
    parser.add_argument("directory", nargs="?", default=os.path.join(here, "kubernetes"))
    args = parser.parse_args()

    if args.proxy:
        try:
            run = subprocess.run([args.proxy, "--help"], capture_output=True, text=True, timeout=30)
        except OSError as e:
            sys.stderr.write(f"validate_manifests.py: cannot run {args.proxy}: {e}\n")
            return 2
        help_text = run.stdout + run.stderr
    else:
        with open(args.help_text) as f:
            help_text = f.read()
    variables = help_variables(help_text)
    if not variables:
        sys.stderr.write("validate_manifests.py: no (Env:...) variables in the --help text\n")
        return 2

    files = sorted(f for f in os.listdir(args.directory) if f.endswith((".yaml", ".yml")))
    if not files:
        sys.stderr.write(f"validate_manifests.py: no manifests in {args.directory}\n")
        return 2
    errors, documents = [], []
    for name in files:
        try:
            with open(os.path.join(args.directory, name)) as f:
                docs = [d for d in yaml.safe_load_all(f) if d is not None]
        except yaml.YAMLError as e:
            errors.append(f"{name}: not valid YAML: {e}")
            continue
        if not docs:
            errors.append(f"{name}: no document")
        documents.extend((name, d) for d in docs)

    errors += check_documents(documents, variables)
    check_kustomization(errors, args.directory, files, documents)
    for error in errors:
        print(f"FAIL: {error}")
    if errors:
        print(f"{len(errors)} problem(s) in {args.directory}")
        return 1
    print(f"ok: {len(files)} files, {len(documents)} documents in {args.directory}")
    print(f"ok: pod {NAMESPACE}/{POD}: security context, probes, port {PROXY_PORT}, resources")
    pod = next(doc for _, doc in documents if isinstance(doc, dict) and doc.get("kind") == "Pod")
    env = {e["name"]: e.get("value") for e in get(pod, "spec", "containers", 0, "env") or []}
    tuned = sorted(n for n, v in env.items() if variables.get(n) is not None and v != variables[n])
    print(f"ok: env sets all {len(env)} variables of netpol-proxy --help"
          + (f"; not at the default: {', '.join(tuned)}" if tuned else ", at their defaults"))

    missed = self_test(documents, variables)
    for name in missed:
        print(f"FAIL: self-test: a pod with {name} was accepted")
    if missed:
        return 1
    print(f"ok: self-test: all {len(BREAKAGES)} broken variants of the pod rejected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
