"""A WARC file on its own (outside any archive, or inside a package): gzip members, record
digests, and the archiver capture it holds, its manifest checked against its records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archiver.evidence.findings import Report, report_scan
from archiver.evidence.signatures import check_signatures
from archiver.record import CaptureFile, find_metadata, manifest_digest
from archiver.warc.scanner import FileScan, scan_warc


def list_difference(claimed: list[tuple], listed: list[tuple]) -> str:
    """Say how a file's records differ from its manifest's list."""
    if len(claimed) != len(listed):
        return f"manifest lists {len(claimed)} records, the file has {len(listed)} before the metadata"
    for number, (want, have) in enumerate(zip(claimed, listed, strict=True)):
        if want != have:
            labels = ("type", "record id", "block digest", "payload digest")
            what = next(label for label, a, b in zip(labels, want, have, strict=True) if a != b)
            return f"record {number + 1} ({have[0]} {have[1]}): {what} differs from the manifest"
    return "records differ from the manifest"


def check_file(path: Path, public_key: Any, key_source: str) -> Report:
    """A WARC file on its own: gzip members, digests, and any archiver manifest in it."""
    report = Report()
    scan = scan_warc(path)
    report_scan(report, scan, None, str(path))
    captures = capture_in_scan(report, scan, str(path))
    check_signatures(
        report,
        captures,
        public_key,
        key_source,
        require=public_key is not None,
        path_of=lambda capture: str(path),
    )
    return report


def capture_in_scan(report: Report, scan: FileScan, where: str) -> list[CaptureFile]:
    """The archiver capture in a WARC outside the archive, its manifest checked against its
    records (there is no catalogue or chain to compare with)."""

    found = find_metadata(scan) if scan.records else None
    if found is None:
        return []
    metadata, record = found
    report.count("manifests")
    try:
        capture = CaptureFile(scan, metadata, record, manifest_digest(metadata["manifest"]))
        listed = [
            (r.type, r.record_id, r.block_digest, r.payload_digest)
            for r in scan.records[: scan.records.index(record)]
        ]
        claimed = [
            (r["type"], r["id"], r["block_digest"], r["payload_digest"]) for r in capture.manifest["records"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        report.add("manifests", f"metadata record is malformed ({exc!r})", path=where)
        return []
    if listed != claimed:
        report.add("manifests", list_difference(claimed, listed), capture=capture.facts.get("id"), path=where)
    return [capture]
