"""The manifest chain: every capture's `prev` is the digest of the manifest one seq before
it, and the catalogue's chain head is the last capture's manifest (captures removed from
the end show there, or against a head published earlier: anchor.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from archiver.evidence.findings import Report
from archiver.record import CaptureFile, manifest_digest
from archiver.warc.scanner import read_record_at


def check_chain(
    report: Report, files: dict[int, CaptureFile], rows: list[Any], root: Path, head: str | None, full: bool
) -> None:
    """Check the links of the captures read (`files`, by seq); `rows` are the catalogue's
    (a partial check reads a link's other end from its file); `full`: the head too."""
    for seq in sorted(files):
        capture = files[seq]
        where = {"capture": capture.facts["id"], "path": _relative(root, Path(capture.scan.path))}
        report.count("chain")
        prev = capture.manifest["prev"]
        if seq == 1:
            if prev is not None:
                report.add("chain", "first capture of the chain has a prev link", **where)
            continue
        before = files.get(seq - 1)
        before_digest = (
            before.manifest_sha256 if before else None if full else _digest_of(rows, root, seq - 1)
        )
        if before_digest is None:
            known = next((row.id for row in rows if row.seq == seq - 1), None)
            gone = (
                f"capture seq {seq - 1} before it is gone from files and catalogue (removed from the chain?)"
            )
            unread = (
                f"cannot check the link to capture {known} (seq {seq - 1}): its file is missing or unreadable"
            )
            report.add("chain", unread if known else gone, **where)
        elif prev != before_digest:
            report.add(
                "chain",
                f"prev link does not match the manifest of capture seq {seq - 1} "
                "(captures removed, inserted or reordered)",
                **where,
            )
    if full:
        _check_head(report, files, head)


def _digest_of(rows: list[Any], root: Path, seq: int) -> str | None:
    """The manifest digest of the capture at `seq`, read from its file."""
    found = [row for row in rows if row.seq == seq]
    if not found:
        return None
    try:
        record = read_record_at(root / found[0].warc_path, found[0].metadata_offset)
        return manifest_digest(json.loads(record.content or b"")["manifest"])
    except (OSError, ValueError, RecursionError, KeyError, TypeError):
        return None


def _check_head(report: Report, files: dict[int, CaptureFile], head: str | None) -> None:
    last = files[max(files)] if files else None
    expected = last.manifest_sha256 if last else None
    report.count("chain")
    report.chain_head = expected
    if head != expected:
        report.add(
            "chain",
            f"catalogue chain head {head} is not the manifest digest of the "
            f"last capture ({expected}): captures removed from the end?",
            capture=last.facts["id"] if last else None,
        )


def _relative(root: Path, path: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return ""
