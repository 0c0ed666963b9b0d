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

import contextlib
import gzip
import hashlib
import os
import re
import secrets
import shutil
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from archiver.archive.catalogue import Capture
from archiver.archive.folder import SOURCES, Archive, canonical_json, file_sha256, manifest_digest
from archiver.capture.fetch import iso, new_capture_id
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.urls import canonicalize
from archiver.warc.scanner import FileScan, ScannedRecord, scan_stream, scan_warc
from archiver.warc.writer import GZIP_LEVEL, SOFTWARE, CaptureWriter, RecordSpan

HTML_TYPES = ("text/html", "application/xhtml+xml")
REVISIT_PROFILE_SUFFIX = "identical-payload-digest"
COPY_CHUNK = 1 << 20


@dataclass
class Source:
    """One WARC to import, staged inside the archive folder and checked."""

    origin: str  # the file as named by the user (and the zip entry, for a WACZ)
    name: str  # file name under sources/<import-id>/
    staged: Path
    original_sha256: str
    scan: FileScan
    recompressed: bool = False
    sha256: str = ""
    warc_software: str | None = None
    pages: list[Page] = field(default_factory=list)


@dataclass
class Page:
    """An HTML response (or revisit of one) that becomes a capture."""

    response: ScannedRecord
    request: ScannedRecord | None
    status: int
    reason: str
    content_type: str
    captured_at: datetime


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
        _precheck(path)
    archive = Archive(root)
    staging = archive.root / f".import-{secrets.token_hex(4)}"
    staging.mkdir()
    try:
        sources = [source for path in files for source in _stage(path, staging)]
        with archive.writer_lock():
            return [_import_source(archive, source) for source in sources]
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        archive.close()


# -- reading and checking the inputs ----------------------------------------------------


def _precheck(path: Path) -> None:
    """Refuse an input that cannot be imported, writing nothing."""
    if not path.is_file():
        raise ArchiverError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic != b"PK\x03\x04":
        if not re.search(r"\.warc(\.gz)?$", path.name, re.IGNORECASE):
            raise ArchiverError(f"{path}: not a .warc, .warc.gz or .wacz file")
        _refuse_pageless(str(path), _scan_or_refuse(str(path), path))
        return
    from archiver.evidence.package import check_package

    try:
        with zipfile.ZipFile(path) as package:
            for info in package.infolist():
                _refuse_unsafe(path, info)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        raise ArchiverError(f"{path}: not a readable zip file ({exc})") from None
    report = check_package(path, None, "no key")
    if report.problems:
        first = report.problems[0]
        where = first.path if first.path and first.path != str(path) else ""
        raise ArchiverError(
            f"{path}: refused: the package check found {len(report.problems)} problem(s), first: "
            f"[{first.check}]{f' {where}' if where else ''}: {' '.join(first.message.split())} "
            f"(see `archiver verify {path}`)"
        )
    with zipfile.ZipFile(path) as package:
        entries = _warc_entries(package)
        if not entries:
            raise ArchiverError(f"{path}: no WARC files in the package")
        for info in entries:
            origin = f"{path}!{info.filename}"
            with package.open(info) as handle:
                scan = scan_stream(handle, origin, info.file_size, keep_types=("warcinfo",))
            _refuse_pageless(origin, _refuse_bad_scan(origin, scan))


def _refuse_pageless(origin: str, scan: FileScan) -> None:
    if not _pages(scan.records):
        raise ArchiverError(f"{origin}: no HTML response to import")


def _warc_entries(package: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info
        for info in package.infolist()
        if not info.is_dir() and re.search(r"\.warc(\.gz)?$", info.filename, re.IGNORECASE)
    ]


def _stage(path: Path, staging: Path) -> list[Source]:
    """Copy an input (each WARC of a WACZ) into the staging folder and check it."""
    if not path.is_file():
        raise ArchiverError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04":
        return _stage_package(path, staging)
    if not re.search(r"\.warc(\.gz)?$", path.name, re.IGNORECASE):
        raise ArchiverError(f"{path}: not a .warc, .warc.gz or .wacz file")
    with open(path, "rb") as handle:
        return [_check(str(path), path.name, handle, staging)]


def _stage_package(path: Path, staging: Path) -> list[Source]:
    """Every archive/*.warc[.gz] of a WACZ, after refusing unsafe entry names and checking
    the hashes datapackage.json lists."""
    try:
        package = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiverError(f"{path}: not a readable zip file ({exc})") from None
    with package:
        for info in package.infolist():
            _refuse_unsafe(path, info)
        hashes = _listed_hashes(path, package)
        entries = _warc_entries(package)
        if not entries:
            raise ArchiverError(f"{path}: no WARC files in the package")
        sources = []
        for info in entries:
            with package.open(info) as handle:
                source = _check(f"{path}!{info.filename}", PurePosixPath(info.filename).name, handle, staging)
            listed = hashes.get(info.filename, "")
            if listed.startswith("sha256:") and listed != "sha256:" + source.original_sha256:
                raise ArchiverError(
                    f"{path}: {info.filename} does not match its hash in datapackage.json (corrupt package)"
                )
            sources.append(source)
        return sources


def _refuse_unsafe(path: Path, info: zipfile.ZipInfo) -> None:
    name = info.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    link = (info.external_attr >> 16) & 0o170000 == 0o120000
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts or link:
        raise ArchiverError(f"{path}: refused: zip entry {name!r} escapes the package folder")


def _listed_hashes(path: Path, package: zipfile.ZipFile) -> dict[str, str]:
    import json

    try:
        data = json.loads(package.read("datapackage.json"))
        return {
            str(r["path"]): str(r["hash"]) for r in data.get("resources", []) if "path" in r and "hash" in r
        }
    except KeyError:
        return {}
    except (ValueError, TypeError, AttributeError) as exc:
        raise ArchiverError(f"{path}: unreadable datapackage.json ({exc})") from None


def _check(origin: str, name: str, handle: IO[bytes], staging: Path) -> Source:
    """Stage one WARC, scan it, make it offset-readable if needed, find its pages."""
    staged = staging / f"{len(list(staging.iterdir())):04d}-{_safe_name(name)}"
    digest = hashlib.sha256()
    with open(staged, "wb") as out:
        while chunk := handle.read(COPY_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    scan = _scan_or_refuse(origin, staged)
    source = Source(
        origin=origin, name=_safe_name(name), staged=staged, original_sha256=digest.hexdigest(), scan=scan
    )
    if not scan.compressed or not scan.offset_access:
        _recompress(source)
    source.sha256 = file_sha256(source.staged)
    source.warc_software = next(
        (_warc_field(r.content or b"", "software") for r in source.scan.records if r.type == "warcinfo"), None
    )
    source.pages = _pages(source.scan.records)
    if not source.pages:
        raise ArchiverError(f"{origin}: no HTML response to import")
    return source


def _scan_or_refuse(origin: str, path: Path) -> FileScan:
    return _refuse_bad_scan(origin, scan_warc(path, keep_types=("warcinfo",)))


def _refuse_bad_scan(origin: str, scan: FileScan) -> FileScan:
    for offset, message in scan.errors:
        raise ArchiverError(
            f"{origin}: not a valid WARC file: {message}"
            + (f" (offset {offset})" if offset is not None else "")
        )
    for record in scan.records:
        if record.block_ok is False or record.payload_ok is False:
            which = "block" if record.block_ok is False else "payload"
            raise ArchiverError(f"{origin}: {record.where()}: {which} digest does not match (corrupt file)")
    return scan


def _recompress(source: Source) -> None:
    """Rewrite the staged file with each record in its own gzip member, record bytes unchanged."""
    target = source.staged.with_name(source.staged.name + ".gz")
    with _decompressed(source.staged, source.scan.compressed) as stream, open(target, "wb") as out:
        for record in source.scan.records:
            out.write(gzip_member(_read_exactly(stream, record.stream_length)))
    source.staged.unlink()
    source.staged, source.recompressed = target, True
    if not source.name.endswith(".gz"):
        source.name += ".gz"
    source.scan = _scan_or_refuse(source.origin, target)


@contextlib.contextmanager
def _decompressed(path: Path, compressed: bool) -> Iterator[IO[bytes]]:
    with gzip.open(path, "rb") if compressed else open(path, "rb") as stream:
        yield stream


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ArchiverError("input changed while importing")
    return data


def gzip_member(data: bytes) -> bytes:
    """One gzip member, as archiver's writer makes them."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def _pages(records: list[ScannedRecord]) -> list[Page]:
    """The HTML responses of a file, each with its request when the file links one."""
    requests = {r.headers.get("warc-concurrent-to"): r for r in records if r.type == "request"}
    by_id = {r.record_id: r for r in records}
    pages = []
    for record in records:
        is_revisit = record.type == "revisit" and record.headers.get("warc-profile", "").endswith(
            REVISIT_PROFILE_SUFFIX
        )
        if record.type != "response" and not is_revisit:
            continue
        status, reason, content_type = _http_status(record.http_head)
        if not content_type.lower().startswith(HTML_TYPES) or not (200 <= status < 300 or status >= 400):
            continue
        request = requests.get(record.record_id) or by_id.get(record.headers.get("warc-concurrent-to", ""))
        pages.append(
            Page(
                record,
                request if request and request.type == "request" else None,
                status,
                reason,
                content_type,
                _parse_date(record.headers.get("warc-date")),
            )
        )
    return pages


def _http_status(head: bytes) -> tuple[int, str, str]:
    """(status, reason, Content-Type) of an HTTP response head; status 0 if unreadable."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2) if lines else []
    try:
        status = int(parts[1])
    except (IndexError, ValueError):
        return 0, "", ""
    content_type = next(
        (line.split(":", 1)[1].strip() for line in lines[1:] if line.lower().startswith("content-type:")), ""
    )
    return status, parts[2] if len(parts) > 2 else "", content_type


def _parse_date(value: str | None) -> datetime:
    try:
        moment = datetime.fromisoformat((value or "").strip())
    except ValueError:
        raise ArchiverError(f"record has an unreadable WARC-Date {value!r}") from None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


def _warc_field(content: bytes, name: str) -> str | None:
    for line in content.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "import.warc"


# -- adding to the archive (under the writer lock) ---------------------------------------


def _import_source(archive: Archive, source: Source) -> Imported:
    known = {row[0] for row in archive.db.execute("SELECT response_record_id FROM captures")}
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
    private_key = keys.load_private_key(archive.root)
    made: dict[str, Capture] = {}
    for page in sorted(fresh, key=lambda p: p.captured_at):
        original = _original(archive, page, made, source)
        if page.response.type == "revisit" and original is None:
            result.skipped += 1  # its payload is nowhere to be read
            continue
        capture = _write_capture(archive, source, result.source, page, original, private_key)
        made[page.response.record_id] = capture
        result.captures.append(capture)
    result.captures = [_summary(archive, c) for c in result.captures]
    return result


def _original(archive: Archive, page: Page, made: dict[str, Capture], source: Source) -> Capture | None:
    """For a revisit: the capture holding the payload it refers to."""
    if page.response.type != "revisit":
        return None
    refers_to = page.response.headers.get("warc-refers-to", "")
    if refers_to in made:
        return made[refers_to]
    row = archive.db.execute(
        "SELECT id FROM captures WHERE response_record_id = ? AND revisit = 0", (refers_to,)
    ).fetchone()
    return archive.get(row[0]) if row else None


def _write_capture(
    archive: Archive, source: Source, stored: str, page: Page, original: Capture | None, private_key: Any
) -> Capture:
    """One capture file: our warcinfo, the original request and response records (gzipped
    one per member), our metadata record with the chained manifest."""
    prev, seq = archive.chain_state()
    facts = _facts(page, original, source)
    path = archive.warc_path_for(facts["id"])
    temp = archive.temp_path_for(path)
    try:
        with open(temp, "wb") as out:
            writer = CaptureWriter(out)
            writer.warcinfo(path.name, {"isPartOf": facts["id"], "importedFrom": source.origin})
            for record in (page.request, page.response):
                if record is not None:
                    _copy_record(writer, out, archive.root / stored, record)
            manifest = _manifest(facts, seq, prev, writer.spans, stored, source, page)
            data: dict[str, Any] = {
                "capture": facts,
                "manifest": manifest,
                "manifest_sha256": manifest_digest(manifest),
            }
            if private_key is not None:
                data["signature"] = keys.sign(private_key, canonical_json(manifest))
            response = next(s for s in writer.spans if s.record_id == page.response.record_id)
            meta = writer.metadata(facts["url"], facts["captured_at"], response.record_id, data)
            out.flush()
            os.fsync(out.fileno())
            size = out.tell()
        capture = Capture(
            id=facts["id"],
            seq=seq,
            url=facts["url"],
            canonical_url=facts["canonical_url"],
            final_url=facts["url"],
            status=page.status,
            content_type=page.content_type,
            captured_at=facts["captured_at"],
            warc_path=archive.relative(path),
            response_offset=response.offset,
            response_length=response.length,
            metadata_offset=meta.offset,
            metadata_length=meta.length,
            response_record_id=response.record_id,
            payload_sha256=facts["payload_sha256"],
            payload_length=facts["payload_length"],
            revisit=original is not None,
            refers_to=facts["revisit_of"],
            bytes=size,
            manifest_sha256=data["manifest_sha256"],
            prev_manifest_sha256=prev,
            signed="signature" in data,
            warc_sha256=file_sha256(temp),
        )
        archive.commit_write(temp, path, capture)
    finally:
        temp.unlink(missing_ok=True)
    return capture


def _facts(page: Page, original: Capture | None, source: Source) -> dict[str, Any]:
    """The capture facts of an imported page (the metadata record's "capture")."""
    url, captured_at = page.response.target_uri, iso(page.captured_at)
    return {
        "id": new_capture_id(page.captured_at),
        "url": url,
        "canonical_url": canonicalize(url),
        "final_url": url,
        "status": page.status,
        "reason": page.reason,
        "content_type": page.content_type,
        "captured_at": captured_at,
        "fetch_start": captured_at,
        "fetch_end": captured_at,
        "redirects": [],
        "payload_sha256": original.payload_sha256 if original else page.response.payload_sha256,
        "payload_length": original.payload_length if original else page.response.payload_length,
        "response_record_id": page.response.record_id,
        "revisit_of": original.id if original else None,
        "software": SOFTWARE,
        "imported": {"from": source.origin, "warc_software": source.warc_software},
    }


def _manifest(
    facts: dict[str, Any],
    seq: int,
    prev: str | None,
    spans: list[RecordSpan],
    stored: str,
    source: Source,
    page: Page,
) -> dict[str, Any]:
    """The chain manifest, as `capture` makes it, plus the source file it came from."""
    return {
        "capture_id": facts["id"],
        "seq": seq,
        "url": facts["url"],
        "canonical_url": facts["canonical_url"],
        "final_url": facts["final_url"],
        "captured_at": facts["captured_at"],
        "prev": prev,
        "records": [
            {
                "type": s.rec_type,
                "id": s.record_id,
                "block_digest": s.block_digest,
                "payload_digest": s.payload_digest,
            }
            for s in spans
        ],
        "source": {
            "file": stored,
            "sha256": source.sha256,
            "original_sha256": source.original_sha256,
            "recompressed": source.recompressed,
            "record_offset": page.response.offset,
        },
    }


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
    return {
        "id": capture.id,
        "url": capture.url,
        "final_url": capture.final_url,
        "canonical_url": capture.canonical_url,
        "status": capture.status,
        "captured_at": capture.captured_at,
        "warc_path": capture.warc_path,
        "payload_sha256": capture.payload_sha256,
        "bytes": capture.bytes,
        "revisit": capture.revisit,
        "unchanged": history[-1].payload_sha256 == capture.payload_sha256 if history else None,
    }
