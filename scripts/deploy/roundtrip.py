"""Config round trip: start each rendered workload's binary with exactly its env and
mounted ConfigMaps, against a test broker, and require /readyz 200 and a clean stop
on SIGTERM within the pod's termination grace period.

    roundtrip.py --bin DIR --bootstrap HOST:PORT PROFILE_DIR... [--scrape PROFILE=OUT] [--expect-fail TEXT]

--scrape: in that profile (run first, on fresh topics) publish the sample events
and save every service's /metrics in OUT.

Only what a cluster would supply differently is replaced: the bootstrap servers
(the test broker), the HTTP port (a free one), mount paths (a scratch directory),
Secret values (placeholders) and the pod name. A workload with Kafka security
(SASL/TLS) cannot reach the plaintext test broker: it runs twice, first with every
key (it must get past its configuration: no configuration error), then without the
security keys (WISMO_KAFKA_SECURITY_PROTOCOL, _SASL_*, _SSL_*), when it must become
ready like the others.
"""

import argparse
import os
import pathlib
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

CONFIG_ERRORS = ("configuration key", "configuration file", "policy file")
SECURITY_KEYS = ("WISMO_KAFKA_SECURITY_PROTOCOL", "WISMO_KAFKA_SASL_", "WISMO_KAFKA_SSL_")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, ""
    except OSError:
        return None, ""


def service_links(services):
    """The variables the kubelet adds for every Service unless enableServiceLinks is false."""
    env = {}
    for s in services:
        n = s["metadata"]["name"].upper().replace("-", "_")
        port = s["spec"]["ports"][0]["port"]
        env |= {f"{n}_SERVICE_HOST": "10.0.0.1", f"{n}_SERVICE_PORT": str(port),
                f"{n}_PORT": f"tcp://10.0.0.1:{port}"}
    return env


class Workload:
    def __init__(self, doc, configmaps, services, scratch, bootstrap):
        self.name = doc["metadata"]["name"]
        pod = doc["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.binary = pathlib.Path(c["command"][0]).name
        self.grace = pod.get("terminationGracePeriodSeconds", 30)
        root = scratch / self.name
        mounts = {}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for m in c.get("volumeMounts", []):
            target = root / m["mountPath"].lstrip("/")
            target.mkdir(parents=True, exist_ok=True)
            mounts[m["mountPath"]] = target
            v = volumes[m["name"]]
            if "configMap" in v:
                for key, text in configmaps[v["configMap"]["name"]].items():
                    (target / key).write_text(text)
            elif "secret" in v:
                (target / "placeholder").write_text("")
        env = {} if pod.get("enableServiceLinks") is False else service_links(services)
        for e in c.get("env", []):
            env[e["name"]] = self.resolve(e, configmaps)
        for src in c.get("envFrom", []):
            if "configMapRef" in src:
                env |= configmaps[src["configMapRef"]["name"]]
            else:
                raise SystemExit(f"{self.name}: envFrom {src} cannot be resolved offline")
        for k, v in env.items():
            for path, target in mounts.items():
                if v.startswith(path + "/") or v == path:
                    env[k] = str(target) + v[len(path):]
        env["WISMO_BOOTSTRAP_SERVERS"] = bootstrap
        self.port = free_port()
        env["WISMO_HTTP_ADDR"] = f"127.0.0.1:{self.port}"
        self.env = env
        secure = env.get("WISMO_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").upper()
        self.config_only = secure != "PLAINTEXT"
        self.note = ""
        self.log = scratch / f"{self.name}.log"

    def resolve(self, e, configmaps):
        if "value" in e:
            return str(e["value"])
        ref = e["valueFrom"]
        if "fieldRef" in ref:
            return {"metadata.name": f"{self.name}-0", "metadata.namespace": "wismo"}[ref["fieldRef"]["fieldPath"]]
        if "secretKeyRef" in ref:
            return f"placeholder-{ref['secretKeyRef']['key']}"
        if "configMapKeyRef" in ref:
            r = ref["configMapKeyRef"]
            return configmaps[r["name"]][r["key"]]
        raise SystemExit(f"{self.name}: cannot resolve env {e['name']}")

    def start(self, bindir):
        self.proc = subprocess.Popen([str(bindir / self.binary)], env=self.env,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)

    def output(self):
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout=90):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                out = self.output()
                if self.config_only and not any(m in out for m in CONFIG_ERRORS):
                    return f"configuration accepted (then, as expected, no secured broker: {out.strip().splitlines()[-1][:120]})"
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{out[-2000:]}")
            if self.config_only and time.time() > deadline - timeout + 5:
                return "configuration accepted (still running with its secured settings)"
            if not self.config_only and http_status(self.port, "/readyz")[0] == 200:
                return "ready"
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready within {timeout}s:\n{self.output()[-2000:]}")

    def stop(self):
        if self.proc.poll() is not None:
            return None
        t0 = time.time()
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=self.grace)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise RuntimeError(f"{self.name} still running {self.grace}s after SIGTERM (terminationGracePeriodSeconds)")
        if code != 0 and not self.config_only:
            raise RuntimeError(f"{self.name} exited {code} on SIGTERM:\n{self.output()[-1500:]}")
        return time.time() - t0


def plaintext(workloads):
    """The same workloads without their Kafka security keys, for the plaintext broker."""
    for w in workloads:
        w.env = {k: v for k, v in w.env.items() if not k.startswith(SECURITY_KEYS)}
        w.config_only, w.note = False, " (security keys left out)"
    return workloads


def run_profile(profile, args, scratch):
    docs = list(yaml.safe_load_all((profile / "all.yaml").read_text()))
    cms = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    services = [d for d in docs if d["kind"] == "Service"]
    workloads = [Workload(d, cms, services, scratch / profile.name, args.bootstrap)
                 for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    shared = {k: v for w in workloads for k, v in w.env.items() if k.startswith("WISMO_TOPIC_")}
    subprocess.run([str(args.bin / "wismoctl"), "--bootstrap", args.bootstrap, "create-topics", "--partitions", "3"],
                   env=shared, check=True, capture_output=True)
    start_all(profile, workloads, args)
    if any(w.config_only for w in workloads):
        start_all(profile, plaintext(workloads), args)


def start_all(profile, workloads, args):
    try:
        for w in workloads:
            w.start(args.bin)
        for w in workloads:
            print(f"  {profile.name}/{w.name}: {len(w.env)} env{w.note}, {w.wait_ready()}")
        if args.scrape and args.scrape[0] == profile.name:
            scrape(workloads, args.bin, args.bootstrap, args.scrape[1])
    finally:
        for w in workloads:
            took = w.stop()
            if took is not None and not w.config_only:
                print(f"  {profile.name}/{w.name}: stopped cleanly in {took:.1f}s (grace {w.grace}s)")


def scrape(workloads, bindir, bootstrap, out):
    """Traffic through the pipeline so labelled series exist, then every /metrics."""
    here = pathlib.Path(__file__).resolve().parent
    for events in (here.parent / "sample" / "events.jsonl", here / "scrape-events.jsonl"):
        subprocess.run([str(bindir / "wismoctl"), "--bootstrap", bootstrap, "publish", str(events),
                        "--shift-to-now", "--wave-gap", "1s"], env={}, check=True, capture_output=True)
    # Scrape until no new series appear for a few seconds, and the incident's
    # threshold (scrape-values.yaml) has passed.
    settle = time.time() + 15
    last, stable, deadline = None, 0, time.time() + 60
    while (stable < 4 or time.time() < settle) and time.time() < deadline:
        time.sleep(1)
        bodies = {}
        for w in workloads:
            status, body = http_status(w.port, "/metrics")
            if status != 200:
                raise RuntimeError(f"{w.name}: /metrics answered {status}")
            bodies[w.binary] = body
        series = {line.split(" ")[0] for b in bodies.values() for line in b.splitlines() if line[:1] != "#"}
        stable = stable + 1 if series == last else 0
        last = series
    out.mkdir(parents=True, exist_ok=True)
    for name, body in bodies.items():
        (out / f"{name}.txt").write_text(body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", type=pathlib.Path, required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--scrape", type=lambda v: (v.split("=", 1)[0], pathlib.Path(v.split("=", 1)[1])))
    p.add_argument("--expect-fail")
    p.add_argument("profiles", nargs="+", type=pathlib.Path)
    args = p.parse_args()
    if args.scrape:  # first: the sample must meet topics no other profile has used
        args.profiles.sort(key=lambda d: d.name != args.scrape[0])
    with tempfile.TemporaryDirectory(prefix="wismo-roundtrip-") as tmp:
        failures = []
        for profile in args.profiles:
            try:
                run_profile(profile, args, pathlib.Path(tmp))
            except (RuntimeError, subprocess.CalledProcessError) as e:
                failures.append(f"{profile.name}: {e}")
    if args.expect_fail:
        text = "\n".join(failures)
        if args.expect_fail in text:
            line = next(l for l in text.splitlines() if args.expect_fail in l)
            print(f"rejected as expected: {line.strip()[:200]}")
            return 0
        print(f"expected a failure naming {args.expect_fail!r}, got: {text or 'success'}")
        return 1
    for f in failures:
        print(f"FAILED {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
