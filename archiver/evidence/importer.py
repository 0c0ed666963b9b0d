"""Import WARC and WACZ files made by other tools (wget, browsertrix, Wayback downloads,
another archiver) so `history` and `diff` treat their pages like our own captures.

Design. An imported file is kept whole, as evidence, under `sources/<import-id>/<name>`,
byte for byte as given when every record already sits in its own gzip member; otherwise
(an uncompressed WARC, or one gzip stream around many records) each record is gzipped on its
own so it can be read by offset; the record bytes never change, and the manifest says
`recompressed` and keeps the SHA-256 of the file as given. Every HTML response in it (a
`response`, or an identical-payload `revisit` of one, with an HTML content type and a
non-redirect status) becomes a capture like those `capture` makes: one file
`warcs/YYYY/MM/DD/<capture-id>.warc.gz` holding our warcinfo, a copy of the original request
and response records (record bytes unchanged, one gzip member each), and our metadata record
whose manifest joins the chain, is signed when the archive has a key, and records the source
file and its SHA-256. `reindex` and `diff` treat these captures like any other; `verify`
and `export` also check (and carry) the source files they cite.

Nothing is written, and no archive folder is created, before every input has been read and
checked: gzip members, WARC structure, digests, zip paths, and for a WACZ the same package
check `verify` makes (hashes, signature, signer). Malformed or tampered input leaves the
archive as it was.
"""

from __future__ import annotations

import gzip
import os
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from archiver.archive.commit import Draft, writing
from archiver.archive.folder import Archive
from archiver.archive.layout import SOURCES, staging_folder
from archiver.capture.save import summary
from archiver.evidence import keys
from archiver.evidence.intake import Page, Source, precheck, stage
from archiver.record import Capture, iso, make_facts, new_capture_id
from archiver.urls import canonicalize
from archiver.warc.recompress import gzip_member
from archiver.warc.scanner import ScannedRecord
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
    every WARC must read cleanly and hold an HTML page."""
    for path in files:
        precheck(path)
    archive = Archive(root)
    staging = staging_folder(archive.root, secrets.token_hex(4))
    staging.mkdir()
    try:
        sources = [source for path in files for source in stage(path, staging)]
        with writing(archive):
            return [_import_source(archive, source) for source in sources]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        archive.close()


# -- adding to the archive (under the writer lock) ---------------------------------------


def _import_source(archive: Archive, source: Source) -> Imported:
    known = archive.response_record_ids()
    fresh = [page for page in source.pages if page.response.record_id not in known]
    stored = archive.root / SOURCES / new_capture_id(datetime.now(UTC)) / source.name
    result = Imported(
        source.origin,
        archive.relative(stored) if fresh else "",
        len(source.scan.records),
        source.recompressed,
        skipped=len(source.pages) - len(fresh),
    )
    if not fresh:
        return result
    stored.parent.mkdir(parents=True)
    with open(source.staged, "rb") as handle:
        os.fsync(handle.fileno())  # durable before any capture cites it
    os.replace(source.staged, stored)
    made: dict[str, Capture] = {}
    written: list[Capture] = []
    for page in sorted(fresh, key=lambda p: p.captured_at):
        original = _original(archive, page, made, source)
        if page.response.type == "revisit" and original is None:
            result.skipped += 1  # its payload is nowhere to be read
            continue
        capture = _write_capture(archive, source, result.source, page, original)
        made[page.response.record_id] = capture
        written.append(capture)
    result.captures = [_summary(archive, c) for c in written]
    return result


def _original(archive: Archive, page: Page, made: dict[str, Capture], source: Source) -> Capture | None:
    """For a revisit: the capture holding the payload it refers to."""
    if page.response.type != "revisit":
        return None
    refers_to = page.response.headers.get("warc-refers-to", "")
    if refers_to in made:
        return made[refers_to]
    return archive.by_response_record(refers_to)


def _write_capture(
    archive: Archive, source: Source, stored: str, page: Page, original: Capture | None
) -> Capture:
    """One capture file: our warcinfo, the original request and response records (gzipped
    one per member), our metadata record with the chained manifest (under the writer lock)."""
    url, captured_at = page.response.target_uri, iso(page.captured_at)
    with Draft(archive, page.captured_at, {"importedFrom": source.origin}) as draft:
        for record in (page.request, page.response):
            if record is not None:
                _copy_record(draft.writer, draft.out, archive.root / stored, record)
        facts = make_facts(
            capture_id=draft.capture_id,
            url=url,
            canonical_url=canonicalize(url),
            final_url=url,
            status=page.status,
            reason=page.reason,
            content_type=page.content_type,
            captured_at=captured_at,
            fetch_end=captured_at,
            redirects=[],
            payload_sha256=original.payload_sha256 if original else page.response.payload_sha256 or "",
            payload_length=original.payload_length if original else page.response.payload_length,
            response_record_id=page.response.record_id,
            revisit_of=original.id if original else None,
            software=SOFTWARE,
            imported={"from": source.origin, "warc_software": source.warc_software},
        )
        cited = {
            "file": stored,
            "sha256": source.sha256,
            "original_sha256": source.original_sha256,
            "recompressed": source.recompressed,
            "record_offset": page.response.offset,
        }
        return draft.commit(facts, keys.signer(archive.root), source=cited)


def _copy_record(writer: CaptureWriter, out: IO[bytes], stored: Path, record: ScannedRecord) -> None:
    """Append a record's exact bytes, read from the stored source, as its own gzip member."""
    assert record.length is not None
    with open(stored, "rb") as handle:
        handle.seek(record.offset)
        data = gzip.decompress(handle.read(record.length))
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
        )
    )


def _summary(archive: Archive, capture: Capture) -> dict:
    """The line `capture` prints for a capture, for an imported one."""
    history = [c for c in archive.history(capture.canonical_url) if c.seq < capture.seq]
    return summary(capture, history[-1].payload_sha256 == capture.payload_sha256 if history else None)
