"""The SQLite catalogue file: its schema and migrations, and opening it for writing, for
reading (never migrating or writing anything: evidence on read-only media, or an archive an
older archiver still uses) or for a rebuild, telling damage from permissions."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from archiver.archive import lock
from archiver.archive.layout import INDEX_NAME, fsync_dir, has_capture_files
from archiver.errors import ArchiverError
from archiver.record import COLUMNS, Capture

# The captures table of schema 1; later schemas change it as their migrations say.
_CAPTURES_V1 = """
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL UNIQUE,
        url TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        final_url TEXT NOT NULL,
        status INTEGER NOT NULL,
        content_type TEXT,
        captured_at TEXT NOT NULL,
        warc_path TEXT NOT NULL UNIQUE,
        response_offset INTEGER NOT NULL,
        response_length INTEGER NOT NULL,
        metadata_offset INTEGER NOT NULL,
        metadata_length INTEGER NOT NULL,
        response_record_id TEXT NOT NULL,
        payload_sha256 TEXT NOT NULL,
        payload_length INTEGER NOT NULL,
        revisit INTEGER NOT NULL,
        refers_to TEXT,
        bytes INTEGER NOT NULL,
        manifest_sha256 TEXT NOT NULL,
        prev_manifest_sha256 TEXT,
        signed INTEGER NOT NULL
"""

_CAPTURES_V5 = (
    _CAPTURES_V1.replace("seq INTEGER NOT NULL UNIQUE", "seq INTEGER NOT NULL")
    .replace("warc_path TEXT NOT NULL UNIQUE", "warc_path TEXT NOT NULL")
    .rstrip()
)

SCHEMA_VERSION = 5
MIGRATIONS: dict[int, str] = {
    1: f"""
    CREATE TABLE captures (
{_CAPTURES_V1}    );
    CREATE INDEX captures_by_article ON captures (canonical_url, captured_at);
    CREATE INDEX captures_by_payload ON captures (payload_sha256);
    CREATE TABLE extracts (
        payload_sha256 TEXT NOT NULL,
        extractor_version TEXT NOT NULL,
        article TEXT NOT NULL,
        PRIMARY KEY (payload_sha256, extractor_version)
    );
    CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    2: "ALTER TABLE captures ADD COLUMN warc_sha256 TEXT",  # NULL for captures indexed before
    # seq loses UNIQUE: a forked chain (two captures claiming one seq, e.g. from a catalogue
    # deleted and restarted by an older archiver) must still be indexable, so `reindex` shows
    # every capture and `verify` reports the fork. Writers keep seq unique under the lock.
    3: f"""
    CREATE TABLE captures_v3 (
{_CAPTURES_V1.replace("seq INTEGER NOT NULL UNIQUE", "seq INTEGER NOT NULL").rstrip()},
        warc_sha256 TEXT
    );
    INSERT INTO captures_v3 SELECT id, seq, url, canonical_url, final_url, status, content_type,
        captured_at, warc_path, response_offset, response_length, metadata_offset, metadata_length,
        response_record_id, payload_sha256, payload_length, revisit, refers_to, bytes,
        manifest_sha256, prev_manifest_sha256, signed, warc_sha256 FROM captures;
    DROP TABLE captures;
    ALTER TABLE captures_v3 RENAME TO captures;
    CREATE INDEX captures_by_seq ON captures (seq);
    CREATE INDEX captures_by_article ON captures (canonical_url, captured_at);
    CREATE INDEX captures_by_payload ON captures (payload_sha256);
    """,
    # The extraction cache moved out of the catalogue (see article/cache.py): read commands
    # never write the archive.
    4: "DROP TABLE IF EXISTS extracts",
    # Rolling WARC files: a file holds many captures, each a range of it (start_offset,
    # bytes), so warc_path is no longer unique; (warc_path, start_offset) is.
    5: f"""
    CREATE TABLE captures_v5 (
{_CAPTURES_V5},
        warc_sha256 TEXT,
        start_offset INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO captures_v5 SELECT id, seq, url, canonical_url, final_url, status, content_type,
        captured_at, warc_path, response_offset, response_length, metadata_offset, metadata_length,
        response_record_id, payload_sha256, payload_length, revisit, refers_to, bytes,
        manifest_sha256, prev_manifest_sha256, signed, warc_sha256, 0 FROM captures;
    DROP TABLE captures;
    ALTER TABLE captures_v5 RENAME TO captures;
    CREATE INDEX captures_by_seq ON captures (seq);
    CREATE INDEX captures_by_article ON captures (canonical_url, captured_at);
    CREATE INDEX captures_by_payload ON captures (payload_sha256);
    CREATE INDEX captures_by_response ON captures (response_record_id);
    CREATE UNIQUE INDEX captures_by_range ON captures (warc_path, start_offset);
    """,
}


class Catalogue:
    """An open catalogue: `db`, whether it is `read_only`, and where a rebuild put a damaged
    one (`moved_aside`)."""

    def __init__(self, root: Path, *, writer: bool, rebuild: bool, read_only: bool) -> None:
        self.root = Path(root)
        self._writer, self.rebuild, self.read_only = writer, rebuild, read_only
        self._snapshot: tempfile.TemporaryDirectory | None = None
        self.moved_aside: Path | None = None
        self.version = SCHEMA_VERSION
        self.db = self._open()

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def close(self) -> None:
        self.db.close()
        if self._snapshot is not None:
            self._snapshot.cleanup()
            self._snapshot = None

    def _open(self) -> sqlite3.Connection:
        """Connect to the catalogue and bring its schema up to date; a damaged one is an
        ArchiverError (or, when rebuilding, moved aside); a read-only one is opened so."""
        if not self._writer:
            return self._open_read_only()
        try:
            return self._open_writable()
        except sqlite3.DatabaseError as exc:
            kind = error_kind(exc)
            if kind == "read-only" and self._writer:
                raise ArchiverError(f"{self.root} is read-only") from None
            if kind == "damaged" and self.rebuild:
                self._move_damaged_aside()
                try:
                    return self._open_writable()
                except sqlite3.DatabaseError as again:
                    raise catalogue_error(self.root, again) from None
            raise catalogue_error(self.root, exc) from None

    def _open_writable(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.index_path, timeout=60, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 60000")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 0 and not self.rebuild and has_capture_files(self.root):
                raise ArchiverError(no_catalogue_message(self.root))  # an empty or blank catalogue
            _use_wal(db)
            self.db = db
            if self.rebuild:  # a catalogue damaged past its first page must not survive reindex
                verdict = db.execute("PRAGMA quick_check").fetchone()[0]
                if verdict != "ok":
                    raise sqlite3.DatabaseError(" ".join(str(verdict).split())[:200])
            self._migrate()
            _check_schema(db)
        except BaseException:
            db.close()
            raise
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        """The catalogue for reading, never written or migrated (an older schema is read as it
        is): `mode=ro`; when SQLite cannot make its -shm file beside it,
        `immutable=1`, or, if a write-ahead log holds changes not yet in the file, a private
        copy of both (SQLite applies the log only where it can write)."""
        index = self.index_path
        uri = index.resolve().as_uri()
        try:
            return self._connect_read_only(f"{uri}?mode=ro")
        except sqlite3.DatabaseError as exc:
            if error_kind(exc) not in ("read-only", "cannot open"):
                raise catalogue_error(self.root, exc) from None
        wal = index.with_name(INDEX_NAME + "-wal")
        try:
            if wal.exists() and wal.stat().st_size > 0:
                self._snapshot = tempfile.TemporaryDirectory(prefix="archiver-catalogue-")
                copy = Path(self._snapshot.name) / INDEX_NAME
                shutil.copyfile(index, copy)
                shutil.copyfile(wal, copy.with_name(INDEX_NAME + "-wal"))
                return self._connect_read_only(f"{copy.as_uri()}?mode=ro")
            return self._connect_read_only(f"{uri}?immutable=1")
        except OSError as exc:
            raise ArchiverError(f"cannot read the catalogue {index}: {exc.strerror or exc}") from None
        except sqlite3.DatabaseError as exc:
            raise catalogue_error(self.root, exc) from None

    def _connect_read_only(self, uri: str) -> sqlite3.Connection:
        db = sqlite3.connect(uri, uri=True, timeout=60, isolation_level=None)
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA busy_timeout = 60000")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ArchiverError(f"archive index schema {version} is newer than this archiver")
            if version == 0:
                if has_capture_files(self.root):
                    raise ArchiverError(no_catalogue_message(self.root))
                raise ArchiverError(f"no archive at {self.root} (its catalogue is empty)")
            _check_schema(db)
            self.version = version
        except BaseException:
            db.close()
            raise
        return db

    def _move_damaged_aside(self) -> None:
        """Rename a damaged catalogue (and its -wal/-shm) to index.sqlite3.damaged-<UTC time>,
        kept for whoever wants to look at it, so `reindex` can start afresh."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        aside = self.root / f"{INDEX_NAME}.damaged-{stamp}"
        with lock.exclusive(self.root):
            for suffix in ("", "-wal", "-shm"):
                source = self.root / f"{INDEX_NAME}{suffix}"
                if source.exists():
                    os.replace(source, Path(f"{aside}{suffix}"))
            fsync_dir(self.root)
        self.moved_aside = aside

    def _migrate(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ArchiverError(f"archive index schema {version} is newer than this archiver")
        if version == SCHEMA_VERSION:
            return
        with self.transaction():
            version = self.db.execute("PRAGMA user_version").fetchone()[0]
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {step}")

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """An immediate (write-locked) transaction, committed on success."""
        return immediate(self.db)


@contextlib.contextmanager
def immediate(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An immediate (write-locked) transaction on `db`, committed on success, else rolled back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def insert_capture(db: sqlite3.Connection, capture: Capture) -> None:
    """Add a capture's row and make its manifest the chain head (inside a transaction)."""
    marks = ",".join("?" * len(COLUMNS))
    values = tuple(getattr(capture, name) for name in COLUMNS)  # astuple would deep-copy each value
    db.execute(f"INSERT INTO captures ({','.join(COLUMNS)}) VALUES ({marks})", values)
    db.execute("INSERT OR REPLACE INTO state VALUES ('chain_head', ?)", (capture.manifest_sha256,))


def one_line(exc: BaseException) -> str:
    """An exception as one short line, for error messages."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def no_catalogue_message(root: Path) -> str:
    return f"{root} has captures but no catalogue; rebuild it with `archiver reindex`"


def catalogue_error(root: Path, exc: sqlite3.DatabaseError) -> ArchiverError:
    """The one-line error for a catalogue SQLite cannot use."""
    index = Path(root) / INDEX_NAME
    kind = error_kind(exc)
    if kind == "damaged":
        return ArchiverError(
            f"the catalogue {index} is damaged ({one_line(exc)}); rebuild it with `archiver reindex`"
        )
    if kind == "busy":
        return ArchiverError(f"the catalogue {index} is busy (another archiver holds it): {exc}")
    if kind == "read-only":
        return ArchiverError(f"{root} is read-only ({exc})")
    return ArchiverError(f"cannot use the catalogue {index}: {one_line(exc)}")


def error_kind(exc: sqlite3.DatabaseError) -> str:
    """damaged, read-only, cannot open, busy, or other (I/O errors, full disk...)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    if name.startswith(("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")):
        return "read-only"
    if name.startswith("SQLITE_CANTOPEN"):
        return "cannot open"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return "busy"
    if (
        name.startswith(
            (
                "SQLITE_NOTADB",
                "SQLITE_CORRUPT",
                "SQLITE_ERROR",
                "SQLITE_SCHEMA",
                "SQLITE_MISMATCH",
                "SQLITE_RANGE",
                "SQLITE_FORMAT",
            )
        )
        or type(exc) is sqlite3.DatabaseError
    ):
        return "damaged"
    return "other"


def _use_wal(db: sqlite3.Connection) -> None:
    """Put the catalogue in WAL mode (persistent, so usually already so). Switching needs the
    file to itself, and SQLite answers "locked" at once, without waiting, while a second
    process is opening a new archive too: retry for a while."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if error_kind(exc) != "busy" or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _check_schema(db: sqlite3.Connection) -> None:
    """Raise sqlite3.DatabaseError unless the catalogue's tables have the columns we use."""
    optional = ("warc_sha256", "start_offset")  # older schemas, read as they are, lack them
    db.execute(f"SELECT {','.join(c for c in COLUMNS if c not in optional)} FROM captures LIMIT 0")
    db.execute("SELECT key, value FROM state LIMIT 0")
