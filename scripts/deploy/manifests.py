"""deploy/ (kustomize) from the chart's renders, and the test that they agree.

    manifests.py sync RENDER_DIR DEPLOY_DIR    (re)write deploy/base, topics, monitoring
    manifests.py check RENDER_DIR BUILD_DIR    kustomize builds (BUILD_DIR/<name>.yaml)
                                               equal the renders they come from

base = the chart's default render, topics = the KafkaTopics of the with-strimzi
profile, monitoring = ServiceMonitor, PrometheusRule and dashboard of the
with-monitoring profile. Compared after removing what only Helm adds (its labels,
the namespace, checksum annotations) and the hash suffix kustomize gives a
generated ConfigMap (it rolls the pods on a change as the checksums do).
"""

import json
import pathlib
import re
import sys

import yaml

HELM_LABELS = ("helm.sh/chart", "app.kubernetes.io/managed-by")
HEADER = "# Generated from helm/wismo by scripts/deploy/manifests.py sync; edit the chart, then sync.\n"
SPLIT = {
    "base": {"ServiceAccount": "serviceaccount.yaml", "Deployment": "workloads.yaml", "Service": "services.yaml",
             "PodDisruptionBudget": "pdb.yaml", "NetworkPolicy": "networkpolicy.yaml"},
    "topics": {"KafkaTopic": "kafkatopics.yaml"},
    "monitoring": {"ServiceMonitor": "servicemonitor.yaml", "PrometheusRule": "prometheusrule.yaml"},
}
SOURCE = {"base": "default", "topics": "with-strimzi", "monitoring": "with-monitoring"}


class Dumper(yaml.SafeDumper):
    """Block lists indented under their key, as the chart's templates write them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def dump(docs):
    return yaml.dump_all(docs, Dumper=Dumper, sort_keys=False, width=120)


def strip_helm(d):
    m = d["metadata"]
    m.pop("namespace", None)
    for k in HELM_LABELS:
        m.get("labels", {}).pop(k, None)
    tmpl = d.get("spec", {}).get("template", {}).get("metadata")
    if tmpl:
        ann = {k: v for k, v in tmpl.get("annotations", {}).items() if not k.startswith("checksum/")}
        tmpl.pop("annotations", None)
        if ann:
            tmpl["annotations"] = ann
    return d


def docs_of(path):
    return [d for d in yaml.safe_load_all(pathlib.Path(path).read_text()) if d]


def unsuffix(text):
    """wismo-policy-5f8g7c9k2b -> wismo-policy (kustomize's generated-name hash)."""
    return re.sub(r"\b(wismo-(?:policy|mappings|dashboard))-[a-z0-9]{10}\b", r"\1", text)


def select(render, part):
    docs = [strip_helm(d) for d in docs_of(pathlib.Path(render) / SOURCE[part] / "all.yaml")]
    if part == "base":
        return [d for d in docs if d["kind"] in SPLIT["base"] or d["metadata"]["name"] == "wismo-policy"]
    if part == "topics":
        return [d for d in docs if d["kind"] == "KafkaTopic"]
    return [d for d in docs if d["kind"] in SPLIT["monitoring"] or d["metadata"]["name"] == "wismo-dashboard"]


def sync(render, deploy):
    for part in ("base", "topics", "monitoring"):
        out = pathlib.Path(deploy) / part
        out.mkdir(parents=True, exist_ok=True)
        docs = select(render, part)
        files, generators = {}, []
        for d in docs:
            if d["kind"] == "ConfigMap":
                (key, text), = d["data"].items()
                (out / key).write_text(text if text.endswith("\n") else text + "\n")
                gen = {"name": d["metadata"]["name"], "files": [key]}
                extra = {k: v for k, v in d["metadata"].get("labels", {}).items()}
                if part == "monitoring":
                    gen["options"] = {"labels": extra, "disableNameSuffixHash": True}
                else:
                    gen["options"] = {"labels": extra}
                generators.append(gen)
            else:
                files.setdefault(SPLIT[part][d["kind"]], []).append(d)
        for name, ds in files.items():
            (out / name).write_text(HEADER + dump(ds))
        k = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(files)}
        if generators:
            k["configMapGenerator"] = generators
        (out / "kustomization.yaml").write_text(HEADER + dump([k]))
        print(f"{out}: {len(docs)} objects")


def canonical(docs):
    out = {}
    for d in docs:
        d = strip_helm(json.loads(unsuffix(json.dumps(d))))
        if d["kind"] == "ConfigMap":
            d["data"] = {k: v.rstrip("\n") for k, v in d["data"].items()}
        out[(d["kind"], d["metadata"]["name"])] = d
    return out


def diff(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            yield from diff(a.get(k), b.get(k), f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            yield from diff(x, y, f"{path}[{i}]")
    elif a != b:
        yield f"{path}: chart {json.dumps(a)[:80]} / kustomize {json.dumps(b)[:80]}"


def check(render, build):
    problems = []
    for part in ("base", "topics", "monitoring"):
        want = canonical(select(render, part))
        got = canonical(docs_of(pathlib.Path(build) / f"{part}.yaml"))
        for key in sorted(set(want) | set(got)):
            if key not in got:
                problems.append(f"{part}: {key[0]}/{key[1]} only in the chart")
            elif key not in want:
                problems.append(f"{part}: {key[0]}/{key[1]} only in deploy/")
            else:
                problems += [f"{part}: {key[0]}/{key[1]}{d}" for d in diff(want[key], got[key])]
        print(f"deploy/{part}: {len(got)} objects ({', '.join(sorted({k for k, _ in got}))})")
    for p in problems:
        print(f"FAILED {p}")
    if problems:
        print("deploy/ differs from the chart: scripts/deploy/manifests.py sync, or fix the chart")
    return 1 if problems else 0


if __name__ == "__main__":
    cmd, render, target = sys.argv[1:4]
    if cmd == "sync":
        sync(render, target)
        sys.exit(0)
    sys.exit(check(render, target))
