"""A persisted Temporal dev server that a test can kill and start again on the same port."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from pathlib import Path

from services.dev import dev_server_command
from tests.ports import free_port


class DevServer:
    """`temporal server start-dev` as `exportflow dev` runs it, state in `db_file`."""

    def __init__(self, db_file: Path, log: Path) -> None:
        self.db_file = db_file
        self.log = log
        self.port = free_port()
        # The CLI would pick ephemeral ports for these; named, nothing else can grab them.
        self.extra = ["--http-port", str(free_port()), "--metrics-port", str(free_port())]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """host:port of its frontend."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        """Start (or restart) it and wait until it accepts connections."""
        args = [*dev_server_command(self.db_file, self.port, log_level="error"), *self.extra]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 1),
            ):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"dev server did not start:\n{self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        """Stop it for good (SIGTERM, then SIGKILL)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
