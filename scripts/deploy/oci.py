"""Writes an OCI image layout (one layer) from a root filesystem directory, with
no container engine: what `docker build` of the Dockerfile produces, offline.

    oci.py ROOTFS LAYOUT_DIR TAG

Reproducible: entries sorted, owned by 0:0, timestamps 0, gzip without a name
or time, so the same rootfs gives the same digests.
"""

import gzip
import hashlib
import io
import json
import os
import pathlib
import sys
import tarfile

USER = "65532:65532"


def layer(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(rootfs.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(rootfs)))
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            if info.isreg():
                with path.open("rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
    raw = buf.getvalue()
    zipped = io.BytesIO()
    with gzip.GzipFile(fileobj=zipped, mode="wb", mtime=0, filename="", compresslevel=6) as g:
        g.write(raw)
    return raw, zipped.getvalue()


def blob(layout, data):
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return {"digest": f"sha256:{digest}", "size": len(data)}


def main(rootfs, layout, tag):
    rootfs, layout = pathlib.Path(rootfs), pathlib.Path(layout)
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    raw, zipped = layer(rootfs)
    layer_desc = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **blob(layout, zipped)}
    config = {
        "created": "1970-01-01T00:00:00Z",
        "architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine),
        "os": "linux",
        "config": {
            "User": USER,
            "Env": ["PATH=/usr/local/bin"],
            # Each workload names its binary (command:); this default only prints help.
            "Cmd": ["/usr/local/bin/wismoctl", "--help"],
            "WorkingDir": "/",
            "Labels": {"org.opencontainers.image.title": "wismo"},
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{hashlib.sha256(raw).hexdigest()}"]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "scripts/deploy/rootfs.sh + oci.py"}],
    }
    config_desc = {"mediaType": "application/vnd.oci.image.config.v1+json",
                   **blob(layout, json.dumps(config, sort_keys=True).encode())}
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer_desc]}
    manifest_desc = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                     **blob(layout, json.dumps(manifest, sort_keys=True).encode()),
                     "annotations": {"org.opencontainers.image.ref.name": tag}}
    (layout / "index.json").write_text(json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [manifest_desc]}))
    (layout / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    print(f"oci: {layout}:{tag} manifest {manifest_desc['digest']}, layer {len(zipped) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main(*sys.argv[1:])
