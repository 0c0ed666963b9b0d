"""The archive on disk: its layout, adding captures safely under the writer lock, the
catalogue queries, and rebuilding the catalogue from the WARC files (the catalogue file
itself, its schema and how it is opened: catalogue.py)."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import itertools
import json
import os
import sqlite3
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import astuple, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from warcio.exceptions import ArchiveLoadFailed

from archiver.archive.catalogue import (
    COLUMNS,
    INDEX_NAME,
    Capture,
    Catalogue,
    error_kind,
    fsync_dir,
    has_capture_files,
    is_read_only,
    no_catalogue_message,
    one_line,
)
from archiver.errors import ArchiverError
from archiver.urls import canonicalize
from archiver.warc.reader import HttpResponse, read_response, scan_records

# what reading a file that is not (or no longer) one of our capture WARCs can raise
UNREADABLE = (
    ValueError,
    KeyError,
    TypeError,
    AttributeError,
    OSError,
    EOFError,
    zlib.error,
    ArchiveLoadFailed,
)
SOURCES = "sources"  # files brought in by `archiver import`, kept as given


def canonical_json(data: object) -> bytes:
    """The byte form hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def manifest_digest(manifest: dict) -> str:
    """Hex SHA-256 of a manifest's canonical JSON: the link of the capture chain."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


class Archive:
    """An archive folder: `warcs/` holds the evidence, `index.sqlite3` the catalogue.

    `create=True` opens it for writing (capture, import): the folder and catalogue are made
    if need be, a read-only archive is refused. `create=False` opens it for reading (list,
    history, diff, verify, export), read-only media included. `rebuild=True` is for
    `reindex`: a damaged catalogue is moved aside and a missing one is made afresh.
    """

    def __init__(self, root: Path, create: bool = True, rebuild: bool = False) -> None:
        self.root = Path(root)
        self._swept = False
        self.rebuild = rebuild
        read_only = False
        index = self.index_path
        self._writer = writer = create or rebuild
        if writer and self.root.exists() and is_read_only(self.root, writer=True):
            raise ArchiverError(f"{self.root} is read-only")
        if not index.exists():
            # the folder is checked after the catalogue: a writer makes the catalogue before
            # its first WARC file, so a WARC file with no catalogue was not made just now
            if not rebuild and has_capture_files(self.root) and not index.exists():
                raise ArchiverError(no_catalogue_message(self.root))
            if not writer:
                raise ArchiverError(f"no archive at {self.root} (run `archiver capture` first)")
        if writer:
            existed = self.root.exists()
            try:
                (self.root / "warcs").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                if existed and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                    raise ArchiverError(f"{self.root} is read-only") from None
                raise ArchiverError(
                    f"cannot {'open' if existed else 'create'} archive {self.root}: {exc.strerror or exc}"
                ) from None
        else:
            read_only = is_read_only(self.root, writer=False)
        self.catalogue = Catalogue(self.root, writer=writer, rebuild=rebuild, read_only=read_only)
        self.db = self.catalogue.db
        self.read_only = self.catalogue.read_only
        self.moved_aside = self.catalogue.moved_aside  # where `reindex` put a damaged catalogue

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    def close(self) -> None:
        self.catalogue.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """An immediate (write-locked) transaction on the catalogue, committed on success."""
        return self.catalogue.transaction()

    # -- writing -------------------------------------------------------------------

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Exclusive right to append to the archive (across processes); recovers first
        from a writer that died mid-capture. Read-only commands never need it."""
        if self.read_only:
            raise ArchiverError(f"{self.root} is read-only")
        try:
            handle = open(self.root / ".lock", "a+b")  # noqa: SIM115 (closed below)
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise ArchiverError(f"{self.root} is read-only") from None
            raise ArchiverError(f"cannot lock {self.root}: {exc.strerror or exc}") from None
        with handle:
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
        taken = self.db.execute("SELECT id FROM captures WHERE seq = ?", (capture.seq,)).fetchone()
        if taken is not None:  # never fork the chain, whatever went wrong before
            raise ArchiverError(
                f"cannot add capture {capture.id}: seq {capture.seq} is already capture {taken[0]}"
            )
        _atomic_write(self._journal, json.dumps({"final": str(final), "temp": str(temp)}).encode())
        os.replace(temp, final)
        fsync_dir(final.parent)
        self._insert(capture, capture.manifest_sha256)
        self._journal.unlink(missing_ok=True)

    def _insert(self, capture: Capture, manifest_sha: str) -> None:
        marks = ",".join("?" * len(COLUMNS))
        with self.transaction() as db:
            db.execute(f"INSERT INTO captures ({','.join(COLUMNS)}) VALUES ({marks})", astuple(capture))
            db.execute("INSERT OR REPLACE INTO state VALUES ('chain_head', ?)", (manifest_sha,))

    def _recover(self) -> None:
        """Finish or discard what a killed writer left: a renamed WARC gets indexed,
        a temporary file is removed."""
        if not self._swept:
            self._swept = True
            _remove_dead_temps(self.warc_path_for(_today_id()).parent.glob(".*.tmp"))
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
            except UNREADABLE:  # keep the evidence, out of the chain: its seq is not taken
                os.replace(final, f"{final}.unreadable")
            else:
                self._insert(capture, manifest_sha)
        self._journal.unlink(missing_ok=True)

    def chain_state(self) -> tuple[str | None, int]:
        """(manifest digest of the chain head, next sequence number)."""
        head = self.db.execute("SELECT value FROM state WHERE key='chain_head'").fetchone()
        seq = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM captures").fetchone()[0]
        if seq == 0 and self._writer and not self.rebuild:
            self._refuse_new_chain()
        return (head[0] if head else None), seq + 1

    def _refuse_new_chain(self) -> None:
        """An empty catalogue beside capture files would start a second chain at seq 1."""
        for path in self.warc_files():
            try:
                read_capture_metadata(path)
            except Exception:  # a stray file is not a capture; reindex reports it
                continue
            raise ArchiverError(
                f"{self.root} has capture files but its catalogue lists none "
                f"(e.g. {self.relative(path)}); rebuild it with `archiver reindex`"
            )

    def warc_path_for(self, capture_id: str) -> Path:
        """warcs/YYYY/MM/DD/<capture-id>.warc.gz; ids start with the UTC time."""
        return (
            self.root
            / "warcs"
            / capture_id[0:4]
            / capture_id[4:6]
            / capture_id[6:8]
            / f"{capture_id}.warc.gz"
        )

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

    def article_captures(self, url: str) -> tuple[str, list[Capture]]:
        """The article a URL names and its captures: by canonical URL, else the article
        whose captures were redirected to that URL (an old link to a moved story)."""
        canonical = canonicalize(url)
        captures = self.history(canonical)
        if not captures:
            rows = self.db.execute("SELECT DISTINCT canonical_url, final_url FROM captures").fetchall()
            moved = next((row[0] for row in rows if canonicalize(row[1]) == canonical), None)
            if moved is not None:
                canonical, captures = moved, self.history(moved)
        return canonical, captures

    def original_with_payload(self, canonical_url: str, payload_sha256: str) -> Capture | None:
        """The latest full (non-revisit) capture of this article with this payload."""
        found = self._captures(
            "WHERE canonical_url = ? AND payload_sha256 = ? AND revisit = 0 ORDER BY seq DESC LIMIT 1",
            (canonical_url, payload_sha256),
        )
        return found[0] if found else None

    def articles(self) -> list[sqlite3.Row]:
        """One row per article: canonical_url, captures, first and last capture time."""
        return self.db.execute(
            "SELECT canonical_url, COUNT(*) AS captures, MIN(captured_at) AS first, "
            "MAX(captured_at) AS last, COUNT(DISTINCT payload_sha256) AS versions "
            "FROM captures GROUP BY canonical_url ORDER BY last DESC"
        ).fetchall()

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
            response.headers, response.status, response.date = (revisit.headers, revisit.status, revisit.date)
        return response

    # -- extraction cache ----------------------------------------------------------

    def cached_extract(self, payload_sha256: str, version: str) -> dict | None:
        row = self.db.execute(
            "SELECT article FROM extracts WHERE payload_sha256 = ? AND extractor_version = ?",
            (payload_sha256, version),
        ).fetchone()
        return json.loads(row[0]) if row else None

    def store_extract(self, payload_sha256: str, version: str, article: dict) -> None:
        """Cache an extracted article; skipped on a read-only archive (it is only a cache)."""
        if self.read_only:
            return
        try:
            self.db.execute(
                "INSERT OR REPLACE INTO extracts VALUES (?, ?, ?)",
                (payload_sha256, version, json.dumps(article)),
            )
        except sqlite3.OperationalError as exc:
            if error_kind(exc) not in ("read-only", "busy"):
                raise

    # -- rebuilding ----------------------------------------------------------------

    def warc_files(self) -> list[Path]:
        return sorted(p for p in (self.root / "warcs").rglob("*.warc.gz") if not p.name.startswith("."))

    def reindex(self) -> ReindexResult:
        """Rebuild the catalogue from the WARC files alone. A file that is not a readable
        capture is skipped (and named); every capture found is indexed, a forked chain's too,
        and what is wrong with the chain is said, for `verify` to detail."""
        result = ReindexResult(moved_aside=self.moved_aside)
        with self.writer_lock():
            _remove_dead_temps((self.root / "warcs").rglob(".*.tmp"))  # e.g. a killed import's
            by_id: dict[str, tuple[Capture, str]] = {}
            for path in self.warc_files():
                relative = self.relative(path)
                try:
                    capture, manifest_sha = capture_from_warc(self.root, path)
                    if not isinstance(capture.seq, int) or isinstance(capture.seq, bool) or capture.seq < 1:
                        raise ValueError(f"manifest seq {capture.seq!r} is not a position")
                except UNREADABLE as exc:  # what the WARC and JSON parsers raise, named below
                    result.skipped.append((relative, f"not a capture file ({one_line(exc)})"))
                    continue
                kept = by_id.get(capture.id)
                if kept is not None:  # two files of one capture: index the one where its id puts it
                    if path == self.warc_path_for(capture.id) and kept[0].warc_path != relative:
                        by_id[capture.id], relative = (capture, manifest_sha), kept[0].warc_path
                    result.skipped.append(
                        (
                            relative,
                            f"capture {capture.id} is already in {by_id[capture.id][0].warc_path} (a copy?)",
                        )
                    )
                    continue
                by_id[capture.id] = (capture, manifest_sha)
            found = sorted(by_id.values(), key=lambda pair: (pair[0].seq, pair[0].captured_at, pair[0].id))
            result.warnings = chain_warnings([capture for capture, _ in found])
            with self.transaction() as db:
                db.execute("DELETE FROM captures")
                db.execute("DELETE FROM state WHERE key = 'chain_head'")
                marks = ",".join("?" * len(COLUMNS))
                for capture, manifest_sha in found:
                    db.execute(
                        f"INSERT INTO captures ({','.join(COLUMNS)}) VALUES ({marks})", astuple(capture)
                    )
                    db.execute("INSERT OR REPLACE INTO state VALUES ('chain_head', ?)", (manifest_sha,))
        result.captures = len(found)
        return result


@dataclass
class ReindexResult:
    """What `reindex` did: captures indexed, files skipped (path, why), chain warnings."""

    captures: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    moved_aside: Path | None = None


def chain_warnings(captures: list[Capture]) -> list[str]:
    """One line per break in the chain of `captures` (sorted by seq): a missing start, a gap,
    a prev link that is not the manifest before it, and (in one line) seqs claimed twice."""
    warnings: list[str] = []
    if not captures:
        return warnings
    by_seq: dict[int, list[Capture]] = {}
    for capture in captures:
        by_seq.setdefault(capture.seq, []).append(capture)
    seqs = sorted(by_seq)
    if seqs[0] != 1:
        warnings.append(f"chain broken before seq {seqs[0]} (no capture with seq 1 to {seqs[0] - 1})")
    for before, seq in itertools.pairwise(seqs):
        if seq != before + 1:
            missing = f"seq {before + 1}" if seq == before + 2 else f"seqs {before + 1} to {seq - 1}"
            warnings.append(f"chain broken after seq {before} ({missing} missing)")
            continue
        digests = {c.manifest_sha256 for c in by_seq[before]}
        if any(c.prev_manifest_sha256 not in digests for c in by_seq[seq]):
            warnings.append(
                f"chain broken after seq {before} (the prev link of seq {seq} is not "
                f"the manifest of seq {before})"
            )
    forks = [seq for seq in seqs if len(by_seq[seq]) > 1]
    if forks:
        first = by_seq[forks[0]]
        more = f" and {len(forks) - 1} more seq values" if len(forks) > 1 else ""
        warnings.append(
            f"forked chain: seq {forks[0]} is claimed by captures "
            f"{' and '.join(c.id for c in first)}{more}; all were indexed"
        )
    return warnings


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
        id=facts["id"],
        seq=manifest["seq"],
        url=facts["url"],
        canonical_url=facts["canonical_url"],
        final_url=facts["final_url"],
        status=facts["status"],
        content_type=facts.get("content_type"),
        captured_at=facts["captured_at"],
        warc_path=path.resolve().relative_to(Path(root).resolve()).as_posix(),
        response_offset=response_offset,
        response_length=response_length,
        metadata_offset=metadata_offset,
        metadata_length=metadata_length,
        response_record_id=facts["response_record_id"],
        payload_sha256=facts["payload_sha256"],
        payload_length=facts["payload_length"],
        revisit=facts.get("revisit_of") is not None,
        refers_to=facts.get("revisit_of"),
        bytes=path.stat().st_size,
        manifest_sha256=manifest_digest(manifest),
        prev_manifest_sha256=manifest.get("prev"),
        signed="signature" in metadata,
        warc_sha256=file_sha256(path),
    )
    return capture, capture.manifest_sha256


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _today_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


def _remove_dead_temps(temps: Iterable[Path]) -> None:
    """Delete those temporary WARC files whose writing process no longer runs."""
    for temp in temps:
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
