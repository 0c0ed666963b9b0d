"""The extraction cache: an article extracted once is kept, so repeated diffs and `--all`
walks do not parse the same HTML again. It lives in the user's cache folder, not in the
archive: read commands leave the archive untouched, an archive handed to someone else never
carries a cache they would have to trust, and deleting it loses nothing. An entry is keyed
by everything extraction depends on (the body's own digest, the headers decoding reads, the
URL, the extractor's and its libraries' versions), so another decoding is never served."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import sqlite3
from importlib import metadata
from pathlib import Path

from archiver.record import canonical_json

LIBRARIES = ("trafilatura", "lxml", "htmldate", "charset-normalizer", "brotli")
DECODING = frozenset({"content-type", "content-encoding"})


def folder() -> Path:
    """$ARCHIVER_CACHE, else $XDG_CACHE_HOME/archiver, else ~/.cache/archiver."""
    if os.environ.get("ARCHIVER_CACHE"):
        return Path(os.environ["ARCHIVER_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "archiver"


@functools.cache
def _library_versions() -> tuple[tuple[str, str], ...]:
    found = []
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append((name, metadata.version(name)))
    return tuple(found)


def cache_key(body: bytes, headers: list[tuple[str, str]], url: str, extractor_version: str) -> str:
    """The key: the digest of the body read, the headers decoding reads (Content-Type with
    its charset, Content-Encoding), the URL (metadata is resolved against it), the
    extractor version and the versions of the libraries it runs on."""
    decoding = sorted((name.lower(), value.strip()) for name, value in headers if name.lower() in DECODING)
    parts = {
        "body": hashlib.sha256(body).hexdigest(),
        "headers": decoding,
        "url": url,
        "extractor": extractor_version,
        "libraries": _library_versions(),
    }
    return hashlib.sha256(canonical_json(parts)).hexdigest()


class ExtractCache:
    """The cache file, opened on first use; every failure (no home, read-only, busy) only
    means no caching."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path  # default: resolved on first use, from the environment then
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None and not self._broken:
            path = self.path or folder() / "extracts.sqlite3"
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(path, timeout=2, isolation_level=None, check_same_thread=False)
                db.execute("PRAGMA journal_mode = WAL")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS extracts (key TEXT PRIMARY KEY, article TEXT NOT NULL)"
                )
                self._db = db
            except (OSError, sqlite3.Error):
                self._broken = True
        return self._db

    def get(self, key: str) -> dict | None:
        db = self._connect()
        try:
            row = db.execute("SELECT article FROM extracts WHERE key = ?", (key,)).fetchone() if db else None
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None

    def put(self, key: str, article: dict) -> None:
        db = self._connect()
        if db is not None:
            with contextlib.suppress(sqlite3.Error):
                db.execute("INSERT OR REPLACE INTO extracts VALUES (?, ?)", (key, json.dumps(article)))

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


CACHE = ExtractCache()  # one per process, opened on first use
