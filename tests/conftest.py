"""Shared fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def extraction_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The extraction cache in a folder of the test run's own (never the user's)."""
    monkeypatch.setenv("ARCHIVER_CACHE", str(tmp_path_factory.getbasetemp() / "extraction-cache"))


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archives"
