"""The extraction cache: an article extracted once from a capture's payload is kept in the
catalogue, so repeated diffs and `--all` walks do not parse HTML again. A cache, never
evidence: keyed by everything extraction depends on, so a different decoding can never be
served from it, and skipped wherever the catalogue may not be written."""

from __future__ import annotations

import hashlib
import json
import sqlite3

from archiver.archive.catalogue import SCHEMA_VERSION, Catalogue, error_kind
from archiver.record import canonical_json


def cache_key(payload_sha256: str, headers: list[tuple[str, str]], url: str, extractor_version: str) -> str:
    """The key: payload digest, the headers decoding reads (Content-Type with its charset,
    Content-Encoding), the URL (metadata is resolved against it) and the extractor version."""
    wanted = {"content-type", "content-encoding"}
    decoding = sorted((name.lower(), value.strip()) for name, value in headers if name.lower() in wanted)
    parts = {"payload": payload_sha256, "headers": decoding, "url": url, "extractor": extractor_version}
    return hashlib.sha256(canonical_json(parts)).hexdigest()


def cached(catalogue: Catalogue, key: str) -> dict | None:
    """The cached article for `key`, if any (none in catalogues of an older schema)."""
    if catalogue.version != SCHEMA_VERSION:
        return None
    row = catalogue.db.execute("SELECT article FROM extracts WHERE key = ?", (key,)).fetchone()
    return json.loads(row[0]) if row else None


def store(catalogue: Catalogue, key: str, article: dict) -> None:
    """Cache an article; skipped where the catalogue may not be written (read-only media, an
    older schema, or a writer holding it busy)."""
    db = catalogue.cache_db()
    if db is None:
        return
    try:
        db.execute("INSERT OR REPLACE INTO extracts VALUES (?, ?)", (key, json.dumps(article)))
    except sqlite3.OperationalError as exc:
        if error_kind(exc) not in ("read-only", "busy"):
            raise
