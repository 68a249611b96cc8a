"""Package boundaries: the API, the console and the bulk import do not import one another."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> set[tuple[str, str]]:
    """(file, imported module) for every import in the package's files."""
    found = set()
    for path in (ROOT / package.replace(".", "/")).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            found |= {(str(path.relative_to(ROOT)), name) for name in names}
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("services.web", ("services.api",)),
        ("services.orders_import", ("services.api", "services.web")),
        ("services.ops", ("services.api", "services.web")),
    ],
)
def test_package_does_not_import(package: str, forbidden: tuple[str, ...]) -> None:
    bad = sorted(
        (path, name)
        for path, name in _imports(package)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    )
    assert bad == [], f"{package} must not import {forbidden}: {bad}"


def test_the_checker_sees_imports() -> None:
    assert any(name.startswith("services.ops") for _, name in _imports("services.web"))
