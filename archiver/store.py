"""The archive on disk: WARC files under warcs/YYYY/MM/DD/ and the SQLite catalogue."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import astuple, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path

from .errors import ArchiverError
from .warc import HttpResponse, read_response, scan_records

INDEX_NAME = "index.sqlite3"
SOURCES = "sources"  # files brought in by `archiver import`, kept as given
SCHEMA_VERSION = 2
MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE captures (
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
    );
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
}


@dataclass
class Capture:
    """One row of the catalogue: a capture and where its records are."""

    id: str
    seq: int
    url: str
    canonical_url: str
    final_url: str
    status: int
    content_type: str | None
    captured_at: str
    warc_path: str
    response_offset: int
    response_length: int
    metadata_offset: int
    metadata_length: int
    response_record_id: str
    payload_sha256: str
    payload_length: int
    revisit: bool
    refers_to: str | None
    bytes: int
    manifest_sha256: str
    prev_manifest_sha256: str | None
    signed: bool
    warc_sha256: str | None = None  # of the file's bytes as written


COLUMNS = [f.name for f in fields(Capture)]


def canonical_json(data: object) -> bytes:
    """The byte form hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def manifest_digest(manifest: dict) -> str:
    """Hex SHA-256 of a manifest's canonical JSON: the link of the capture chain."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


def default_root() -> Path:
    """`ARCHIVER_HOME`, else `./archives`."""
    return Path(os.environ.get("ARCHIVER_HOME") or "archives")


class Archive:
    """An archive folder: `warcs/` holds the evidence, `index.sqlite3` the catalogue."""

    def __init__(self, root: Path, create: bool = True) -> None:
        self.root = Path(root)
        self._swept = False
        if not (self.root / INDEX_NAME).exists() and not create:
            raise ArchiverError(f"no archive at {self.root} (run `archiver capture` first)")
        try:
            (self.root / "warcs").mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.root / INDEX_NAME, timeout=60, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise ArchiverError(f"cannot open archive {self.root}: {exc}") from None
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA busy_timeout = 60000")
        self.db.execute("PRAGMA journal_mode = WAL")
        self._migrate()

    def close(self) -> None:
        self.db.close()

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

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locked) transaction, committed on success."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- writing -------------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Exclusive right to append to the archive (across processes); recovers first
        from a writer that died mid-capture."""
        with open(self.root / ".lock", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._recover()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @property
    def _journal(self) -> Path:
        return self.root / ".pending"

    def temp_path_for(self, final: Path) -> Path:
        """A temporary file beside `final`, named for this process (so a dead writer's can be
        told from a live one's)."""
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.with_name(f".{final.name}.{os.getpid()}.tmp")

    def commit_write(self, temp: Path, final: Path, capture: Capture) -> None:
        """Under the writer lock: make a fully written, fsynced WARC visible, then index it
        and advance the chain. The journal lets the next writer finish a killed commit."""
        _atomic_write(self._journal, json.dumps({"final": str(final), "temp": str(temp)}).encode())
        os.replace(temp, final)
        _fsync_dir(final.parent)
        self._insert(capture, capture.manifest_sha256)
        self._journal.unlink(missing_ok=True)

    def _insert(self, capture: Capture, manifest_sha: str) -> None:
        marks = ",".join("?" * len(COLUMNS))
        with self.transaction() as db:
            db.execute(f"INSERT INTO captures ({','.join(COLUMNS)}) VALUES ({marks})",
                       astuple(capture))
            db.execute("INSERT OR REPLACE INTO state VALUES ('chain_head', ?)", (manifest_sha,))

    def _recover(self) -> None:
        """Finish or discard what a killed writer left: a renamed WARC gets indexed,
        a temporary file is removed."""
        if not self._swept:
            self._swept = True
            _remove_dead_temps(self.warc_path_for(_today_id()).parent)
        if not self._journal.exists():
            return
        try:
            pending = json.loads(self._journal.read_bytes())
        except ValueError:
            pending = {}
        temp, final = pending.get("temp"), pending.get("final")
        if temp:
            Path(temp).unlink(missing_ok=True)
        if final and Path(final).exists() and self.by_path(self.relative(Path(final))) is None:
            try:
                capture, manifest_sha = capture_from_warc(self.root, Path(final))
                self._insert(capture, manifest_sha)
            except (ValueError, KeyError, OSError):
                Path(final).unlink(missing_ok=True)
        self._journal.unlink(missing_ok=True)

    def chain_state(self) -> tuple[str | None, int]:
        """(manifest digest of the chain head, next sequence number)."""
        head = self.db.execute("SELECT value FROM state WHERE key='chain_head'").fetchone()
        seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM captures").fetchone()[0]
        return (head[0] if head else None), seq + 1

    def warc_path_for(self, capture_id: str) -> Path:
        """warcs/YYYY/MM/DD/<capture-id>.warc.gz; ids start with the UTC time."""
        return (self.root / "warcs" / capture_id[0:4] / capture_id[4:6] / capture_id[6:8]
                / f"{capture_id}.warc.gz")

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    # -- reading -------------------------------------------------------------------

    def _captures(self, where: str = "", args: tuple = ()) -> list[Capture]:
        rows = self.db.execute(f"SELECT * FROM captures {where}", args).fetchall()
        return [_row_to_capture(row) for row in rows]

    def all(self) -> list[Capture]:
        return self._captures("ORDER BY seq")

    def get(self, capture_id: str) -> Capture | None:
        found = self._captures("WHERE id = ? OR id LIKE ? ORDER BY seq", (capture_id, capture_id + "%"))
        exact = [c for c in found if c.id == capture_id]
        if exact or len(found) == 1:
            return (exact or found)[0]
        if found:
            raise ArchiverError(f"capture id prefix {capture_id!r} is ambiguous")
        return None

    def by_path(self, warc_path: str) -> Capture | None:
        found = self._captures("WHERE warc_path = ?", (warc_path,))
        return found[0] if found else None

    def history(self, canonical_url: str) -> list[Capture]:
        return self._captures("WHERE canonical_url = ? ORDER BY captured_at, seq", (canonical_url,))

    def original_with_payload(self, canonical_url: str, payload_sha256: str) -> Capture | None:
        """The latest full (non-revisit) capture of this article with this payload."""
        found = self._captures(
            "WHERE canonical_url = ? AND payload_sha256 = ? AND revisit = 0 ORDER BY seq DESC LIMIT 1",
            (canonical_url, payload_sha256))
        return found[0] if found else None

    def articles(self) -> list[sqlite3.Row]:
        """One row per article: canonical_url, captures, first and last capture time."""
        return self.db.execute(
            "SELECT canonical_url, COUNT(*) AS captures, MIN(captured_at) AS first, "
            "MAX(captured_at) AS last, COUNT(DISTINCT payload_sha256) AS versions "
            "FROM captures GROUP BY canonical_url ORDER BY last DESC").fetchall()

    def response(self, capture: Capture) -> HttpResponse:
        """The archived HTTP response of a capture; a revisit is resolved to its original."""
        source = capture
        if capture.revisit:
            original = self.get(capture.refers_to or "")
            if original is None:
                raise ArchiverError(f"capture {capture.id} refers to missing capture {capture.refers_to}")
            source = original
        path = self.root / source.warc_path
        try:
            response = read_response(path, source.response_offset)
        except (OSError, ValueError, Exception) as exc:
            raise ArchiverError(f"cannot read capture {source.id} from {path}: {exc}") from None
        if capture.revisit:
            revisit = read_response(self.root / capture.warc_path, capture.response_offset)
            response.headers, response.status, response.date = (
                revisit.headers, revisit.status, revisit.date)
        return response

    # -- extraction cache ----------------------------------------------------------

    def cached_extract(self, payload_sha256: str, version: str) -> dict | None:
        row = self.db.execute(
            "SELECT article FROM extracts WHERE payload_sha256 = ? AND extractor_version = ?",
            (payload_sha256, version)).fetchone()
        return json.loads(row[0]) if row else None

    def store_extract(self, payload_sha256: str, version: str, article: dict) -> None:
        self.db.execute("INSERT OR REPLACE INTO extracts VALUES (?, ?, ?)",
                        (payload_sha256, version, json.dumps(article)))

    # -- rebuilding ----------------------------------------------------------------

    def warc_files(self) -> list[Path]:
        return sorted(p for p in (self.root / "warcs").rglob("*.warc.gz") if not p.name.startswith("."))

    def reindex(self) -> int:
        """Rebuild the catalogue from the WARC files alone; returns the number of captures."""
        with self.writer_lock():
            found = []
            for path in self.warc_files():
                try:
                    found.append(capture_from_warc(self.root, path))
                except (ValueError, KeyError, OSError) as exc:
                    raise ArchiverError(f"cannot reindex {path}: {exc}") from None
            found.sort(key=lambda pair: pair[0].seq)
            with self.transaction() as db:
                db.execute("DELETE FROM captures")
                db.execute("DELETE FROM state WHERE key = 'chain_head'")
                marks = ",".join("?" * len(COLUMNS))
                for capture, manifest_sha in found:
                    db.execute(f"INSERT INTO captures ({','.join(COLUMNS)}) VALUES ({marks})",
                               astuple(capture))
                    db.execute("INSERT OR REPLACE INTO state VALUES ('chain_head', ?)",
                               (manifest_sha,))
        return len(found)


def _row_to_capture(row: sqlite3.Row) -> Capture:
    data = dict(row)
    data["revisit"], data["signed"] = bool(data["revisit"]), bool(data["signed"])
    return Capture(**data)


def read_capture_metadata(path: Path) -> tuple[dict, dict[str, tuple[int, int]]]:
    """The archiver metadata JSON of a WARC file, and (offset, length) of each record by id
    (the metadata record's own span also under the key "metadata")."""
    spans: dict[str, tuple[int, int]] = {}
    metadata: dict | None = None
    for record in scan_records(path):
        spans[record.record_id] = (record.offset, record.length)
        if record.rec_type == "metadata" and record.content_type == "application/json":
            data = json.loads(record.content)
            if isinstance(data, dict) and "capture" in data and "manifest" in data:
                metadata = data
                spans["metadata"] = (record.offset, record.length)
    if metadata is None:
        raise ValueError("no archiver metadata record")
    return metadata, spans


def capture_from_warc(root: Path, path: Path) -> tuple[Capture, str]:
    """Rebuild a catalogue row (and its manifest digest) from one of our WARC files."""
    metadata, spans = read_capture_metadata(path)
    facts, manifest = metadata["capture"], metadata["manifest"]
    response_offset, response_length = spans[facts["response_record_id"]]
    metadata_offset, metadata_length = spans["metadata"]
    capture = Capture(
        id=facts["id"], seq=manifest["seq"], url=facts["url"],
        canonical_url=facts["canonical_url"], final_url=facts["final_url"],
        status=facts["status"], content_type=facts.get("content_type"),
        captured_at=facts["captured_at"],
        warc_path=path.resolve().relative_to(Path(root).resolve()).as_posix(),
        response_offset=response_offset, response_length=response_length,
        metadata_offset=metadata_offset, metadata_length=metadata_length,
        response_record_id=facts["response_record_id"],
        payload_sha256=facts["payload_sha256"], payload_length=facts["payload_length"],
        revisit=facts.get("revisit_of") is not None, refers_to=facts.get("revisit_of"),
        bytes=path.stat().st_size, manifest_sha256=manifest_digest(manifest),
        prev_manifest_sha256=manifest.get("prev"), signed="signature" in metadata,
        warc_sha256=file_sha256(path),
    )
    return capture, capture.manifest_sha256


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _today_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


def _remove_dead_temps(folder: Path) -> None:
    """Delete temporary WARC files in `folder` whose writing process no longer runs."""
    for temp in folder.glob(".*.tmp"):
        pid = temp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and not _alive(int(pid)):
            temp.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _atomic_write(path: Path, data: bytes) -> None:
    temp = path.with_name(path.name + ".tmp")
    with open(temp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temp, path)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
