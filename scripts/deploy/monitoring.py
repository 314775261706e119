"""Alerts and dashboard against what the services really export.

    monitoring.py rules RULE_CR OUT_FILE       the PrometheusRule's spec as a promtool rule file
    monitoring.py dashboard-rules DASHBOARD OUT_FILE
                                               every panel query as a recording rule (promtool
                                               check rules then parses each one)
    monitoring.py check SCRAPE_DIR RULE_FILE DASHBOARD
                                               every wismo_* metric and label the alerts and
                                               panels use exists in a real scrape
"""

import json
import pathlib
import re
import sys

import yaml

# Metrics from other exporters, and who exports them.
EXTERNAL = {
    "kafka_consumergroup_lag": "the Kafka exporter (Strimzi kafkaExporter, or kafka_exporter)",
    "kube_pod_status_ready": "kube-state-metrics",
}
# Labels Prometheus adds at scrape time (target labels), not in the exposition.
TARGET_LABELS = {"namespace", "job", "pod", "instance", "service", "endpoint", "container", "le"}
DASHBOARD_VARS = {"$__rate_interval": "5m", "$namespace": "wismo", "$consumergroup": ".*"}
SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}")
NAME = re.compile(r"\b(wismo_[a-z0-9_]+|kafka_[a-z0-9_]+|kube_[a-z0-9_]+)\b")
BY = re.compile(r"\bby\s*\(([^)]*)\)")


def dashboard_exprs(dashboard):
    d = json.loads(pathlib.Path(dashboard).read_text())
    for p in d["panels"]:
        for t in p.get("targets", []):
            expr = t["expr"]
            for var, value in DASHBOARD_VARS.items():
                expr = expr.replace(var, value)
            yield p["title"], expr


def rule_exprs(rule_file):
    for g in yaml.safe_load(pathlib.Path(rule_file).read_text())["groups"]:
        for r in g["rules"]:
            yield r.get("alert") or r.get("record"), r["expr"]


def scraped(scrape_dir):
    """metric name -> label names seen, over every scrape file."""
    seen = {}
    for f in pathlib.Path(scrape_dir).glob("*.txt"):
        for line in f.read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?", line)
            labels = {kv.split("=")[0] for kv in (m.group(3) or "").split(",") if kv}
            seen.setdefault(m.group(1), set()).update(labels)
    return seen


def check(scrape_dir, rule_file, dashboard):
    seen = scraped(scrape_dir)
    problems, used = [], set()
    exprs = list(rule_exprs(rule_file)) + list(dashboard_exprs(dashboard))
    for where, expr in exprs:
        names = set(NAME.findall(expr))
        for name in names:
            used.add(name)
            if name not in seen and name not in EXTERNAL:
                problems.append(f"{where}: {name} is in no scrape")
        labels = {m.group(1): {kv.split("=")[0].strip("!~ ") for kv in m.group(2).split(",") if kv.strip()}
                  for m in SELECTOR.finditer(expr)}
        wismo = [n for n in names if n in seen]
        for b in BY.findall(expr):
            for label in (x.strip() for x in b.split(",")):
                if label and label not in TARGET_LABELS and wismo and not any(label in seen[n] for n in wismo):
                    problems.append(f"{where}: no metric of {sorted(wismo)} has label {label}")
        for name, ls in labels.items():
            for label in ls - TARGET_LABELS:
                if name in seen and label not in seen[name]:
                    problems.append(f"{where}: {name} has no label {label}")
    for p in problems:
        print(f"FAILED {p}")
    external = sorted(n for n in used if n in EXTERNAL)
    print(f"{len(exprs)} queries, {len(used - set(external))} wismo metrics all in the scrape; "
          f"external: " + ", ".join(f"{n} ({EXTERNAL[n]})" for n in external))
    return 1 if problems else 0


def main(argv):
    cmd = argv[0]
    if cmd == "rules":
        spec = yaml.safe_load(pathlib.Path(argv[1]).read_text())["spec"]
        pathlib.Path(argv[2]).write_text(yaml.safe_dump(spec, sort_keys=False))
        return 0
    if cmd == "dashboard-rules":
        rules = [{"record": f"wismo_dashboard:panel_{i}", "expr": e}
                 for i, (_, e) in enumerate(dashboard_exprs(argv[1]))]
        pathlib.Path(argv[2]).write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
        return 0
    if cmd == "check":
        return check(*argv[1:4])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
