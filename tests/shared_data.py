"""Where the shared reference data (../shared/data beside the repository) is, for tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def shared_data() -> Path:
    """The shared data folder; skips the calling test when it is not beside the repository."""
    folder = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()
    if not folder.is_dir():
        pytest.skip(f"shared reference data not found at {folder} (expected beside the repo)")
    return folder
