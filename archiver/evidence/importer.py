"""Import WARC and WACZ files made by other tools (wget, browsertrix, Wayback downloads,
another archiver) so `history` and `diff` treat their pages like our own captures.

Design. An imported file is kept whole, as evidence, under `sources/<import-id>/<name>`,
byte for byte as given when every record already sits in its own gzip member; otherwise
(an uncompressed WARC, or one gzip stream around many records) each record is gzipped on its
own so it can be read by offset; the record bytes never change, and the manifest says
`recompressed` and keeps the SHA-256 of the file as given. Every HTML page in it (a
`response` with an HTML content type, or none and an HTML payload, and a non-redirect
status; an HTML `resource` record; an identical-payload `revisit` of one, linked to its
original by WARC-Refers-To or by target URI and date, and only when its payload digest, in
its own algorithm, is the original's; every capture of an archiver capture file) becomes a
capture like those `capture` makes, appended to the import's rolling file under `warcs/`:
our warcinfo, a copy of the original request and response records (record bytes unchanged,
one gzip member each), and our metadata record whose manifest joins the chain, is signed
when the archive has a key, and records the source file and its SHA-256 (and WARC-Truncated,
when the response is incomplete). `reindex` and `diff` treat these captures like any other;
`verify` and `export` also check (and carry) the source files they cite.

Nothing is written, and no archive folder is created, before every input has been read and
checked: gzip members, WARC structure, digests, zip paths, and for a WACZ the same package
check `verify` makes (hashes, signature, signer). Malformed or tampered input leaves the
archive as it was. Each file is then added all or nothing: its captures are all written as
drafts before its source is kept, then committed as one group (one catalogue transaction).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import secrets
import shutil
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from archiver.archive.commit import Draft, Pending, Roll, begin_import, commit_group, writing
from archiver.archive.folder import Archive
from archiver.archive.layout import SOURCES, WARCS, fsync_dir, staging_folder
from archiver.capture.save import summary
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.evidence.intake import Page, Source, precheck, stage
from archiver.record import Capture, iso, make_facts, new_capture_id
from archiver.urls import canonicalize
from archiver.warc.deflate import gzip_member
from archiver.warc.http import header, parse_status
from archiver.warc.revisits import payload_matches, refers_to_moment, same_moment, warc_moment
from archiver.warc.scanner import ScannedRecord, read_record_at
from archiver.warc.writer import SOFTWARE, CaptureWriter, RecordSpan


@dataclass
class Imported:
    """What `import_files` did for one input file."""

    origin: str
    source: str
    records: int
    recompressed: bool
    captures: list[dict] = field(default_factory=list)
    skipped: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.origin,
            "source": self.source,
            "records": self.records,
            "recompressed": self.recompressed,
            "captures": self.captures,
            "skipped_already_imported": self.skipped,
        }


def import_files(root: Path, files: list[Path]) -> list[Imported]:
    """Check every input, then add their HTML responses to the archive as captures.

    Every input is read and checked before the archive is opened (or created), so a refused
    import leaves no trace: a WACZ must pass the package check `verify` runs (file hashes
    and sizes, datapackage digest, signature, every record digest, capture signatures), and
    every WARC must read cleanly and hold an HTML page. Files are added oldest page first (a
    file of revisits after the one holding their originals), each all or nothing."""
    for path in files:
        precheck(path)
    archive = Archive(root)
    try:
        sign = keys.signer(archive.root)  # an archive with a key signs every capture, or takes none
    except ArchiverError:
        archive.close()
        raise
    staging = staging_folder(archive.root, secrets.token_hex(4))
    staging.mkdir()
    try:
        sources = [source for path in files for source in stage(path, staging)]
        order = sorted(range(len(sources)), key=lambda i: min(p.captured_at for p in sources[i].pages))
        held: dict[str, Original] = {}
        roll = Roll(archive)
        try:
            with writing(archive):
                done = {i: _import_source(archive, roll, sources[i], held, sign) for i in order}
        finally:
            roll.close()
        return [done[i] for i in range(len(sources))]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        archive.close()


# -- adding to the archive (under the writer lock) ---------------------------------------


@dataclass
class Original:
    """A full capture a revisit may stand for: its id, target and time, and where its
    response record is (to check a revisit's payload digest in its own algorithm)."""

    capture_id: str
    url: str
    captured_at: datetime
    payload_sha256: str
    payload_length: int
    record: ScannedRecord
    path: Path
    answer: tuple[int, str, str | None]  # status, reason, Content-Type

    @classmethod
    def of(cls, archive: Archive, capture: Capture) -> Original | None:
        path = archive.root / capture.warc_path
        moment = warc_moment(capture.captured_at)
        try:
            record = read_record_at(path, capture.response_offset)
        except (OSError, ValueError):
            return None  # an unreadable capture file: verify reports it
        if moment is None:
            return None
        return cls(
            capture.id,
            capture.final_url,
            moment,
            capture.payload_sha256,
            capture.payload_length,
            record,
            path,
            (capture.status, "", capture.content_type),
        )


def _import_source(
    archive: Archive,
    roll: Roll,
    source: Source,
    held: dict[str, Original],
    sign: Callable[[bytes], dict] | None,
) -> Imported:
    """All of one file's new pages as captures, or none: every capture is written (as a
    draft, all on one spool) before the source is kept, then all are committed at once."""
    known = archive.response_record_ids()
    fresh = [page for page in source.pages if page.response.record_id not in known]
    stored = archive.root / SOURCES / new_capture_id(datetime.now(UTC)) / source.name
    result = Imported(source.origin, archive.relative(stored), len(source.scan.records), source.recompressed)
    result.skipped = len(source.pages) - len(fresh)
    drafts: list[tuple[Draft, dict[str, Any], dict[str, Any]]] = []
    mine: list[Original] = []
    spool = tempfile.TemporaryFile(dir=archive.root / WARCS)  # noqa: SIM115 (closed below)
    try:
        for page in sorted(fresh, key=lambda p: p.captured_at):
            original = _original(archive, page, held)
            if page.response.type == "revisit" and original is None:
                result.skipped += 1  # its payload is nowhere to be read
                continue
            drafts.append(_draft(archive, spool, source, result.source, page, original))
            if page.response.type != "revisit":
                mine.append(_held(drafts[-1][0].capture_id, page, source.staged))
                held[page.response.record_id] = mine[-1]
        if not drafts:
            spool.close()
            result.source = ""
            return result
    except BaseException as exc:  # nothing of this file is published: its drafts go
        _forget(held, mine)
        for draft, _, _ in drafts:
            draft.discard()
        spool.close()
        if not isinstance(exc, (OSError, ValueError, KeyError, zlib.error)):
            raise
        message = f"cannot import ({exc}); nothing of this file was added"
        raise ArchiverError(f"{source.origin}: {message}") from None
    journal = begin_import(archive, stored)  # a writer killed from here on: recover() tidies up
    try:
        _keep(source.staged, stored)
        for item in mine:
            item.path = stored
        pending = [Pending(draft, facts, cited) for draft, facts, cited in drafts]
        written = [row for row, _ in commit_group(archive, roll, pending, sign)]
    except BaseException as exc:
        _forget(held, mine)  # no capture cites the source: it goes, the archive is as it was
        stored.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            stored.parent.rmdir()
        journal.unlink(missing_ok=True)
        if not isinstance(exc, OSError):
            raise
        raise ArchiverError(
            f"{source.origin}: import stopped ({exc}); nothing of this file was added"
        ) from None
    finally:
        for draft, _, _ in drafts:
            draft.discard()
        spool.close()
    journal.unlink(missing_ok=True)
    result.captures = [_summary(archive, c) for c in written]
    return result


def _forget(held: dict[str, Original], mine: list[Original]) -> None:
    for item in mine:
        held.pop(item.record.record_id, None)


def _keep(staged: Path, stored: Path) -> None:
    """Move a checked source into sources/, durable before any capture cites it."""
    stored.parent.mkdir(parents=True)
    with open(staged, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(staged, stored)
    fsync_dir(stored.parent)


def _held(capture_id: str, page: Page, path: Path) -> Original:
    record = page.response
    return Original(
        capture_id,
        record.target_uri,
        page.captured_at,
        record.payload_sha256 or "",
        record.payload_length,
        record,
        path,
        (page.status, page.reason, page.content_type),
    )


def _original(archive: Archive, page: Page, held: dict[str, Original]) -> Original | None:
    """For a revisit: the full capture holding its payload, in this import or in the archive.
    By WARC-Refers-To when the revisit has one, else (Heritrix, pywb, warcio write none, as
    WARC 1.1 §6.7.2 allows) by WARC-Refers-To-Target-URI and WARC-Refers-To-Date, or with no
    date the latest earlier one of that URI; either way only one whose payload the revisit's
    digest matches."""
    record = page.response
    if record.type != "revisit":
        return None
    refers_to = record.headers.get("warc-refers-to", "")
    candidates: list[Original] = []
    if refers_to:
        known = archive.by_response_record(refers_to)
        found = [held.get(refers_to), Original.of(archive, known) if known else None]
        candidates = [o for o in found if o is not None]
    else:
        uri = record.headers.get("warc-refers-to-target-uri", "").strip("<> ") or record.target_uri
        try:
            moment, key = refers_to_moment(record), canonicalize(uri)  # wget writes <...>; forms vary
        except ValueError:
            return None  # no URL: nothing to find it by
        stored = [c for c in archive.history(key) if not c.revisit and canonicalize(c.final_url) == key]
        known_ones: list[Original] = [o for o in held.values() if canonicalize(o.url) == key]
        known_ones += [o for o in (Original.of(archive, c) for c in stored) if o is not None]
        if moment is not None:
            candidates = [o for o in known_ones if same_moment(o.captured_at, moment)]
        else:
            earlier = [o for o in known_ones if o.captured_at <= page.captured_at]
            candidates = sorted(earlier, key=lambda o: o.captured_at, reverse=True)
    return next(
        (o for o in candidates if payload_matches(record.payload_digest, o.record, o.path)),
        None,
    )


def _draft(
    archive: Archive, spool: BinaryIO, source: Source, stored: str, page: Page, original: Original | None
) -> tuple[Draft, dict[str, Any], dict[str, Any]]:
    """One capture, written to the import's spool but not yet committed: the original request
    and response records of each redirect hop and of the page (gzipped one per member); and
    the facts and source its metadata record will hold."""
    url, captured_at = page.response.target_uri, iso(page.captured_at)  # the page's, not a hop's
    status, reason, content_type = (page.status, page.reason, page.content_type)
    if original is not None and not status:  # a revisit without HTTP headers answers as its original
        status, reason, content_type = original.answer
    draft = Draft(archive, page.captured_at, {"importedFrom": source.origin}, spool)
    try:
        exchanges = [*((request, response) for response, request in page.hops), (page.request, page.response)]
        for record in (record for exchange in exchanges for record in exchange):
            if record is not None:
                _copy_record(draft.writer, draft.out, source.staged, record)
    except BaseException:
        draft.discard()
        raise
    facts = make_facts(
        capture_id=draft.capture_id,
        url=url,
        canonical_url=canonicalize(url),
        final_url=url,
        status=status,
        reason=reason,
        content_type=content_type,
        captured_at=captured_at,
        fetch_end=captured_at,
        redirects=[_redirect(hop) for hop, _ in page.hops],
        payload_sha256=original.payload_sha256 if original else page.response.payload_sha256 or "",
        payload_length=original.payload_length if original else page.response.payload_length,
        response_record_id=page.response.record_id,
        revisit_of=original.capture_id if original else None,
        software=SOFTWARE,
        imported={
            "from": source.origin,
            "warc_software": source.warc_software,
            # records the source gave no digest for: we sign what we received, not what was sent
            "without_digests": [r.record_id for pair in exchanges for r in pair if r and r.block_ok is None],
        },
        truncated=page.truncated,
    )
    cited = {
        "file": stored,
        "sha256": source.sha256,
        "original_sha256": source.original_sha256,
        "recompressed": source.recompressed,
        "record_offset": page.response.offset,
    }
    return draft, facts, cited


def _redirect(hop: ScannedRecord) -> dict[str, Any]:
    """A redirect hop as capture facts list it (the form `capture` writes)."""
    status, _, _ = parse_status(hop.http_head)
    return {"url": hop.target_uri, "status": status, "location": header(hop.http_head, "Location")}


def _copy_record(writer: CaptureWriter, out: IO[bytes], source: Path, record: ScannedRecord) -> None:
    """Append a record's exact bytes, read from the checked source, as its own gzip member."""
    assert record.length is not None
    with open(source, "rb") as handle:
        handle.seek(record.offset)
        data = gzip.decompress(handle.read(record.length))
    data = data[: len(data) - record.trailer] + b"\r\n\r\n"  # the record as read, its trailer as WARC says
    start = out.tell()
    out.write(gzip_member(data))
    writer.spans.append(
        RecordSpan(
            rec_type=record.type,
            record_id=record.record_id,
            offset=start,
            length=out.tell() - start,
            block_digest=record.block_digest,
            payload_digest=record.payload_digest,
            record_sha256=hashlib.sha256(data).hexdigest(),
        )
    )


def _summary(archive: Archive, capture: Capture) -> dict:
    """The line `capture` prints for a capture, for an imported one."""
    history = [c for c in archive.history(capture.canonical_url) if c.seq < capture.seq]
    return summary(capture, history[-1].payload_sha256 == capture.payload_sha256 if history else None)
