"""A WARC file on its own (outside any archive, or inside a package): gzip members, record
digests, and the archiver capture it holds, its manifest checked against its records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from archiver.evidence.findings import Report, report_scan
from archiver.evidence.signatures import check_signatures
from archiver.record import CaptureFile, facts_digest, find_metadata, manifest_digest, split_scan
from archiver.warc.scanner import FileScan, scan_warc


def records_mismatch(capture: CaptureFile) -> str | None:
    """How the records before a capture's metadata record differ from its manifest's list
    (types, ids, WARC digests and, where the manifest signs them, each record's exact bytes,
    WARC headers included), or None when they match."""
    records = capture.scan.records
    claimed = capture.manifest["records"]
    whole = bool(claimed) and all("sha256" in r for r in claimed)  # older captures lack it
    listed = [
        (r.type, r.record_id, r.block_digest, r.payload_digest, *((r.record_sha256,) if whole else ()))
        for r in records[: records.index(capture.metadata_record)]
    ]
    wanted = [
        (r["type"], r["id"], r["block_digest"], r["payload_digest"], *((r["sha256"],) if whole else ()))
        for r in claimed
    ]
    if listed == wanted:
        return None
    if len(listed) != len(wanted):
        return f"manifest lists {len(wanted)} records, the file has {len(listed)} before the metadata"
    labels = ("type", "record id", "block digest", "payload digest", "bytes (WARC headers included)")
    for number, (want, have) in enumerate(zip(wanted, listed, strict=True)):
        if want != have:
            what = next(label for label, a, b in zip(labels, want, have, strict=False) if a != b)
            return f"record {number + 1} ({have[0]} {have[1]}): {what} differs from the manifest"
    return "records differ from the manifest"


def facts_mismatch(capture: CaptureFile) -> str | None:
    """The facts against the digest the manifest signs (captures made before it: None)."""
    signed = capture.manifest.get("facts_sha256")
    if signed is None or signed == facts_digest(capture.facts):
        return None
    return "capture facts differ from those the manifest signs (status, type, redirects or times rewritten?)"


def check_file(path: Path, public_key: Any, key_source: str) -> Report:
    """A WARC file on its own: gzip members, digests, and any archiver manifest in it."""
    report = Report()
    scan = scan_warc(path)
    report_scan(report, scan, None, str(path))
    captures = capture_in_scan(report, scan, str(path))
    sealed = {
        r["id"]
        for c in captures
        for r in c.manifest.get("records", [])
        if isinstance(r, dict) and "sha256" in r
    }
    bare = [
        r for r in scan.records if r.block_ok is None and r.record_id not in sealed and r.type != "metadata"
    ]
    if bare:  # no digest, or one of an unknown kind, and no signed manifest covering it
        report.add(
            "digests",
            f"{len(bare)} record(s) carry no digest of a known kind: their content is unverifiable",
            path=str(path),
            record=bare[0].where(),
        )
    if public_key is not None and not captures and not scan.errors:
        report.count("signatures")
        report.add(
            "signatures",
            f"no archiver metadata record: nothing in the file is signed by the {key_source}",
            path=str(path),
        )
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
    """The archiver captures in a WARC outside the archive (a rolling file holds several),
    each manifest checked against its records (there is no catalogue or chain to compare
    with)."""
    captures = []
    for part in split_scan(scan):
        found = find_metadata(part) if part.records else None
        if found is None:
            continue
        metadata, record = found
        report.count("manifests")
        try:
            capture = CaptureFile(part, metadata, record, manifest_digest(metadata["manifest"]))
            problems = [records_mismatch(capture), facts_mismatch(capture)]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.add("manifests", f"metadata record is malformed ({exc!r})", path=where)
            continue
        for problem in filter(None, problems):
            report.add("manifests", problem, capture=capture.facts.get("id"), path=where)
        captures.append(capture)
    return captures
