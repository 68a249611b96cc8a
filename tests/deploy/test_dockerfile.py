"""deploy/Dockerfile and its build-context allowlist."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field

from tests.deploy.support import DEPLOY, ROOT

BUILD_TOOLS = re.compile(r"\b(gcc|g\+\+|clang|build-essential|make|[\w.+-]+-dev)\b")


@dataclass
class Stage:
    """One FROM ... section of the Dockerfile."""

    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [arg for kw, arg in self.instructions if kw == keyword]


def stages() -> list[Stage]:
    """The Dockerfile's stages, with continuation lines joined and ARGs before FROM applied."""
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    lines = [ln.strip() for ln in text.splitlines() if not ln.strip().startswith("#")]
    lines = [ln for ln in lines if ln]
    args: dict[str, str] = {}
    result: list[Stage] = []
    for line in lines:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "ARG" and not result and "=" in rest:
            key, value = rest.split("=", 1)
            args[key] = value
        elif keyword == "FROM":
            base, _, alias = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], rest).partition(" AS ")
            result.append(Stage(base.strip(), alias.strip() or str(len(result))))
        elif result:
            result[-1].instructions.append((keyword, rest))
    return result


def test_builder_stage_builds_a_wheel_into_a_venv() -> None:
    *builders, final = stages()
    (source,) = {m for c in final.all("COPY") for m in re.findall(r"--from=(\S+)", c)}
    (builder,) = [s for s in builders if s.name == source]
    steps = " ".join(builder.all("RUN"))
    assert "pip wheel" in steps or "-m build" in steps
    assert "venv" in steps


def test_both_stages_use_python_3_11_slim() -> None:
    for stage in stages():
        assert stage.base.startswith("python:3.11-slim"), stage.base


def test_final_stage_runs_as_non_root_without_build_tools() -> None:
    final = stages()[-1]
    users = final.all("USER")
    assert users, "the final stage sets no USER, so it runs as root"
    uid = users[-1].split(":")[0]
    # Numeric, so Kubernetes' runAsNonRoot can verify it.
    assert uid.isdigit(), uid
    assert uid != "0"
    assert not BUILD_TOOLS.findall(" ".join(final.all("RUN")))
    assert not any("pip install" in run for run in final.all("RUN"))


def test_entrypoint_command_port_and_healthcheck() -> None:
    final = stages()[-1]
    assert json.loads(final.all("ENTRYPOINT")[-1]) == ["exportflow"]
    assert json.loads(final.all("CMD")[-1]) == ["api", "--host", "0.0.0.0"]
    assert "8000" in " ".join(final.all("EXPOSE")).split()
    (check,) = final.all("HEALTHCHECK")
    assert "/healthz" in check
    assert "urllib" in check
    assert "curl" not in check


def test_dockerignore_allowlists_only_what_the_wheel_needs() -> None:
    lines = (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
    patterns = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    assert patterns[0] == "*", "start from nothing so local secrets never reach the builder"
    included = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    find = pyproject["tool"]["setuptools"]["packages"]["find"]
    packages = {pattern.rstrip("*") for pattern in find["include"]}
    assert {"pyproject.toml", *packages} <= included
    assert not {i for i in included if i.startswith((".env", ".git", ".venv"))}
    readme = (DEPLOY / "README.md").read_text()
    assert all(p in readme for p in patterns), "README's .dockerignore suggestion is stale"
