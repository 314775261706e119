"""Lint and render the wismo chart offline, one profile per ci/*-values.yaml.

    render.py CHART OUT                      lint --strict + render every profile into OUT/<profile>/
    render.py CHART OUT --profile NAME VALUES...
                                             the same for one profile made of VALUES files
    render.py CHART OUT --expect-fail TEXT VALUES...
                                             lint/render with VALUES must fail, naming TEXT
    render.py --split FILE OUT               split any manifest file the same way

Each profile directory gets builtin.yaml (Kubernetes kinds), hooks.yaml (helm test),
cr/<Kind>-<name>.yaml (one custom resource per file) and all.yaml (everything).
The release is `wismo` in namespace `wismo`, as the kustomize base is.
"""

import contextlib
import os
import pathlib
import sys

import helm_python as helm
import yaml

RELEASE = NAMESPACE = "wismo"
BUILTIN_GROUPS = ("v1", "apps/v1", "policy/v1", "networking.k8s.io/v1", "autoscaling/v2")


def merge(base, over):
    """Helm's value coalescing: maps merge, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_values(files):
    values = {}
    for f in files:
        values = merge(values, yaml.safe_load(pathlib.Path(f).read_text()) or {})
    return values


@contextlib.contextmanager
def go_log_muted():
    """Helm's Go log repeats every template `fail` on stderr; the error itself is raised."""
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(null)
        os.close(saved)


def lint(chart, values):
    """Errors of `helm lint --strict`: warnings count as errors."""
    with go_log_muted():
        report = helm.lint(str(chart), values, strict=True, namespace=NAMESPACE)
    found = list(report.get("errors") or [])
    found += [f"{m['path']}: {m['error']}" for m in report.get("messages", []) if m["severity"] >= 2]
    return found


def render(chart, values):
    """Rendered documents (dicts), NOTES.txt left out."""
    with go_log_muted(), helm.Chart.load(str(chart)) as c:
        c.validate_schema(values)
        manifests = c.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    docs = []
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            continue
        docs += [d for d in yaml.safe_load_all(text) if d]
    return docs


def write_profile(out, docs):
    out.mkdir(parents=True, exist_ok=True)
    (out / "cr").mkdir(exist_ok=True)
    dump = lambda ds: yaml.safe_dump_all(ds, sort_keys=False)
    hooks = [d for d in docs if "helm.sh/hook" in d["metadata"].get("annotations", {})]
    plain = [d for d in docs if d not in hooks]
    builtin = [d for d in plain if d["apiVersion"] in BUILTIN_GROUPS]
    (out / "all.yaml").write_text(dump(plain))
    (out / "builtin.yaml").write_text(dump(builtin))
    (out / "hooks.yaml").write_text(dump(hooks))
    for d in plain:
        if d["apiVersion"] not in BUILTIN_GROUPS:
            (out / "cr" / f"{d['kind']}-{d['metadata']['name']}.yaml").write_text(yaml.safe_dump(d))


def profiles(chart):
    yield "default", []
    for f in sorted((chart / "ci").glob("*-values.yaml")):
        yield f.name.removesuffix("-values.yaml"), [f]


def main(argv):
    if argv[0] == "--split":
        write_profile(pathlib.Path(argv[2]), [d for d in yaml.safe_load_all(pathlib.Path(argv[1]).read_text()) if d])
        return 0
    chart, out = pathlib.Path(argv[0]), pathlib.Path(argv[1])
    if len(argv) > 2 and argv[2] == "--expect-fail":
        needle, extra = argv[3], argv[4:]
        values = load_values(extra)
        try:
            problems = lint(chart, values)
            render(chart, values)
        except helm.HelmError as e:
            problems = [str(e)]
        text = "\n".join(problems)
        if needle not in text:
            print(f"expected a failure naming {needle!r}, got: {text or 'success'}")
            return 1
        line = next(l for l in text.splitlines() if needle in l)
        print(f"rejected as expected: {line.strip()[:200]}")
        return 0
    todo = profiles(chart)
    if len(argv) > 2 and argv[2] == "--profile":
        todo = [(argv[3], argv[4:])]
    failed = False
    for name, files in todo:
        values = load_values(files)
        problems = lint(chart, values)
        try:
            docs = render(chart, values)
        except helm.HelmError as e:
            problems.append(str(e))
            docs = []
        if problems:
            failed = True
            print(f"{name}: FAILED\n  " + "\n  ".join(problems))
            continue
        write_profile(out / name, docs)
        kinds = sorted({d["kind"] for d in docs})
        print(f"{name}: lint ok, {len(docs)} objects ({', '.join(kinds)})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
