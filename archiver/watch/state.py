"""Watch state in the archive's catalogue file, in tables of its own (`watch_*`, made with
CREATE TABLE IF NOT EXISTS by `watch add` and `watch run` only, so the captures schema and its
migrations stay the catalogue's business): sources, the items found in them, when each is due,
its validators, the per-host backoff, and the leases that keep two watchers off one host.

The schedule lives in a narrow table of its own (`watch_due`: three integers a row), so the
round that finds nothing changed rewrites a handful of pages, not every item's row."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archiver.archive.catalogue import immediate
from archiver.archive.folder import Archive
from archiver.archive.layout import INDEX_NAME
from archiver.errors import ArchiverError

SCHEMA = """
CREATE TABLE IF NOT EXISTS watch_sources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    host TEXT NOT NULL,
    kind TEXT,
    notify TEXT NOT NULL DEFAULT '[]',
    added_at INTEGER NOT NULL,
    etag TEXT,
    last_modified TEXT,
    next_at INTEGER NOT NULL DEFAULT 0,
    checked_at INTEGER,
    failures INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE TABLE IF NOT EXISTS watch_items (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL,
    key TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    host TEXT NOT NULL,
    title TEXT,
    found_at INTEGER NOT NULL,
    changed_at INTEGER,
    lastmod INTEGER,
    etag TEXT,
    last_modified TEXT,
    payload_sha256 TEXT,
    capture_id TEXT,
    status INTEGER,
    note TEXT
);
CREATE INDEX IF NOT EXISTS watch_items_by_source ON watch_items (source_id);
CREATE TABLE IF NOT EXISTS watch_due (
    item_id INTEGER PRIMARY KEY,
    next_at INTEGER,
    checked_at INTEGER
);
CREATE TABLE IF NOT EXISTS watch_hosts (
    host TEXT PRIMARY KEY,
    not_before REAL NOT NULL,
    strikes INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watch_leases (
    host TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires REAL NOT NULL
) WITHOUT ROWID;
"""


@dataclass
class Source:
    id: int
    name: str
    url: str
    host: str
    kind: str | None
    notify: list[str]
    etag: str | None
    last_modified: str | None
    next_at: int
    checked_at: int | None
    failures: int
    error: str | None
    items: int = 0

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "url": self.url,
            "kind": self.kind,
            "notify": len(self.notify),
            "items": self.items,
            "checked_at": self.checked_at,
            "next_at": self.next_at,
            "error": self.error,
        }


@dataclass
class Item:
    id: int
    source_id: int
    key: str
    url: str
    host: str
    title: str | None
    found_at: int
    changed_at: int | None
    lastmod: int | None
    etag: str | None
    last_modified: str | None
    payload_sha256: str | None
    capture_id: str | None
    status: int | None
    next_at: int | None = None


def default_name(url: str) -> str:
    """A source's name unless one is given: its host and path (`example.com/news/rss`)."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}{parts.path.rstrip('/')}" or url


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def owner_id() -> str:
    """This process, as a lease holder: host name and pid (a dead local holder's lease is
    taken over at once), plus a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class WatchState:
    """One connection to the catalogue file for the watch tables, shared by a watcher's
    threads under a lock. `write=False` reads through the archive's own read-only
    connection (read-only media included) and never creates or writes anything."""

    def __init__(self, root: Path, *, write: bool) -> None:
        path = Path(root) / INDEX_NAME
        if not path.exists():
            raise ArchiverError(f"no archive at {root} (run `archiver watch add` first)")
        self.lock = threading.RLock()
        self._archive: Archive | None = None
        if write:
            self.db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA busy_timeout = 60000")
            self.db.executescript(SCHEMA)  # IF NOT EXISTS: nothing is written once the tables are there
        else:
            self._archive = Archive(Path(root), create=False)
            self.db = self._archive.db
        self.has_tables = bool(
            self.db.execute("SELECT 1 FROM sqlite_master WHERE name = 'watch_sources'").fetchone()
        )

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
        else:
            self.db.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock, immediate(self.db) as db:
            yield db

    def _rows(self, sql: str, args: tuple = ()) -> list[sqlite3.Row]:
        if not self.has_tables:
            return []
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    # -- sources ---------------------------------------------------------------------

    def add_source(self, url: str, key: str, name: str, notify: list[str], now: int) -> Source:
        with self.transaction() as db:
            clash = db.execute(
                "SELECT name, url FROM watch_sources WHERE key = ? OR name = ?", (key, name)
            ).fetchone()
            if clash is not None:
                raise ArchiverError(f"already watched as {clash['name']}: {clash['url']}")
            db.execute(
                "INSERT INTO watch_sources (name, url, key, host, notify, added_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (name, url, key, host_of(url), json.dumps(notify), now),
            )
        found = self.source(name)
        assert found is not None
        return found

    def source(self, name_or_url: str, key: str | None = None) -> Source | None:
        rows = self._rows(
            "SELECT * FROM watch_sources WHERE name = ? OR url = ? OR key = ?",
            (name_or_url, name_or_url, key or name_or_url),
        )
        return _source(rows[0]) if rows else None

    def remove_source(self, source: Source) -> int:
        """Forget a source and the items only it found (their captures stay archived)."""
        with self.transaction() as db:
            db.execute(
                "DELETE FROM watch_due WHERE item_id IN (SELECT id FROM watch_items WHERE source_id = ?)",
                (source.id,),
            )
            gone = db.execute("DELETE FROM watch_items WHERE source_id = ?", (source.id,)).rowcount
            db.execute("DELETE FROM watch_sources WHERE id = ?", (source.id,))
        return gone

    def sources(self) -> list[Source]:
        rows = self._rows(
            "SELECT s.*, (SELECT count(*) FROM watch_items i WHERE i.source_id = s.id) AS items "
            "FROM watch_sources s ORDER BY s.name"
        )
        return [_source(row) for row in rows]

    def due_sources(self, host: str, now: int) -> list[Source]:
        rows = self._rows(
            "SELECT * FROM watch_sources WHERE host = ? AND next_at <= ? ORDER BY next_at, id", (host, now)
        )
        return [_source(row) for row in rows]

    def polled(self, source: Source, kind: str | None, validators: tuple[str | None, str | None]) -> None:
        """A source answered with something new: its kind and validators."""
        with self.transaction() as db:
            db.execute(
                "UPDATE watch_sources SET kind = ?, etag = ?, last_modified = ? WHERE id = ?",
                (kind, *validators, source.id),
            )

    # -- items -----------------------------------------------------------------------

    def add_items(
        self, source_id: int, found: list[tuple[str, str, str | None, int | None]], now: int
    ) -> tuple[int, int]:
        """Items (key, url, title, lastmod) seen in a source: new ones are due at once, known
        ones whose lastmod moved on are moved up the queue. Returns (new, moved up)."""
        new = moved = 0
        with self.transaction() as db:
            for key, url, title, lastmod in found:
                row = db.execute("SELECT id, lastmod FROM watch_items WHERE key = ?", (key,)).fetchone()
                if row is None:
                    cursor = db.execute(
                        "INSERT INTO watch_items (source_id, key, url, host, title, found_at, lastmod) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (source_id, key, url, host_of(url), title, now, lastmod),
                    )
                    db.execute("INSERT INTO watch_due (item_id, next_at) VALUES (?, 0)", (cursor.lastrowid,))
                    new += 1
                elif lastmod is not None and (row["lastmod"] is None or lastmod > row["lastmod"]):
                    db.execute(
                        "UPDATE watch_items SET lastmod = ?, changed_at = max(coalesce(changed_at, 0), ?) "
                        "WHERE id = ?",
                        (lastmod, min(lastmod, now), row["id"]),
                    )
                    if row["lastmod"] is not None:
                        db.execute("UPDATE watch_due SET next_at = 0 WHERE item_id = ?", (row["id"],))
                        moved += 1
        return new, moved

    def source_hosts_due(self, now: int) -> list[str]:
        rows = self._rows("SELECT DISTINCT host FROM watch_sources WHERE next_at <= ? ORDER BY host", (now,))
        return [row[0] for row in rows]

    def item_hosts_due(self, now: int, every: bool = False) -> list[str]:
        """Hosts with an article due (`every`: with any article at all)."""
        due = "d.next_at IS NOT NULL AND d.next_at <= ?" if not every else "? IS NOT NULL"
        rows = self._rows(
            f"SELECT DISTINCT i.host FROM watch_due d JOIN watch_items i ON i.id = d.item_id WHERE {due} "
            "ORDER BY i.host",
            (now,),
        )
        return [row[0] for row in rows]

    def items_due(self, host: str, now: int, every: bool = False) -> list[Item]:
        due = "d.next_at IS NOT NULL AND d.next_at <= ?" if not every else "? IS NOT NULL"
        rows = self._rows(
            f"SELECT i.*, d.next_at FROM watch_due d JOIN watch_items i ON i.id = d.item_id "
            f"WHERE i.host = ? AND {due} ORDER BY d.next_at, i.id",
            (host, now),
        )
        return [_item(row) for row in rows]

    def captured(self, item: Item, next_at: int | None, now: int) -> None:
        """Record a capture (or a changed answer) of `item` at once: a restarted watcher must
        never capture it again before it is due."""
        with self.transaction() as db:
            db.execute(
                "UPDATE watch_items SET changed_at = ?, etag = ?, last_modified = ?, payload_sha256 = ?, "
                "capture_id = ?, status = ?, title = coalesce(?, title) WHERE id = ?",
                (
                    item.changed_at,
                    item.etag,
                    item.last_modified,
                    item.payload_sha256,
                    item.capture_id,
                    item.status,
                    item.title,
                    item.id,
                ),
            )
            db.execute(
                "UPDATE watch_due SET next_at = ?, checked_at = ? WHERE item_id = ?", (next_at, now, item.id)
            )

    def checked(self, done: list[tuple[int, int | None, int]]) -> None:
        """Unchanged checks (item id, next due, checked at), written as one group."""
        if done:
            with self.transaction() as db:
                db.executemany(
                    "UPDATE watch_due SET next_at = ?, checked_at = ? WHERE item_id = ?",
                    [(next_at, at, item_id) for item_id, next_at, at in done],
                )

    # -- hosts: backoff and leases ------------------------------------------------------

    def not_before(self, host: str) -> float:
        rows = self._rows("SELECT not_before FROM watch_hosts WHERE host = ?", (host,))
        return float(rows[0][0]) if rows else 0.0

    def back_off(self, host: str, until: float | None, now: float) -> float:
        """A host said 429/503: leave it alone until `until` (its Retry-After), else for a
        minute doubling with each strike in a row, at most a day. Returns the time."""
        with self.transaction() as db:
            row = db.execute("SELECT strikes FROM watch_hosts WHERE host = ?", (host,)).fetchone()
            strikes = (row[0] if row else 0) + 1
            when = until if until is not None else now + min(86400.0, 60.0 * 2 ** (strikes - 1))
            db.execute(
                "INSERT OR REPLACE INTO watch_hosts (host, not_before, strikes) VALUES (?, ?, ?)",
                (host, min(when, now + 86400.0), strikes),
            )
        return when

    def host_answered(self, host: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM watch_hosts WHERE host = ?", (host,))

    def acquire(self, host: str, owner: str, now: float, ttl: float) -> bool:
        """Take (or renew) the lease on `host`; False when another live watcher holds it."""
        with self.transaction() as db:
            row = db.execute("SELECT owner, expires FROM watch_leases WHERE host = ?", (host,)).fetchone()
            if row is not None and row[0] != owner and row[1] > now and not _holder_is_dead(row[0]):
                return False
            db.execute(
                "INSERT OR REPLACE INTO watch_leases (host, owner, expires) VALUES (?, ?, ?)",
                (host, owner, now + ttl),
            )
        return True

    def release(
        self,
        host: str,
        owner: str,
        done: list[tuple[int, int | None, int]],
        polled: list[tuple[int, int, int, str | None]],
    ) -> None:
        """Write the host's last unchanged checks and source polls (source id, checked at,
        next poll, error) and give the host up, all in one transaction."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE watch_due SET next_at = ?, checked_at = ? WHERE item_id = ?",
                [(next_at, at, item_id) for item_id, next_at, at in done],
            )
            db.executemany(
                "UPDATE watch_sources SET checked_at = ?, next_at = ?, error = ?, "
                "failures = CASE WHEN ? IS NULL THEN 0 ELSE failures + 1 END WHERE id = ?",
                [(at, next_at, error, error, source_id) for source_id, at, next_at, error in polled],
            )
            db.execute("DELETE FROM watch_leases WHERE host = ? AND owner = ?", (host, owner))

    def next_due(self) -> float | None:
        """The earliest time anything is due (for the loop's sleep)."""
        rows = self._rows(
            "SELECT min(t) FROM (SELECT min(next_at) AS t FROM watch_due WHERE next_at IS NOT NULL "
            "UNION ALL SELECT min(next_at) FROM watch_sources)"
        )
        return float(rows[0][0]) if rows and rows[0][0] is not None else None


def _source(row: sqlite3.Row) -> Source:
    keys = row.keys()
    return Source(
        id=row["id"],
        name=row["name"],
        url=row["url"],
        host=row["host"],
        kind=row["kind"],
        notify=json.loads(row["notify"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        next_at=row["next_at"],
        checked_at=row["checked_at"],
        failures=row["failures"],
        error=row["error"],
        items=row["items"] if "items" in keys else 0,
    )


def _item(row: sqlite3.Row) -> Item:
    return Item(
        **{name: row[name] for name in Item.__dataclass_fields__ if name != "next_at"},
        next_at=row["next_at"],
    )
