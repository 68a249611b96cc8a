"""Loading and small queries shared by the deployment-file tests (PyYAML and stdlib only)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
# Files in deploy/k8s that are YAML but not Kubernetes objects.
NOT_MANIFESTS = frozenset({"kustomization.yaml", "temporal-values.yaml"})
# The only value a committed secret may have.
PLACEHOLDER = "change-me"
SECRET_KEY = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|DATABASE_URL", re.IGNORECASE)

Obj = dict[str, Any]


def manifest_files() -> list[Path]:
    """Every Kubernetes manifest in deploy/k8s, templates included."""
    files = sorted([*K8S.glob("*.yaml"), *K8S.glob("*.yml")])
    return [p for p in files if p.name not in NOT_MANIFESTS]


@cache
def manifests() -> tuple[Obj, ...]:
    """All objects of all manifest files."""
    return tuple(
        doc
        for path in manifest_files()
        for doc in yaml.safe_load_all(path.read_text())
        if doc is not None
    )


def of_kind(kind: str) -> list[Obj]:
    """The objects of one kind."""
    return [doc for doc in manifests() if doc.get("kind") == kind]


def deployment(name: str) -> Obj:
    """The Deployment called `name`."""
    (found,) = [d for d in of_kind("Deployment") if d["metadata"]["name"] == name]
    return found


def pod_spec(obj: Obj) -> Obj:
    """The pod spec of a Deployment or Job."""
    spec: Obj = obj["spec"]["template"]["spec"]
    return spec


def all_containers() -> Iterator[tuple[Obj, Obj]]:
    """(owner, container) for every container and init container of every workload."""
    for obj in [*of_kind("Deployment"), *of_kind("Job")]:
        spec = pod_spec(obj)
        for container in [*spec.get("initContainers", []), *spec["containers"]]:
            yield obj, container


def configmap_data() -> dict[str, Any]:
    """The data of the one ConfigMap."""
    (configmap,) = of_kind("ConfigMap")
    data: dict[str, Any] = configmap["data"]
    return data


def container_port(container: Obj, port: int | str) -> int:
    """The container port a probe or Service port refers to, by name or by number."""
    for declared in container.get("ports", []):
        if port in (declared.get("name"), declared["containerPort"]):
            number: int = declared["containerPort"]
            return number
    raise AssertionError(f"port {port!r} is not declared by container {container['name']}")


def probe_port(container: Obj, probe: str) -> int:
    """The container port a probe checks."""
    handler = container[probe].get("httpGet") or container[probe].get("tcpSocket")
    assert handler is not None, f"{probe} of {container['name']} checks no port"
    return container_port(container, handler["port"])


def is_unpinned(image: str) -> bool:
    """True when an image reference has no tag or digest, or is tagged latest."""
    if "@sha256:" in image:
        return False
    name, _, tag = image.rpartition(":")
    if not name or "/" in tag:  # no tag: the colon, if any, belonged to a registry port
        return True
    return tag == "latest"


@cache
def settings_env_names() -> frozenset[str]:
    """EXPORTFLOW_* names of the fields of services/config.py's Settings, read without importing."""
    tree = ast.parse((ROOT / "services" / "config.py").read_text())
    (settings,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    return frozenset(
        f"EXPORTFLOW_{node.target.id.upper()}"
        for node in settings.body
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
    )
