"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def own_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The extraction cache and private keys in folders of the test run's own (never the
    user's), set before any fixture of any scope makes an archive."""
    base = tmp_path_factory.getbasetemp()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARCHIVER_CACHE", str(base / "extraction-cache"))
        patch.setenv("ARCHIVER_KEYS", str(base / "keys"))
        yield


@pytest.fixture
def archive_dir(tmp_path: Path) -> Path:
    return tmp_path / "archives"
