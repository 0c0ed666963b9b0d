"""`archiver report`: the evidence behind one comparison, gathered for someone who does not
trust the archivist: both captures' facts as their own files state them, every digest, the
signatures and the key that verified them, the chain head, what `verify` found, and the
commands a third party runs to check all of it from an exported WACZ."""

from __future__ import annotations

import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archiver.archive.folder import Archive
from archiver.errors import ArchiverError
from archiver.evidence.anchor import current_head
from archiver.evidence.keys import fingerprint
from archiver.evidence.signatures import trusted_key
from archiver.evidence.verify import verify
from archiver.record import Capture


@dataclass
class CaptureEvidence:
    """One side of the comparison as its own WARC file states it (the catalogue row only
    finds the file): the row the file implies, and the records its manifest lists."""

    capture: Capture
    records: list[dict[str, Any]]


@dataclass
class Dossier:
    """Everything the evidence page shows besides the diff itself."""

    url: str
    before: CaptureEvidence
    after: CaptureEvidence
    verified: bool
    problems: list[str]
    notes: list[str]
    key_fingerprint: str | None
    key_source: str
    chain_head: str | None
    commands: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _evidence(archive: Archive, capture: Capture) -> CaptureEvidence:
    try:
        found = archive.capture_file(capture)
        return CaptureEvidence(found.row(capture.warc_path), list(found.manifest["records"]))
    except (ValueError, KeyError, TypeError, OSError) as exc:
        raise ArchiverError(
            f"capture {capture.id} does not read as a capture file ({exc}); run `archiver verify`"
        ) from None


def gather(root: Path, url: str, before_id: str, after_id: str) -> Dossier:
    """The dossier of two captures of the archive at `root`."""
    with Archive(root, create=False) as archive:
        captures = [archive.get(capture_id) for capture_id in (before_id, after_id)]
        if None in captures:
            raise ArchiverError("a report covers two captures of the archive, not WARC files")
        before, after = (_evidence(archive, c) for c in captures if c is not None)
        try:
            head: str | None = str(current_head(archive))
        except ArchiverError:
            head = None
    report = verify(root, [before.capture.id, after.capture.id])
    key, source = trusted_key(root, None)
    dossier = Dossier(
        url=url,
        before=before,
        after=after,
        verified=report.ok,
        problems=[f"[{p.check}] {p.capture or ''} {p.message}".strip() for p in report.problems],
        notes=list(report.notes),
        key_fingerprint=fingerprint(key) if key is not None else None,
        key_source=source,
        chain_head=head,
    )
    dossier.commands = _commands(dossier)
    return dossier


def _commands(d: Dossier) -> list[str]:
    """What a third party runs, given the WACZ the archivist exports for them."""
    url = shlex.quote(d.url)
    pin = f" --fingerprint {d.key_fingerprint}" if d.key_fingerprint else ""
    steps = [
        f"archiver export -o evidence.wacz {url}    # the archivist, from the archive",
        "wacz validate -f evidence.wacz    # package structure and file hashes (py-wacz)",
        f"archiver verify --pubkey archive.pem{pin} evidence.wacz    # every digest, manifest and signature",
    ]
    if d.chain_head:
        steps.append(
            f"archiver verify --head {d.chain_head}    # on a copy of the archive: nothing before it changed"
        )
    steps.append(
        f"archiver diff --from {d.before.capture.id} --to {d.after.capture.id} {url}    # the edits again"
    )
    return steps
