"""Anchors outside the archive: the chain head (sequence number and manifest digest) that
an archivist publishes or mails, and the check that an archive still holds it. A capture's
manifest names the digest of the manifest before it, so a head that still matches proves
that nothing up to it was removed, reordered or rewritten, whatever happens to the archive
afterwards; only the archive's own files are read, never its catalogue's word for it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from archiver.archive.folder import Archive
from archiver.errors import ArchiverError
from archiver.evidence.findings import Report

HEAD_FORM = re.compile(r"(\d+):([0-9a-f]{64})")


@dataclass
class Head:
    """A point of the chain: capture `seq` has manifest digest `digest`."""

    seq: int
    digest: str
    captured_at: str
    capture: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.digest}"

    def to_json(self) -> dict[str, object]:
        return {
            "head": str(self),
            "seq": self.seq,
            "manifest_sha256": self.digest,
            "captured_at": self.captured_at,
            "capture": self.capture,
        }


def parse_head(text: str) -> tuple[int, str]:
    """SEQ:DIGEST as `archiver head` prints it."""
    match = HEAD_FORM.fullmatch(text.strip().lower())
    if match is None:
        raise ArchiverError(f"--head wants SEQ:DIGEST as `archiver head` prints it, not {text!r}")
    return int(match.group(1)), match.group(2)


def current_head(archive: Archive) -> Head:
    """The chain head, read from the last capture's own file (and checked against the catalogue)."""
    captures = archive.all()
    if not captures:
        raise ArchiverError(f"the archive {archive.root} has no captures yet")
    last = max(captures, key=lambda c: c.seq)
    try:
        digest = archive.capture_file(last).manifest_sha256
    except (ValueError, OSError) as exc:
        raise ArchiverError(
            f"cannot read the last capture {last.id}: {exc} (run `archiver verify`)"
        ) from None
    if digest != last.manifest_sha256 or archive.chain_head() != digest:
        raise ArchiverError(
            "the catalogue's chain head differs from the last capture's file (run `archiver verify`)"
        )
    return Head(last.seq, digest, last.captured_at, last.id)


def check_head(root: Path, wanted: str) -> Report:
    """Whether the archive still holds the published head SEQ:DIGEST (check "anchor")."""
    seq, digest = parse_head(wanted)
    report = Report()
    report.count("anchor")
    with Archive(root, create=False) as archive:
        at_seq = [c for c in archive.all() if c.seq == seq]
        last = max((c.seq for c in archive.all()), default=0)
        if not at_seq:
            report.add(
                "anchor",
                f"the published head {wanted} is gone: the chain ends at seq {last} "
                "(captures removed from the end?)"
                if last < seq
                else f"the published head {wanted} is gone: no capture has seq {seq}",
            )
            return report
        found = []
        for capture in at_seq:
            try:
                found.append((capture, archive.capture_file(capture).manifest_sha256))
            except (ValueError, OSError, ArchiverError) as exc:
                report.add(
                    "anchor",
                    f"cannot read capture seq {seq} to check the published head ({exc})",
                    capture=capture.id,
                    path=capture.warc_path,
                )
        if found and not any(d == digest for _, d in found):
            capture, actual = found[0]
            report.add(
                "anchor",
                f"capture seq {seq} has manifest {actual[:16]}..., not the published "
                f"{digest[:16]}...: the chain was rewritten up to it",
                capture=capture.id,
                path=capture.warc_path,
            )
    return report
