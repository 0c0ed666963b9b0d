"""`archiver reindex`: rebuild the catalogue from the WARC files alone. The catalogue is
derived: the capture files (read with the same reader every command uses) are the record."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass, field
from pathlib import Path

from archiver.archive.catalogue import insert_capture, one_line
from archiver.archive.commit import writing
from archiver.archive.folder import Archive
from archiver.archive.layout import warc_files
from archiver.record import Capture, CaptureFile, read_captures


@dataclass
class ReindexResult:
    """What `reindex` did: captures indexed, files skipped (path, why), chain warnings."""

    captures: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    moved_aside: Path | None = None


def reindex(archive: Archive) -> ReindexResult:
    """Rebuild the catalogue of an archive opened with `rebuild=True`, from each file's
    captures (a rolling file holds many). A range that is not a readable capture is skipped
    (and named); every capture found is indexed, a forked chain's too, and what is wrong with
    the chain is said, for `verify` to detail."""
    result = ReindexResult(moved_aside=archive.moved_aside)
    with writing(archive):
        by_id: dict[str, Capture] = {}
        for path in warc_files(archive.root):
            visit = functools.partial(_index, archive, by_id, result, path, archive.relative(path))
            read_captures(path, visit)
        found = sorted(by_id.values(), key=lambda c: (c.seq, c.captured_at, c.id))
        result.warnings = chain_warnings(found)
        with archive.catalogue.transaction() as db:
            db.execute("DELETE FROM captures")
            db.execute("DELETE FROM state WHERE key = 'chain_head'")
            for capture in found:
                insert_capture(db, capture)
    result.captures = len(found)
    return result


def _index(
    archive: Archive,
    by_id: dict[str, Capture],
    result: ReindexResult,
    path: Path,
    relative: str,
    start: int,
    found: CaptureFile | ValueError,
) -> None:
    """Take one capture a file holds into `by_id`, or say why it was skipped."""
    where = relative if start == 0 else f"{relative} at offset {start}"
    try:
        if isinstance(found, ValueError):
            raise found
        capture = found.row(relative)
        if not isinstance(capture.seq, int) or isinstance(capture.seq, bool) or capture.seq < 1:
            raise ValueError(f"manifest seq {capture.seq!r} is not a position")
    except (ValueError, KeyError, TypeError) as exc:
        result.skipped.append((where, f"not a capture file ({one_line(exc)})"))
        return
    kept = by_id.get(capture.id)
    if kept is not None:  # one capture twice: index the copy where its id puts it
        if path == archive.warc_path_for(capture.id) and kept.warc_path != relative:
            by_id[capture.id], where = capture, kept.warc_path
        result.skipped.append(
            (where, f"capture {capture.id} is already in {by_id[capture.id].warc_path} (a copy?)")
        )
        return
    by_id[capture.id] = capture


def chain_warnings(captures: list[Capture]) -> list[str]:
    """One line per break in the chain of `captures` (sorted by seq): a missing start, a gap,
    a prev link that is not the manifest before it, and (in one line) seqs claimed twice."""
    warnings: list[str] = []
    if not captures:
        return warnings
    by_seq: dict[int, list[Capture]] = {}
    for capture in captures:
        by_seq.setdefault(capture.seq, []).append(capture)
    seqs = sorted(by_seq)
    if seqs[0] != 1:
        warnings.append(f"chain broken before seq {seqs[0]} (no capture with seq 1 to {seqs[0] - 1})")
    for before, seq in itertools.pairwise(seqs):
        if seq != before + 1:
            missing = f"seq {before + 1}" if seq == before + 2 else f"seqs {before + 1} to {seq - 1}"
            warnings.append(f"chain broken after seq {before} ({missing} missing)")
            continue
        digests = {c.manifest_sha256 for c in by_seq[before]}
        if any(c.prev_manifest_sha256 not in digests for c in by_seq[seq]):
            warnings.append(
                f"chain broken after seq {before} "
                f"(the prev link of seq {seq} is not the manifest of seq {before})"
            )
    forks = [seq for seq in seqs if len(by_seq[seq]) > 1]
    if forks:
        first = by_seq[forks[0]]
        more = f" and {len(forks) - 1} more seq values" if len(forks) > 1 else ""
        warnings.append(
            f"forked chain: seq {forks[0]} is claimed by captures "
            f"{' and '.join(c.id for c in first)}{more}; all were indexed"
        )
    return warnings
