"""Shared test setup: keep every test away from the real per-user data directory."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # the packages live at the repo root
    sys.path.insert(0, str(ROOT))


def pytest_configure(config: pytest.Config) -> None:
    """Session-scoped fixtures are set up before the per-test home below: give them a temp home too."""
    os.environ["PROCSEARCH_HOME"] = tempfile.mkdtemp(prefix="procsearch-session-home-")
    os.environ.pop("PROCSEARCH_INDEX", None)


@pytest.fixture(autouse=True)
def tmp_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PROCSEARCH_HOME points at a fresh temp dir and PROCSEARCH_INDEX is unset, so no test touches ~."""
    home = tmp_path_factory.mktemp("procsearch-home")
    monkeypatch.setenv("PROCSEARCH_HOME", str(home))
    monkeypatch.delenv("PROCSEARCH_INDEX", raising=False)
    return home
