"""Helpers to run exportflow's own commands as separate processes in tests."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.conftest import tool
from tests.ports import free_port, listening_port  # noqa: F401  (where many tests import them)


def run(args: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    """Run `exportflow ARGS` to completion and return its stdout (fails on non-zero exit)."""
    done = subprocess.run(
        [tool("exportflow"), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


class Proc:
    """A long-running exportflow process whose output lines can be awaited."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path | None = None) -> None:
        self.popen = subprocess.Popen(
            [tool("exportflow"), *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = 90) -> list[str]:
        """Collect output until a line containing `text` appears."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.2)
            except queue.Empty:
                if self.popen.poll() is not None:
                    break
                continue
            self.lines.append(line)
            if text in line:
                return self.lines
        raise AssertionError(f"no {text!r} in output:\n{''.join(self.lines)}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 45) -> int:
        """Signal the process and wait for it to exit; returns its exit code."""
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
                raise AssertionError("process did not stop in time") from None
        return int(self.popen.returncode)


@contextmanager
def started(
    args: list[str], env: dict[str, str], ready: str, cwd: Path | None = None
) -> Iterator[Proc]:
    """Start a process, wait for its `ready` line, and always stop it afterwards."""
    proc = Proc(args, env, cwd)
    try:
        proc.wait_for(ready)
        yield proc
    finally:
        proc.stop()


def wait_http(url: str, timeout: float = 60) -> None:
    """Poll until `url` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not become ready")


def base_env(**settings: str) -> dict[str, str]:
    """The test process's environment plus EXPORTFLOW_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPORTFLOW_")}
    env.update({f"EXPORTFLOW_{k.upper()}": v for k, v in settings.items()})
    return env
