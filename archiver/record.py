"""The capture record, in one place: a capture's id, its facts, the manifest that chains and
signs them, the metadata record that carries both in its WARC file, and the catalogue row
they imply.

Every writer (capture, import), every reader (reindex, crash recovery) and every check
(verify, package checks) builds or parses a capture through this module, so "what a capture
file is" has one answer: a WARC file whose archiver metadata record (JSON with `capture`
facts and a `manifest`) follows the records its manifest lists.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from archiver.warc.scanner import FileScan, ScannedRecord, scan_range, scan_warc

_KEPT_HEADERS = ("warc-type", "warc-record-id", "warc-payload-digest", "warc-target-uri")
METADATA_TARGET = "urn:archiver:capture:"  # a non-HTTP target: replay tools never serve our JSON
ID_ATTEMPTS = 64


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
    warc_sha256: str | None = None  # of the capture's bytes as written (its range of the file)
    start_offset: int = 0  # where the capture's range of `bytes` bytes begins in its file


COLUMNS = [f.name for f in fields(Capture)]


# -- ids and canonical forms ---------------------------------------------------------------


def iso(moment: datetime) -> str:
    """WARC-Date form: UTC, microseconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_capture_id(moment: datetime, taken: Callable[[str], bool] = lambda _: False) -> str:
    """Sortable capture id: UTC time to the millisecond, then 6 random hex digits. `taken`
    says whether an id is in use; a taken one is never reused (a large import of
    second-precision WARCs puts many captures in one millisecond), the time moving on a
    millisecond when the random part keeps colliding."""
    for attempt in range(ID_ATTEMPTS):
        at = moment.astimezone(UTC) + timedelta(milliseconds=attempt // 4)
        capture_id = at.strftime("%Y%m%d%H%M%S%f")[:17] + "-" + secrets.token_hex(3)
        if not taken(capture_id):
            return capture_id
    raise RuntimeError("no free capture id")  # 64 collisions in a row: the random source is broken


def canonical_json(data: object) -> bytes:
    """The byte form hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def facts_digest(facts: dict) -> str:
    """Hex SHA-256 of the capture facts' canonical JSON: the manifest signs every fact the
    catalogue, `show`, `diff` and `export` rely on (status, content type, redirects, times)."""
    return hashlib.sha256(canonical_json(facts)).hexdigest()


def manifest_digest(manifest: dict) -> str:
    """Hex SHA-256 of a manifest's canonical JSON: the link of the capture chain."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()


# -- building ------------------------------------------------------------------------------


def make_facts(
    *,
    capture_id: str,
    url: str,
    canonical_url: str,
    final_url: str,
    status: int,
    reason: str,
    content_type: str | None,
    captured_at: str,
    fetch_end: str,
    redirects: list[dict[str, Any]],
    payload_sha256: str,
    payload_length: int,
    response_record_id: str,
    revisit_of: str | None,
    software: str,
    imported: dict[str, Any] | None = None,
    truncated: str | None = None,
) -> dict[str, Any]:
    """A capture's facts, as its metadata record stores them (the same keys for every writer);
    `truncated` is the WARC-Truncated reason of an imported response whose payload is
    incomplete (absent when it is whole)."""
    facts: dict[str, Any] = {
        "id": capture_id,
        "url": url,
        "canonical_url": canonical_url,
        "final_url": final_url,
        "status": status,
        "reason": reason,
        "content_type": content_type,
        "captured_at": captured_at,
        "fetch_start": captured_at,
        "fetch_end": fetch_end,
        "redirects": redirects,
        "payload_sha256": payload_sha256,
        "payload_length": payload_length,
        "response_record_id": response_record_id,
        "revisit_of": revisit_of,
        "software": software,
    }
    if imported is not None:
        facts["imported"] = imported
    if truncated is not None:
        facts["truncated"] = truncated
    return facts


def build_manifest(
    facts: dict[str, Any],
    seq: int,
    prev: str | None,
    records: Sequence[Any],
    source: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest: the capture's place in the chain (`seq`, `prev`), the digest of its facts,
    and every record before the metadata record with its WARC digests and the SHA-256 of its
    exact bytes (`records` are the writer's RecordSpans); `source` for an imported capture."""
    manifest: dict[str, Any] = {
        "capture_id": facts["id"],
        "seq": seq,
        "url": facts["url"],
        "canonical_url": facts["canonical_url"],
        "final_url": facts["final_url"],
        "captured_at": facts["captured_at"],
        "prev": prev,
        "records": [
            {
                "type": r.rec_type,
                "id": r.record_id,
                "block_digest": r.block_digest,
                "payload_digest": r.payload_digest,
                "sha256": r.record_sha256,
            }
            for r in records
        ],
        "facts_sha256": facts_digest(facts),
    }
    if source is not None:
        manifest["source"] = source
    return manifest


def metadata_payload(
    facts: dict[str, Any], manifest: dict[str, Any], sign: Callable[[bytes], dict] | None
) -> dict[str, Any]:
    """The metadata record's JSON: facts, manifest, its digest and (with a key) its signature."""
    data: dict[str, Any] = {
        "capture": facts,
        "manifest": manifest,
        "manifest_sha256": manifest_digest(manifest),
    }
    if sign is not None:
        data["signature"] = sign(canonical_json(manifest))
    return data


def make_row(
    metadata: dict[str, Any],
    *,
    warc_path: str,
    response: tuple[int, int],
    metadata_span: tuple[int, int],
    size: int,
    warc_sha256: str | None,
    start: int = 0,
) -> Capture:
    """The catalogue row a metadata record implies, given where its records sit in the file."""
    facts, manifest = metadata["capture"], metadata["manifest"]
    return Capture(
        id=facts["id"],
        seq=manifest["seq"],
        url=facts["url"],
        canonical_url=facts["canonical_url"],
        final_url=facts["final_url"],
        status=facts["status"],
        content_type=facts.get("content_type"),
        captured_at=facts["captured_at"],
        warc_path=warc_path,
        response_offset=response[0],
        response_length=response[1],
        metadata_offset=metadata_span[0],
        metadata_length=metadata_span[1],
        response_record_id=facts["response_record_id"],
        payload_sha256=facts["payload_sha256"],
        payload_length=facts["payload_length"],
        revisit=facts.get("revisit_of") is not None,
        refers_to=facts.get("revisit_of"),
        bytes=size,
        manifest_sha256=manifest_digest(manifest),
        prev_manifest_sha256=manifest.get("prev"),
        signed="signature" in metadata,
        warc_sha256=warc_sha256,
        start_offset=start,
    )


# -- parsing -------------------------------------------------------------------------------


@dataclass
class CaptureFile:
    """What a capture's own WARC file says about it (read with the independent scanner)."""

    scan: FileScan
    metadata: dict[str, Any]
    metadata_record: ScannedRecord
    manifest_sha256: str

    @property
    def manifest(self) -> dict[str, Any]:
        return self.metadata["manifest"]

    @property
    def facts(self) -> dict[str, Any]:
        return self.metadata["capture"]

    def response_record(self) -> ScannedRecord | None:
        """The response (or revisit) record the facts name, if the file holds it."""
        wanted = self.facts.get("response_record_id")
        return next((r for r in self.scan.records if r.record_id == wanted), None)

    def slim(self) -> None:
        """Keep only what checks across captures use (the metadata, the response record's
        head), so an archive of any size is verified in flat memory."""
        wanted = self.facts.get("response_record_id")
        self.scan.records = [r for r in self.scan.records if r.record_id == wanted]
        self.metadata["capture"] = {"id": self.facts.get("id"), "response_record_id": wanted}
        for record in (self.metadata_record, *self.scan.records):
            record.content, record.payload_start, record.http_head = None, b"", b""
            record.headers = {k: v for k, v in record.headers.items() if k in _KEPT_HEADERS}

    def row(self, warc_path: str) -> Capture:
        """The catalogue row this file implies (KeyError/TypeError/ValueError if malformed)."""
        response = self.response_record()
        if response is None or response.length is None or self.metadata_record.length is None:
            raise ValueError("the response or metadata record is not in its own gzip member")
        return make_row(
            self.metadata,
            warc_path=warc_path,
            response=(response.offset, response.length),
            metadata_span=(self.metadata_record.offset, self.metadata_record.length),
            size=self.scan.size,
            warc_sha256=self.scan.sha256,
            start=self.scan.start,
        )


def find_metadata(scan: FileScan) -> tuple[dict[str, Any], ScannedRecord] | None:
    """The archiver metadata record of a scanned file (JSON with `capture` and `manifest`)."""
    for record in scan.records:
        if (
            record.type == "metadata"
            and record.content is not None
            and record.headers.get("content-type", "").startswith("application/json")
        ):
            try:
                data = json.loads(record.content)
            except (ValueError, RecursionError):
                continue
            if (
                isinstance(data, dict)
                and isinstance(data.get("manifest"), dict)
                and isinstance(data.get("capture"), dict)
            ):
                return data, record
    return None


def capture_in(scan: FileScan) -> CaptureFile | None:
    """The capture a scanned file holds, or None when it has no archiver metadata record.
    Raises ValueError/KeyError/TypeError when the manifest cannot be digested."""
    found = find_metadata(scan) if scan.records else None
    if found is None:
        return None
    metadata, record = found
    return CaptureFile(scan, metadata, record, manifest_digest(metadata["manifest"]))


def read_capture(path: Path, start: int, length: int) -> CaptureFile:
    """The capture in `length` bytes of a WARC file from `start`, fully read and hashed;
    ValueError when they are not one (or do not read cleanly): the one test every command
    applies to a capture."""
    return _capture_of(scan_range(path, start, length, file_sha256=True))


def read_capture_file(path: Path) -> CaptureFile:
    """A WARC file holding exactly one capture (a capture exported on its own, or a file
    written before captures were appended to rolling files)."""
    return _capture_of(scan_warc(path, file_sha256=True))


def read_captures(path: Path, visit: Callable[[int, CaptureFile | ValueError], None]) -> None:
    """Each capture a WARC file lays out (a rolling file holds many), read and hashed in one
    pass: `visit(start, capture)`, or `visit(start, ValueError)` saying why those bytes are
    not one (a file that is no WARC at all: once, at 0)."""
    seen = 0

    def part(scan: FileScan) -> None:
        nonlocal seen
        seen += 1
        try:
            visit(scan.start, _capture_of(scan))
        except ValueError as exc:
            visit(scan.start, exc)

    scan = scan_warc(path, on_capture=part)
    if not seen:
        offset, message = scan.errors[0] if scan.errors else (None, "no WARC records")
        visit(0, ValueError(message + (f" (offset {offset})" if offset is not None else "")))


def split_scan(scan: FileScan) -> list[FileScan]:
    """A scan of a whole file already read (a lone WARC, a package's entry) as one scan per
    capture: records from the scan's start, and from each warcinfo record, to the next (the
    boundaries the scanner's `on_capture` streams by); errors go with the capture they fall
    in, those without an offset with the first."""
    starts = sorted({scan.start, *(r.offset for r in scan.records if r.type == "warcinfo")})
    if len(starts) == 1:
        return [scan]
    ends = [*starts[1:], scan.start + scan.size]
    parts = [
        replace(scan, records=[], errors=[], start=start, size=end - start, sha256=None)
        for start, end in zip(starts, ends, strict=True)
    ]
    for record in scan.records:
        parts[bisect_right(starts, record.offset) - 1].records.append(record)
    for part in parts:  # a failure elsewhere in the file says nothing of this capture's members
        part.offset_access = all(r.length is not None for r in part.records)
    for offset, message in scan.errors:
        index = 0 if offset is None else max(0, bisect_right(starts, offset) - 1)
        parts[index].errors.append((offset, message))
    return parts


def _capture_of(scan: FileScan) -> CaptureFile:
    if scan.errors:
        offset, message = scan.errors[0]
        raise ValueError(message + (f" (offset {offset})" if offset is not None else ""))
    try:
        capture = capture_in(scan)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed metadata record ({exc!r})") from None
    if capture is None:
        raise ValueError("no archiver metadata record")
    return capture
