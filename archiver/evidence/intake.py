"""Reading and checking what `archiver import` is given, before anything is written: each
WARC (each WARC of a WACZ) is staged inside the archive folder, scanned with the independent
reader (gzip members, structure, every digest), made readable by offset if it is not, and its
HTML pages found. A WACZ must first pass the package check `verify` runs."""

from __future__ import annotations

import hashlib
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import IO
from urllib.parse import urljoin, urlsplit

from archiver.archive.layout import file_sha256
from archiver.errors import ArchiverError
from archiver.record import find_metadata
from archiver.urls import canonicalize
from archiver.warc.http import header, parse_status
from archiver.warc.recompress import recompress
from archiver.warc.revisits import is_revisit, warc_moment
from archiver.warc.scanner import FileScan, ScannedRecord, scan_stream, scan_warc

HTML_TYPES = ("text/html", "application/xhtml+xml")
COPY_CHUNK = 1 << 20
FUTURE_SLACK = timedelta(days=1)  # clocks differ; a record dated later than this is malformed
KEPT = ("warcinfo", "metadata")  # records read whole: the writing software, archiver's capture facts


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
    """An HTML response (or revisit of one, or an HTML `resource` record) that becomes a
    capture."""

    response: ScannedRecord
    request: ScannedRecord | None
    status: int  # 0: a revisit that kept no HTTP headers (early Heritrix): its original's
    reason: str
    content_type: str | None  # None: the response had none (the payload looked like HTML)
    captured_at: datetime
    truncated: str | None = None  # WARC-Truncated of a response: its payload is incomplete
    hops: list[tuple[ScannedRecord, ScannedRecord | None]] = field(default_factory=list)  # redirects to it


def is_package(path: Path) -> bool:
    """A zip (WACZ) rather than a WARC; refuses what is neither, in one line."""
    if not path.is_file():
        raise ArchiverError(f"{path}: no such file")
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PK\x03\x04":
        return True
    if re.search(r"\.arc(\.gz)?$", path.name, re.IGNORECASE):
        raise ArchiverError(f"{path}: an ARC file, not a WARC file (convert it to WARC first)")
    if not re.search(r"\.warc(\.gz)?$", path.name, re.IGNORECASE):
        raise ArchiverError(f"{path}: not a .warc, .warc.gz or .wacz file")
    return False


def precheck(path: Path) -> None:
    """Refuse an input that cannot be imported, writing nothing."""
    if not is_package(path):
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
        pages = 0
        for info in entries:
            origin = f"{path}!{info.filename}"
            with package.open(info) as handle:
                scan = scan_stream(handle, origin, info.file_size, keep_types=KEPT)
            pages += len(_pages(origin, _refuse_bad_scan(origin, scan).records))
        if not pages:  # a package may hold WARCs of stylesheets or images beside its pages
            raise ArchiverError(f"{path}: no HTML response to import")


def _refuse_pageless(origin: str, scan: FileScan) -> None:
    if not _pages(origin, scan.records):
        raise ArchiverError(f"{origin}: no HTML response to import")


def _warc_entries(package: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info
        for info in package.infolist()
        if not info.is_dir() and re.search(r"\.warc(\.gz)?$", info.filename, re.IGNORECASE)
    ]


def stage(path: Path, staging: Path) -> list[Source]:
    """Copy an input (each WARC of a WACZ) into the staging folder and check it."""
    if is_package(path):
        return _stage_package(path, staging)
    with open(path, "rb") as handle:
        source = _check(str(path), path.name, handle, staging)
    if not source.pages:
        raise ArchiverError(f"{path}: no HTML response to import")
    return [source]


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
            if source.pages:
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
    except (ValueError, RecursionError, TypeError, AttributeError) as exc:
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
    source.pages = _pages(origin, source.scan.records)
    return source


def _scan_or_refuse(origin: str, path: Path) -> FileScan:
    return _refuse_bad_scan(origin, scan_warc(path, keep_types=KEPT))


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


def _pages(origin: str, records: list[ScannedRecord]) -> list[Page]:
    """The HTML pages of a file (responses, identical-payload revisits, `resource` records),
    each with its request when the file links one. Redirects (3xx) and other interim answers
    are hops, not pages. An archiver capture file's response is a page whatever it holds (a
    204, a PDF), so an exported archive imports back whole."""
    requests = {r.headers.get("warc-concurrent-to"): r for r in records if r.type == "request"}
    by_id = {r.record_id: r for r in records}

    def request_of(record: ScannedRecord) -> ScannedRecord | None:
        found = requests.get(record.record_id) or by_id.get(record.headers.get("warc-concurrent-to", ""))
        return found if found and found.type == "request" else None

    found = find_metadata(FileScan("", 0, records=records))
    named = found[0]["capture"].get("response_record_id") if found else None  # an archiver capture's
    redirected: dict[str, list[tuple[ScannedRecord, ScannedRecord | None]]] = {}  # target -> hops to it
    pages = []
    for record in records:
        if record.type == "resource":
            status, reason, content_type = 200, "OK", record.headers.get("content-type", "")
        elif record.type == "response" or is_revisit(record):
            status, reason, content_type = parse_status(record.http_head)
        else:
            continue
        hops = redirected.pop(_key(record.target_uri), [])
        location = header(record.http_head, "Location") if 300 <= status < 400 else None
        if location:  # a hop: the page it leads to was reached from the first hop's URL
            redirected[_key(_resolve(record.target_uri, location))] = [*hops, (record, request_of(record))]
        html = content_type.lower().startswith(HTML_TYPES) or (
            not content_type and record.type != "revisit" and looks_like_html(record.payload_start)
        )
        headless = record.type == "revisit" and not record.http_head.strip()  # its original's answer
        wanted = headless or (html and (200 <= status < 300 or status >= 400))
        if not wanted and record.record_id != named:  # archiver's own captures come back whole
            continue
        if not _web_target(origin, record):
            continue
        truncated = record.headers.get("warc-truncated") if record.type != "revisit" else None
        page = Page(
            record, request_of(record), status, reason, content_type or None, parse_date(origin, record)
        )
        page.truncated, page.hops = truncated or None, [hop for hop in hops if _web_target(origin, hop[0])]
        pages.append(page)
    return pages


def _resolve(base: str, location: str) -> str:
    try:
        return urljoin(base, location)
    except ValueError:
        return location


def _key(uri: str) -> str:
    """A URL as redirects are matched to the pages they lead to."""
    try:
        return canonicalize(uri)
    except ValueError:
        return uri


def looks_like_html(start: bytes) -> bool:
    """What a browser would sniff as HTML (a response that names no Content-Type)."""
    head = start.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<!--")) or b"<html" in head


def parse_date(origin: str, record: ScannedRecord) -> datetime:
    value = record.headers.get("warc-date", "")
    moment = warc_moment(value)
    if moment is None:
        raise ArchiverError(f"{origin}: {record.where()} has an unreadable WARC-Date {value!r}")
    if moment > datetime.now(UTC) + FUTURE_SLACK:  # it would stand as every later capture's "latest"
        raise ArchiverError(f"{origin}: {record.where()} is dated {value}, in the future")
    return moment


def _web_target(origin: str, record: ScannedRecord) -> bool:
    """A page becomes a capture of its WARC-Target-URI: an HTTP(S) URL (a `file:` or `urn:`
    resource is no web page). A malformed HTTP(S) URL refuses the file."""
    uri = record.target_uri
    try:
        return urlsplit(uri).scheme.lower() in ("http", "https") and bool(canonicalize(uri))
    except ValueError:
        message = f"{record.where()} has an unusable WARC-Target-URI {uri[:80]!r}"
        raise ArchiverError(f"{origin}: {message}") from None


def _warc_field(content: bytes, name: str) -> str | None:
    for line in content.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "import.warc"


def _recompress(source: Source) -> None:
    """Rewrite the staged file with each record in its own gzip member, record bytes unchanged."""
    target = source.staged.with_name(source.staged.name + ".gz")
    try:
        recompress(source.staged, source.scan, target)
    except ValueError as exc:
        raise ArchiverError(f"{source.origin}: {exc}") from None
    source.staged.unlink()
    source.staged, source.recompressed = target, True
    if not source.name.endswith(".gz"):
        source.name += ".gz"
    source.scan = _scan_or_refuse(source.origin, target)
