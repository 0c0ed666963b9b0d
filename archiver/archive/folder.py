"""An archive folder opened for reading or writing: its catalogue's queries and the archived
responses of its captures. Writing goes through `commit.py`, rebuilding through
`rebuild.py`."""

from __future__ import annotations

import contextlib
import errno
import re
import sqlite3
from pathlib import Path
from types import TracebackType

from archiver.archive import layout
from archiver.archive.catalogue import Catalogue, no_catalogue_message
from archiver.archive.layout import (
    INDEX_NAME,
    WARCS,
    has_capture_files,
    relative,
    warc_path_for,
)
from archiver.errors import ArchiverError
from archiver.record import Capture, CaptureFile, read_capture
from archiver.urls import canonicalize
from archiver.warc.reader import HttpResponse, read_response


class Archive:
    """An archive folder: `warcs/` holds the evidence, `index.sqlite3` the catalogue.

    `create=True` opens it for writing (capture, import): the folder and catalogue are made
    if need be, a read-only archive is refused. `create=False` opens it for reading (list,
    history, diff, verify, export): nothing is written, migrated or repaired, read-only media
    included. `rebuild=True` is for `reindex`: a damaged catalogue is moved aside and a
    missing one is made afresh.
    """

    def __init__(self, root: Path, create: bool = True, rebuild: bool = False) -> None:
        self.root = Path(root)
        self.rebuild = rebuild
        self.swept = False  # dead writers' temporary files cleared (commit.recover)
        self.writer = writer = create or rebuild
        if writer and self.root.exists() and layout.is_read_only(self.root, writer=True):
            raise ArchiverError(f"{self.root} is read-only")
        if not (self.root / INDEX_NAME).exists():
            # a writer makes the catalogue before its first WARC file, so a WARC file with no
            # catalogue was not made just now
            if not rebuild and has_capture_files(self.root):
                raise ArchiverError(no_catalogue_message(self.root))
            if not writer:
                raise ArchiverError(f"no archive at {self.root} (run `archiver capture` first)")
        if writer:
            existed = self.root.exists()
            try:
                (self.root / WARCS).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                if existed and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                    raise ArchiverError(f"{self.root} is read-only") from None
                raise ArchiverError(
                    f"cannot {'open' if existed else 'create'} archive {self.root}: {exc.strerror or exc}"
                ) from None
        read_only = False if writer else layout.is_read_only(self.root, writer=False)
        self.catalogue = Catalogue(self.root, writer=writer, rebuild=rebuild, read_only=read_only)
        self.db = self.catalogue.db
        self.moved_aside = self.catalogue.moved_aside  # where `reindex` put a damaged catalogue

    @property
    def read_only(self) -> bool:
        return self.catalogue.read_only

    def close(self) -> None:
        self.catalogue.close()

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """An immediate (write-locked) catalogue transaction, committed on success."""
        return self.catalogue.transaction()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def warc_path_for(self, capture_id: str) -> Path:
        return warc_path_for(self.root, capture_id)

    def relative(self, path: Path) -> str:
        return relative(self.root, path)

    # -- queries -------------------------------------------------------------------

    def _captures(self, where: str = "", args: tuple = ()) -> list[Capture]:
        rows = self.db.execute(f"SELECT * FROM captures {where}", args).fetchall()
        return [row_to_capture(row) for row in rows]

    def all(self) -> list[Capture]:
        return self._captures("ORDER BY seq")

    def get(self, capture_id: str) -> Capture | None:
        """The capture with this id, or the one whose id starts with it (no pattern: an id is
        digits, hex and a dash, so `%` or `_` can never select some other capture)."""
        if not re.fullmatch(r"[0-9a-f-]+", capture_id):
            return None
        exact = self._captures("WHERE id = ?", (capture_id,))
        if exact:
            return exact[0]
        found = self._captures("WHERE id LIKE ? ORDER BY seq LIMIT 2", (capture_id + "%",))
        if len(found) == 1:
            return found[0]
        if found:
            raise ArchiverError(f"capture id prefix {capture_id!r} is ambiguous")
        return None

    def has_signed(self) -> bool:
        return self.db.execute("SELECT 1 FROM captures WHERE signed = 1 LIMIT 1").fetchone() is not None

    def has_id(self, capture_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM captures WHERE id = ?", (capture_id,)).fetchone() is not None

    def in_file(self, warc_path: str) -> list[Capture]:
        """The captures a WARC file holds, in file order."""
        return self._captures("WHERE warc_path = ? ORDER BY start_offset", (warc_path,))

    def by_response_record(self, record_id: str) -> Capture | None:
        """The full (non-revisit) capture whose response record has this WARC-Record-ID."""
        found = self._captures("WHERE response_record_id = ? AND revisit = 0", (record_id,))
        return found[0] if found else None

    def response_record_ids(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT response_record_id FROM captures")}

    def history(self, canonical_url: str) -> list[Capture]:
        return self._captures("WHERE canonical_url = ? ORDER BY captured_at, seq", (canonical_url,))

    def article_captures(self, url: str) -> tuple[str, list[Capture]]:
        """The article a URL names and its captures: by canonical URL, else the article
        one of whose captures was fetched from that URL (a short link, an AMP page, a copy
        filed under the page's own canonical URL) or redirected to it (a moved story)."""
        canonical = canonicalize(url)
        captures = self.history(canonical)
        if not captures:
            rows = self.db.execute("SELECT DISTINCT canonical_url, url, final_url FROM captures").fetchall()
            moved = next(
                (row[0] for row in rows if canonical in (canonicalize(row[1]), canonicalize(row[2]))), None
            )
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

    def chain_head(self) -> str | None:
        """The manifest digest of the chain's last capture, as the catalogue records it."""
        head = self.db.execute("SELECT value FROM state WHERE key='chain_head'").fetchone()
        return head[0] if head else None

    def next_seq(self) -> int:
        return int(self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM captures").fetchone()[0]) + 1

    # -- records -------------------------------------------------------------------

    def capture_path(self, capture: Capture) -> Path:
        """A capture's file; a catalogue row naming anything outside warcs/ is refused."""
        path = self.root / capture.warc_path
        if not path.resolve().is_relative_to((self.root / WARCS).resolve()):
            raise ArchiverError(
                f"capture {capture.id}: the catalogue names a file outside warcs/ (run `archiver verify`)"
            )
        return path

    def capture_file(self, capture: Capture) -> CaptureFile:
        """A capture's records read back from its range of its file (ValueError if they do
        not read as the capture)."""
        return read_capture(self.capture_path(capture), capture.start_offset, capture.bytes)

    def response(self, capture: Capture) -> HttpResponse:
        """The archived HTTP response of a capture; a revisit is resolved to its original."""
        source = capture
        if capture.revisit:
            original = self.get(capture.refers_to or "")
            if original is None:
                raise ArchiverError(f"capture {capture.id} refers to missing capture {capture.refers_to}")
            source = original
        path = self.capture_path(source)
        try:
            response = read_response(path, source.response_offset)
        except Exception as exc:  # warcio raises many kinds on a damaged file
            raise ArchiverError(f"cannot read capture {source.id} from {path}: {exc}") from None
        if capture.revisit:
            revisit = read_response(self.capture_path(capture), capture.response_offset)
            response.headers, response.status, response.date = (revisit.headers, revisit.status, revisit.date)
        return response


def row_to_capture(row: sqlite3.Row) -> Capture:
    """A catalogue row as a Capture (older schemas lack warc_sha256 and start_offset)."""
    data = dict(row)
    data["revisit"], data["signed"] = bool(data["revisit"]), bool(data["signed"])
    return Capture(**data)
