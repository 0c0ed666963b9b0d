"""Check the evidence: gzip members, record digests, capture manifests, catalogue rows, the
manifest chain and signatures (files read with the independent reader in warcscan.py).
"""

from __future__ import annotations

import json
import os
import queue
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from archiver.archive import lock
from archiver.archive.layout import INDEX_NAME, JOURNAL_NAME, LOCK_NAME, SOURCES, leftovers
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.evidence.chain import check_chain
from archiver.evidence.findings import ProgressHook, Report, merge, report_scan
from archiver.evidence.signatures import check_signatures, trusted_key
from archiver.evidence.sources import check_sources
from archiver.evidence.warcfile import check_file, facts_mismatch, records_mismatch
from archiver.record import COLUMNS, CaptureFile, find_metadata, make_row, manifest_digest
from archiver.urls import looks_like_path
from archiver.warc.digests import parse_digest
from archiver.warc.revisits import payload_matches
from archiver.warc.scanner import FileScan, read_record_at, scan_range, scan_warc

LOCK_WAIT = 30.0  # seconds verify waits for a writer to finish before reading without it


class Verifier:
    """Verifies an archive, or some of its captures, against its files and catalogue."""

    def __init__(
        self,
        root: Path,
        public_key: Any,
        key_source: str,
        progress: ProgressHook | None = None,
        workers: int | None = None,
    ) -> None:
        from archiver.archive.folder import Archive

        self.archive = Archive(root, create=False)
        self.root = self.archive.root
        self.public_key, self.key_source = public_key, key_source
        self.progress = progress
        self.workers = workers or min(4, os.cpu_count() or 1)
        self.report = Report()
        self.disk: dict[str, list[str]] = {}
        self.rows: list = []
        self.head: str | None = None
        self.uncommitted: tuple[str, int, bool] | None = None  # a killed commit's (file, offset, older?)
        self.unsealed = 0  # captures whose manifest signs neither their facts nor their WARC headers

    # selection ------------------------------------------------------------------------

    def run(self, targets: Iterable[str]) -> Report:
        """Verify the captures named by URL, id or file (no targets: the whole archive)."""
        targets = list(targets)
        with lock.shared(self.root, timeout=LOCK_WAIT) as still:
            self.disk = {folder: self._files_on_disk(folder) for folder in ("warcs", SOURCES)}
            self.rows = self.archive.all()
            self.head = self.archive.chain_head()
            left = leftovers(self.root)
            self.uncommitted = self._uncommitted()
        if not still and (self.root / LOCK_NAME).exists() and not self.archive.read_only:
            self.report.notes.append(
                f"another archiver held the archive for more than {LOCK_WAIT:g}s; checked without "
                "waiting, so a capture committed meanwhile may show as a difference"
            )
        for path in left:
            self.report.notes.append(
                f"left by a writer that died: {self._relative(path) or path} "
                "(the next capture, import or reindex clears it)"
            )
        chosen = {row.id: row for target in targets for row in self._resolve(target, self.rows)}
        if not targets:
            self._check_catalogue_file()
            self._verify(self.rows, full=True)
        else:
            self._verify(sorted(chosen.values(), key=lambda row: row.seq), full=False)
        self.archive.close()
        return self.report

    def _check_catalogue_file(self) -> None:
        """SQLite's own check of the catalogue's pages (a damaged one is rebuilt by reindex)."""
        import sqlite3

        try:
            verdict = str(self.archive.db.execute("PRAGMA quick_check").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            verdict = str(exc)
        if verdict != "ok":
            self.report.add(
                "catalogue",
                f"the catalogue file is damaged ({' '.join(verdict.split())[:200]});"
                " rebuild it with `archiver reindex`",
                path=INDEX_NAME,
            )

    def _resolve(self, target: str, rows: list) -> list:
        from archiver.urls import canonicalize

        path = Path(target)
        if path.is_file():
            relative = self._relative(path)
            found = [row for row in rows if row.warc_path == relative]
            if not found:
                raise ArchiverError(f"{target} is not a capture file of the archive {self.root}")
            return found
        if "://" not in target:
            capture = self.archive.get(target)
            if capture is not None:
                return [capture]
            raise ArchiverError(f"no capture with id {target} in {self.root}")
        found = self.archive.history(canonicalize(target))
        if not found:
            raise ArchiverError(f"no captures of {target} in {self.root}")
        return found

    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return ""

    # the work -------------------------------------------------------------------------

    def _uncommitted(self) -> tuple[str, int, bool] | None:
        """The rolling file a writer killed mid-commit was appending to and where its
        committed part ends, as its journal says: the next write command cuts the rest off,
        so bytes past there are no sign of tampering. (An older writer's journal names a
        whole published file: offset 0.)"""
        try:
            noted = json.loads((self.root / JOURNAL_NAME).read_bytes())
            name = str(noted.get("roll") or noted.get("final") or "")
            offset = int(noted.get("offset") or 0)
        except (OSError, ValueError, RecursionError, AttributeError, TypeError):
            return None
        relative = self._relative(Path(name) if Path(name).is_absolute() else self.root / name)
        older = "roll" not in noted
        return (relative, offset, older) if relative and relative in self.disk["warcs"] else None

    def _verify(self, rows: list, full: bool) -> None:
        files: dict[int, CaptureFile] = {}
        for relative, row, scan in self._parts(rows, full):
            capture = self._check_capture(relative, row, scan)
            if capture is None:
                continue
            capture.slim()  # what the checks across captures need: memory stays flat
            seq = capture.manifest["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
                self.report.add(
                    "chain",
                    f"manifest seq {seq!r} is no position in the chain",
                    capture=capture.facts["id"],
                    path=relative,
                )
                continue
            if seq in files:
                self.report.add(
                    "chain",
                    f"seq {seq} is also claimed by capture {files[seq].facts['id']}",
                    capture=capture.facts["id"],
                    path=relative,
                )
            else:
                files[seq] = capture
        check_sources(
            self.report,
            self.root,
            files.values(),
            self.disk[SOURCES] if full else [],
            self.workers,
            self.progress,
        )
        self._check_revisits(rows, files)
        check_chain(self.report, files, self.rows, self.root, self.head if full else None, full)
        self._check_signatures(files, full)
        if self.unsealed:
            self.report.notes.append(
                f"{self.unsealed} capture(s) were made before manifests signed their facts and exact record "
                "bytes: their WARC headers and facts are covered by the catalogue's file digests only"
            )

    def _parts(self, rows: list, full: bool) -> Iterator[tuple[str, Any, FileScan]]:
        """Each capture to check, as (file, catalogue row or None, its scan). A full check
        reads every file whole, in parallel, and splits it into the captures its records lay
        out (so nothing in a file goes unchecked), matching rows by offset; a partial one
        reads only the chosen captures' ranges."""
        by_file: dict[str, list] = {}
        for row in rows:
            by_file.setdefault(row.warc_path, []).append(row)
        paths = sorted(set(by_file) | (set(self.disk["warcs"]) if full else set()))
        present = []
        for relative in paths:
            self.report.count("files")
            if (self.root / relative).is_file() or relative in self.disk["warcs"]:
                present.append(relative)
                continue
            for row in by_file[relative]:
                self.report.count("catalogue")
                self.report.add("files", "capture file is missing", capture=row.id, path=relative)
        jobs = [(r, None) for r in present] if full else [(r, row) for r in present for row in by_file[r]]
        sizes = {r: _size(self.root / r) for r in present}
        if self.progress:
            self.progress.start(sum(sizes.values()) if full else sum(row.bytes for _, row in jobs if row))
        advance = self.progress.advance if self.progress else None

        jobs.sort(key=lambda job: -sizes[job[0]])  # the largest first: the pool ends together
        if full:
            yield from self._whole_files([relative for relative, _ in jobs], by_file, advance)
            return

        def read(job: tuple[str, Any]) -> tuple[str, Any, FileScan]:
            relative, row = job
            scan = scan_range(
                self.root / relative,
                row.start_offset,
                row.bytes,
                strict_gzip=True,
                file_sha256=True,
                advance=advance,
            )
            return relative, row, scan

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            yield from pool.map(read, jobs)

    def _whole_files(
        self, paths: list[str], by_file: dict[str, list], advance: Any
    ) -> Iterator[tuple[str, Any, FileScan]]:
        """Every file read whole, in parallel, each capture handed over as soon as it is read
        (through a bounded queue: memory stays flat however many captures a file holds), with
        the catalogue row that puts it at its offset; rows no capture matched are problems."""
        parts: queue.Queue[tuple[str, FileScan | None]] = queue.Queue(maxsize=256)

        def read(relative: str) -> None:
            try:
                scan_warc(
                    self.root / relative,
                    strict_gzip=True,
                    advance=advance,
                    on_capture=lambda part: parts.put((relative, part)),
                )
            except Exception as exc:  # a reader's defect is a problem of that file, never "all good"
                failed = FileScan(str(self.root / relative), 0, errors=[(None, f"cannot read: {exc!r}")])
                parts.put((relative, failed))
            finally:
                parts.put((relative, None))

        rows = {relative: {row.start_offset: row for row in by_file.get(relative, [])} for relative in paths}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            for relative in paths:
                pool.submit(read, relative)
            done = 0
            while done < len(paths):
                relative, part = parts.get()
                if part is None:
                    done += 1
                    self._unmatched(relative, rows[relative].values())
                    continue
                row = rows[relative].pop(part.start, None)
                if row is None and self._uncommitted_part(relative, part):
                    continue
                yield relative, row, part

    def _uncommitted_part(self, relative: str, part: FileScan) -> bool:
        """Whether `part` lies past where a killed commit began (noted, not checked)."""
        noted = self.uncommitted
        if noted is None or noted[0] != relative or part.start < noted[1]:
            return False
        self.report.notes.append(
            f"{relative} was published by a writer that died before indexing it (the next "
            "capture, import or reindex indexes it; not checked now)"
            if noted[2]
            else f"{relative}: {part.size} bytes from offset {part.start} were appended by a "
            "writer that died before indexing them (the next write command cuts them off)"
        )
        return True

    def _unmatched(self, relative: str, rows: Iterable[Any]) -> None:
        for row in rows:
            self.report.count("catalogue")
            self.report.add(
                "catalogue",
                f"catalogue puts the capture at offset {row.start_offset}, where no capture begins",
                capture=row.id,
                path=relative,
            )

    def _files_on_disk(self, folder: str) -> list[str]:
        base = self.root / folder
        return (
            [
                self._relative(p) or str(p)
                for p in base.rglob("*")
                if not p.is_dir() and not p.name.startswith(".")
            ]
            if base.is_dir()
            else []
        )

    # one capture file -----------------------------------------------------------------

    def _check_capture(self, relative: str, row: Any, scan: FileScan) -> CaptureFile | None:
        """One capture's range of its file: its records, manifest and catalogue row."""
        report = self.report
        alone = scan.start == 0 and scan.size == _size(self.root / relative)
        capture_id = (
            row.id if row is not None else Path(relative).name.removesuffix(".warc.gz") if alone else None
        )
        where = {"capture": capture_id, "path": relative}
        if row is not None:
            report.count("catalogue")
        else:
            report.add(
                "files",
                "file is not in the catalogue (unknown capture file)"
                if alone
                else f"capture at offset {scan.start} is not in the catalogue",
                **where,
            )
        report_scan(report, scan, capture_id, relative)
        if not scan.records:
            return None
        if not scan.offset_access and not scan.errors:
            report.add("gzip", "records are not each in their own gzip member", **where)
        for record in scan.records:
            if record.trailer != 4:  # read leniently from others' files, never written so
                report.add("gzip", "record is not followed by CRLF CRLF", **where, record=record.where())
        found = find_metadata(scan)
        report.count("manifests")
        if found is None:
            if not scan.errors:  # else the read failure is the problem already reported
                report.add("manifests", "no archiver metadata record with a manifest", **where)
            return None
        metadata, record = found
        try:
            capture = CaptureFile(scan, metadata, record, manifest_digest(metadata["manifest"]))
            self._check_manifest(capture, relative, where)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.add("manifests", f"metadata record is malformed ({exc!r})", **where)
            return None
        if row is not None and capture.facts["id"] != row.id:
            report.add(
                "manifests",
                f"file holds capture {capture.facts['id']} where the catalogue puts {row.id} (swapped?)",
                **where,
            )
        elif row is not None:
            self._check_row(capture, row, relative, where)
        return capture

    def _check_manifest(self, capture: CaptureFile, relative: str, where: dict) -> None:
        report, manifest, facts = self.report, capture.manifest, capture.facts
        records = capture.scan.records
        index = records.index(capture.metadata_record)
        for problem in filter(None, (records_mismatch(capture), facts_mismatch(capture))):
            report.add("manifests", problem, **where)
        if "facts_sha256" not in manifest:
            self.unsealed += 1
        if index != len(records) - 1:
            report.add("manifests", "records follow the metadata record", **where)
        if capture.metadata.get("manifest_sha256") != capture.manifest_sha256:
            report.add(
                "manifests",
                "manifest_sha256 does not match the manifest",
                **where,
                record=capture.metadata_record.where(),
            )
        if manifest["capture_id"] != facts["id"]:
            report.add("manifests", f"manifest is of capture {manifest['capture_id']}", **where)
        for key in ("url", "canonical_url", "final_url", "captured_at"):
            if manifest[key] != facts[key]:
                report.add("manifests", f"manifest {key} differs from the capture facts", **where)
        response = next((r for r in records if r.record_id == facts["response_record_id"]), None)
        if response is None or response.type not in ("response", "revisit", "resource"):
            report.add("manifests", "the response record named by the metadata is not in the file", **where)
            return
        if response.target_uri != manifest["final_url"]:
            report.add(
                "manifests",
                "response WARC-Target-URI differs from the manifest's final_url",
                **where,
                record=response.where(),
            )
        if response.type != "revisit":
            stored: str | None = response.payload_sha256
        else:  # a revisit claims its original's payload, in its writer's algorithm and encoding
            claim = parse_digest(response.payload_digest or "")
            stored = claim[1].hex() if claim and claim[0] == "sha256" else None  # else: _check_revisits
        if stored is not None and stored != facts["payload_sha256"]:
            report.add(
                "manifests",
                "payload SHA-256 differs from the capture facts",
                **where,
                record=response.where(),
            )

    def _check_row(self, capture: CaptureFile, row: Any, relative: str, where: dict) -> None:
        """The catalogue row must be the one the file implies (record.make_row), field by field."""
        response = capture.response_record()
        if response is None:  # _check_manifest reported it
            return
        try:
            expected = make_row(
                capture.metadata,
                warc_path=relative,
                response=(response.offset, response.length or 0),
                metadata_span=(capture.metadata_record.offset, capture.metadata_record.length or 0),
                size=capture.scan.size,
                warc_sha256=None,
                start=capture.scan.start,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            self.report.add("manifests", f"metadata record is malformed ({exc!r})", **where)
            return
        for name in COLUMNS:
            actual, value = getattr(row, name), getattr(expected, name)
            if name != "warc_sha256" and actual != value:
                self.report.add(
                    "catalogue", f"catalogue {name} is {actual!r}, the file says {value!r}", **where
                )
        if row.warc_sha256 is not None and row.warc_sha256 != capture.scan.sha256:
            self.report.add(
                "catalogue",
                "capture's bytes differ from the SHA-256 recorded when it was "
                "written (a change no record digest covers, e.g. gzip padding)",
                **where,
            )

    # across captures ------------------------------------------------------------------

    def _check_revisits(self, rows: list, files: dict[int, CaptureFile]) -> None:
        """Each revisit's original is in the catalogue with the same payload; a revisit whose
        digest is not SHA-256 (warcprox, Heritrix: base32 SHA-1) is checked against the
        original's response record in that digest's own algorithm."""
        by_id = {row.id: row for row in self.rows}
        for row in rows:
            if not row.revisit:
                continue
            original = by_id.get(row.refers_to or "")
            if original is None:
                self.report.add(
                    "catalogue",
                    f"revisit refers to capture {row.refers_to}, which is not in the catalogue",
                    capture=row.id,
                    path=row.warc_path,
                )
            elif original.payload_sha256 != row.payload_sha256 or not self._same_payload(
                files.get(row.seq), original
            ):
                self.report.add(
                    "catalogue",
                    f"revisit payload differs from its original {original.id}",
                    capture=row.id,
                    path=row.warc_path,
                )

    def _same_payload(self, capture: CaptureFile | None, original: Any) -> bool:
        """A revisit's non-SHA-256 payload digest matches its original's payload (True when
        the digest is SHA-256, already compared with the facts, or the file is unreadable,
        a problem reported already)."""
        revisit = capture.response_record() if capture else None
        claim = parse_digest(revisit.payload_digest or "") if revisit else None
        if revisit is None or (claim is not None and claim[0] == "sha256"):
            return True
        path = self.root / original.warc_path
        try:
            return payload_matches(
                revisit.payload_digest, read_record_at(path, original.response_offset), path
            )
        except (OSError, ValueError):
            return True  # the original's file is reported on its own

    def _check_signatures(self, files: dict[int, CaptureFile], full: bool) -> None:
        # a partial check sees only some files: where signing began comes from the catalogue
        first_signed = None if full else min((row.seq for row in self.rows if row.signed), default=None)
        since, problem = (None, None)
        if self.public_key is not None:  # the key's own word on where signing began
            since, problem = keys.signed_since(self.root, self.public_key)
        if problem:
            self.report.count("signatures")
            self.report.add("signatures", problem, path=self._relative(keys.since_path(self.root)))
        if since is not None:
            first_signed = min(since, first_signed or since)
        check_signatures(
            self.report,
            list(files.values()),
            self.public_key,
            self.key_source,
            # with a key and no word on where signing began, an archive of unsigned captures
            # is one whose signatures were stripped as much as one older than its key
            require=self.key_source.startswith("--pubkey") or (self.public_key is not None and since is None),
            path_of=lambda c: self._relative(Path(c.scan.path)),
            first_signed_seq=first_signed,
            location=str(self.root),
        )


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def verify(
    root: Path, targets: Iterable[str], pubkey_pem: bytes | None = None, progress: ProgressHook | None = None
) -> Report:
    """Verify an archive (or the captures named by URL, capture id or file), or WACZ packages
    and WARC files outside any archive. Raises ArchiverError when it cannot start."""
    targets = list(targets)
    for target in targets:
        if looks_like_path(target):
            path = Path(target)
            if not path.exists():
                raise ArchiverError(f"no such file: {target}")
            if not path.is_file():
                raise ArchiverError(f"not a file: {target}")
    outside = [t for t in targets if _outside_archive(root, t)]
    inside = [t for t in targets if t not in outside]
    report = Report()
    if inside or not targets:
        public_key, source = trusted_key(root, pubkey_pem)
        report = Verifier(root, public_key, source, progress).run(inside)
    for target in outside:
        public_key, source = trusted_key(None, pubkey_pem)
        if target.lower().endswith(".wacz"):
            from archiver.evidence.package import check_package

            merge(report, check_package(Path(target), public_key, source))
        else:
            merge(report, check_file(Path(target), public_key, source))
    return report


def _outside_archive(root: Path, target: str) -> bool:
    """A WACZ package, or a file that is not one of the archive's capture files."""
    path = Path(target)
    if not path.is_file():
        return False
    if path.suffix.lower() == ".wacz":
        return True
    try:
        path.resolve().relative_to((Path(root) / "warcs").resolve())
    except ValueError:
        return True
    return False
