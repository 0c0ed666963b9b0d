"""Check the evidence: gzip members, record digests, capture manifests, catalogue rows, the
manifest chain and signatures (files read with the independent reader in warcscan.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from archiver.archive.catalogue import INDEX_NAME
from archiver.archive.folder import SOURCES
from archiver.errors import ArchiverError
from archiver.evidence import keys
from archiver.urls import looks_like_path
from archiver.warc.scanner import FileScan, ScannedRecord, read_record_at, scan_warc

# -- findings ----------------------------------------------------------------------------

CHECKS = {
    "gzip": "gzip members decompress",
    "digests": "record digests recompute",
    "manifests": "manifests match their records",
    "catalogue": "catalogue rows match the files",
    "files": "no file missing, none unknown",
    "chain": "manifest chain unbroken, in order",
    "signatures": "signatures valid",
    "package": "package hashes and signature",
}


@dataclass
class Problem:
    """One thing found wrong: which check, which capture, file and record, and what."""

    check: str
    message: str
    capture: str | None = None
    path: str | None = None
    record: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return {
            "check": self.check,
            "capture": self.capture,
            "path": self.path,
            "record": self.record,
            "message": self.message,
        }


@dataclass
class Report:
    """Counts per check and the problems found."""

    checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bytes: int = 0
    chain_head: str | None = None
    unsigned_early: int = 0  # unsigned captures before the first signed one (made before the key)
    unsigned_unkeyed: int = 0  # unsigned captures where no capture checked is signed

    def count(self, check: str, amount: int = 1) -> None:
        self.checked[check] = self.checked.get(check, 0) + amount

    def add(self, check: str, message: str, **where: str | None) -> None:
        self.problems.append(Problem(check, message, **where))

    def failed(self, check: str) -> int:
        return sum(1 for p in self.problems if p.check == check)

    @property
    def ok(self) -> bool:
        return not self.problems

    def rows(self) -> list[tuple[str, int, int]]:
        """(check description, units checked, problems) for the checks that ran."""
        names = [name for name in CHECKS if name in self.checked or self.failed(name)]
        return [(CHECKS[name], self.checked.get(name, 0), self.failed(name)) for name in names]

    def note_rows(self) -> list[tuple[str, int]]:
        """(what, how many) facts worth a row of the summary that are not failures."""
        rows = []
        if self.unsigned_early:
            rows.append(("unsigned captures (made before the key existed)", self.unsigned_early))
        if self.unsigned_unkeyed:
            rows.append(("unsigned captures (no capture checked is signed)", self.unsigned_unkeyed))
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "bytes": self.bytes,
            "chain_head": self.chain_head,
            "checks": [
                {
                    "check": name,
                    "description": CHECKS[name],
                    "checked": self.checked.get(name, 0),
                    "problems": self.failed(name),
                }
                for name in CHECKS
                if name in self.checked or self.failed(name)
            ],
            "unsigned_captures": self.unsigned_early + self.unsigned_unkeyed,
            "unsigned_before_first_signed": self.unsigned_early,
            "problems": [p.to_json() for p in self.problems],
            "notes": self.notes,
        }


class ProgressHook(Protocol):
    """Told the total bytes to read, then each amount read (from worker threads)."""

    def start(self, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...


def report_scan(report: Report, scan: FileScan, capture: str | None, path: str) -> None:
    """Turn a file scan's read and digest failures into problems."""
    if scan.compressed:
        report.count("gzip")
    report.bytes += scan.size
    for offset, message in scan.errors:
        check = "gzip" if "gzip" in message or "truncated" in message else "digests"
        where = f"offset {offset}" if offset is not None else None
        report.add(check, message, capture=capture, path=path, record=where)
    for record in scan.records:
        report.count("digests")
        if record.block_ok is False:
            report.add(
                "digests",
                "block digest does not match the record's content",
                capture=capture,
                path=path,
                record=record.where(),
            )
        if record.payload_ok is False:
            report.add(
                "digests",
                "payload digest does not match the record's payload",
                capture=capture,
                path=path,
                record=record.where(),
            )


# -- the archive -------------------------------------------------------------------------


@dataclass
class CaptureFile:
    """What a capture's own WARC file says about it."""

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


def capture_metadata(scan: FileScan) -> tuple[dict[str, Any], ScannedRecord] | None:
    """The archiver metadata record of a scanned capture file, if it has one."""
    for record in scan.records:
        if (
            record.type == "metadata"
            and record.content is not None
            and record.headers.get("content-type", "").startswith("application/json")
        ):
            try:
                data = json.loads(record.content)
            except ValueError:
                continue
            if (
                isinstance(data, dict)
                and isinstance(data.get("manifest"), dict)
                and isinstance(data.get("capture"), dict)
            ):
                return data, record
    return None


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

    # selection ------------------------------------------------------------------------

    def run(self, targets: Iterable[str]) -> Report:
        """Verify the captures named by URL, id or file (no targets: the whole archive)."""
        targets = list(targets)
        with self._still():
            self.disk = {folder: self._files_on_disk(folder) for folder in ("warcs", SOURCES)}
            self.rows = self.archive.all()
            self.head = self.archive.chain_state()[0]
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

    def _still(self) -> contextlib.ExitStack:
        """The writer lock, to hold writers off while files are listed and the catalogue read
        (so a capture committed meanwhile raises no false alarm); none on a read-only archive
        (no writer can be at work there, and the lock file cannot be made)."""
        stack = contextlib.ExitStack()
        if not self.archive.read_only:
            with contextlib.suppress(OSError, ArchiverError):
                stack.enter_context(self.archive.writer_lock())
        return stack

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

    def _verify(self, rows: list, full: bool) -> None:
        by_path = {row.warc_path: row for row in rows}
        paths = sorted(set(by_path) | (set(self.disk["warcs"]) if full else set()))
        scans = self._scan_all([(path, True) for path in paths])
        files: dict[int, CaptureFile] = {}
        for relative in paths:
            capture = self._check_capture_file(relative, by_path.get(relative), scans.get(relative))
            if capture is None:
                continue
            seq = capture.manifest["seq"]
            if seq in files:
                self.report.add(
                    "chain",
                    f"seq {seq} is also claimed by capture {files[seq].facts['id']}",
                    capture=capture.facts["id"],
                    path=relative,
                )
            else:
                files[seq] = capture
        self._check_sources(files, full)
        self._check_revisits(rows)
        self._check_chain(files, full)
        self._check_signatures(files, full)

    def _files_on_disk(self, folder: str) -> list[str]:
        base = self.root / folder
        return (
            [self._relative(p) for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")]
            if base.is_dir()
            else []
        )

    def _scan_all(self, jobs: list[tuple[str, bool]]) -> dict[str, FileScan]:
        """Scan files in parallel (zlib and hashlib release the GIL on large buffers);
        strict jobs are capture files, the others imported sources (hashed whole)."""
        sizes = {}
        for relative, _ in jobs:
            try:
                sizes[relative] = (self.root / relative).stat().st_size
            except OSError:
                continue
        if self.progress:
            self.progress.start(sum(sizes.values()))
        advance = self.progress.advance if self.progress else None
        present = sorted((job for job in jobs if job[0] in sizes), key=lambda job: -sizes[job[0]])

        def work(job: tuple[str, bool]) -> tuple[str, FileScan]:
            relative, strict = job
            return relative, scan_warc(
                self.root / relative, strict_gzip=strict, file_sha256=True, advance=advance
            )

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(pool.map(work, present))

    # one capture file -----------------------------------------------------------------

    def _check_capture_file(self, relative: str, row: Any, scan: FileScan | None) -> CaptureFile | None:
        report = self.report
        name_id = Path(relative).name.removesuffix(".warc.gz")
        capture_id = row.id if row is not None else name_id
        where = {"capture": capture_id, "path": relative}
        report.count("files")
        if row is not None:
            report.count("catalogue")
        if scan is None:
            report.add("files", "capture file is missing", **where)
            return None
        if row is None:
            report.add("files", "file is not in the catalogue (unknown capture file)", **where)
        report_scan(report, scan, capture_id, relative)
        if not scan.records:
            return None
        if not scan.offset_access and not scan.errors:
            report.add("gzip", "records are not each in their own gzip member", **where)
        found = capture_metadata(scan)
        report.count("manifests")
        if found is None:
            if not scan.errors:  # else the read failure is the problem already reported
                report.add("manifests", "no archiver metadata record with a manifest", **where)
            return None
        metadata, record = found
        from archiver.archive.folder import manifest_digest

        try:
            capture = CaptureFile(scan, metadata, record, manifest_digest(metadata["manifest"]))
            self._check_manifest(capture, relative, where)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.add("manifests", f"metadata record is malformed ({exc!r})", **where)
            return None
        if row is not None:
            self._check_row(capture, row, relative, where)
        return capture

    def _check_manifest(self, capture: CaptureFile, relative: str, where: dict) -> None:
        report, manifest, facts = self.report, capture.manifest, capture.facts
        records = capture.scan.records
        index = records.index(capture.metadata_record)
        listed = [(r.type, r.record_id, r.block_digest, r.payload_digest) for r in records[:index]]
        claimed = [(r["type"], r["id"], r["block_digest"], r["payload_digest"]) for r in manifest["records"]]
        if listed != claimed:
            report.add("manifests", _list_difference(claimed, listed), **where)
        if index != len(records) - 1:
            report.add("manifests", "records follow the metadata record", **where)
        if capture.metadata.get("manifest_sha256") != capture.manifest_sha256:
            report.add(
                "manifests",
                "manifest_sha256 does not match the manifest",
                **where,
                record=capture.metadata_record.where(),
            )
        if manifest["capture_id"] != facts["id"] or Path(relative).name != f"{facts['id']}.warc.gz":
            report.add("manifests", f"file holds capture {manifest['capture_id']}", **where)
        for key in ("url", "canonical_url", "final_url", "captured_at"):
            if manifest[key] != facts[key]:
                report.add("manifests", f"manifest {key} differs from the capture facts", **where)
        response = next((r for r in records if r.record_id == facts["response_record_id"]), None)
        if response is None or response.type not in ("response", "revisit"):
            report.add("manifests", "the response record named by the metadata is not in the file", **where)
            return
        if response.target_uri != manifest["final_url"]:
            report.add(
                "manifests",
                "response WARC-Target-URI differs from the manifest's final_url",
                **where,
                record=response.where(),
            )
        stored = (
            response.payload_sha256
            if response.type == "response"
            else (response.payload_digest or "").removeprefix("sha256:")
        )
        if stored != facts["payload_sha256"]:
            report.add(
                "manifests",
                "payload SHA-256 differs from the capture facts",
                **where,
                record=response.where(),
            )

    def _check_row(self, capture: CaptureFile, row: Any, relative: str, where: dict) -> None:
        facts, manifest = capture.facts, capture.manifest
        response = next(r for r in capture.scan.records if r.record_id == facts["response_record_id"])
        expected = {
            "id": facts["id"],
            "seq": manifest["seq"],
            "url": facts["url"],
            "canonical_url": facts["canonical_url"],
            "final_url": facts["final_url"],
            "status": facts["status"],
            "content_type": facts.get("content_type"),
            "captured_at": facts["captured_at"],
            "warc_path": relative,
            "response_offset": response.offset,
            "response_length": response.length,
            "metadata_offset": capture.metadata_record.offset,
            "metadata_length": capture.metadata_record.length,
            "response_record_id": facts["response_record_id"],
            "payload_sha256": facts["payload_sha256"],
            "payload_length": facts["payload_length"],
            "revisit": facts.get("revisit_of") is not None,
            "refers_to": facts.get("revisit_of"),
            "bytes": capture.scan.size,
            "manifest_sha256": capture.manifest_sha256,
            "prev_manifest_sha256": manifest["prev"],
            "signed": "signature" in capture.metadata,
        }
        for name, value in expected.items():
            actual = getattr(row, name)
            if actual != value:
                self.report.add(
                    "catalogue", f"catalogue {name} is {actual!r}, the file says {value!r}", **where
                )
        if row.warc_sha256 is not None and row.warc_sha256 != capture.scan.sha256:
            self.report.add(
                "catalogue",
                "file bytes differ from the SHA-256 recorded when it was "
                "written (a change no record digest covers, e.g. gzip padding)",
                **where,
            )

    # across captures ------------------------------------------------------------------

    def _check_sources(self, files: dict[int, CaptureFile], full: bool) -> None:
        """Imported source files: each cited by a manifest, with the SHA-256 it cites."""
        cited: dict[str, list[tuple[str, str]]] = {}
        for capture in files.values():
            source = capture.manifest.get("source")
            if isinstance(source, dict):
                cited.setdefault(str(source.get("file")), []).append(
                    (capture.facts["id"], str(source.get("sha256")))
                )
        sources = sorted(set(cited) | (set(self.disk[SOURCES]) if full else set()))
        scans = self._scan_all([(path, False) for path in sources])
        for relative in sources:
            self.report.count("files")
            citing = cited.get(relative, [])
            first = citing[0][0] if citing else None
            scan = scans.get(relative)
            if scan is None:
                self.report.add("files", "imported source file is missing", capture=first, path=relative)
                continue
            report_scan(self.report, scan, first, relative)
            if not citing:
                self.report.add(
                    "files", "file is not cited by any capture (unknown source file)", path=relative
                )
            for capture_id, digest in citing:
                if digest != scan.sha256:
                    self.report.add(
                        "files",
                        "source file SHA-256 differs from the one its capture manifest records",
                        capture=capture_id,
                        path=relative,
                    )

    def _check_revisits(self, rows: list) -> None:
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
            elif original.payload_sha256 != row.payload_sha256:
                self.report.add(
                    "catalogue",
                    f"revisit payload differs from its original {original.id}",
                    capture=row.id,
                    path=row.warc_path,
                )

    def _check_chain(self, files: dict[int, CaptureFile], full: bool) -> None:
        """Every manifest's `prev` is the digest of the manifest one seq before it."""
        report = self.report
        for seq in sorted(files):
            capture = files[seq]
            where = {"capture": capture.facts["id"], "path": self._relative(Path(capture.scan.path))}
            report.count("chain")
            prev = capture.manifest["prev"]
            if seq == 1:
                if prev is not None:
                    report.add("chain", "first capture of the chain has a prev link", **where)
                continue
            before = files.get(seq - 1)
            before_digest = before.manifest_sha256 if before else self._manifest_digest_of(seq - 1, full)
            if before_digest is None:
                known = next((row.id for row in self.rows if row.seq == seq - 1), None)
                report.add(
                    "chain",
                    f"cannot check the link to capture {known} (seq {seq - 1}): its "
                    "file is missing or unreadable"
                    if known
                    else f"capture seq {seq - 1} "
                    "before it is gone from files and catalogue (removed from the chain?)",
                    **where,
                )
            elif prev != before_digest:
                report.add(
                    "chain",
                    f"prev link does not match the manifest of capture seq {seq - 1} "
                    "(captures removed, inserted or reordered)",
                    **where,
                )
        if full:
            self._check_head(files)

    def _manifest_digest_of(self, seq: int, full: bool) -> str | None:
        """For a partial check: the manifest digest of the capture at `seq`, read from its file."""
        if full:
            return None
        from archiver.archive.folder import manifest_digest

        rows = [row for row in self.rows if row.seq == seq]
        if not rows:
            return None
        try:
            record = read_record_at(self.root / rows[0].warc_path, rows[0].metadata_offset)
            return manifest_digest(json.loads(record.content or b"")["manifest"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _check_head(self, files: dict[int, CaptureFile]) -> None:
        head = self.head
        last = files[max(files)] if files else None
        expected = last.manifest_sha256 if last else None
        self.report.count("chain")
        self.report.chain_head = expected
        if head != expected:
            self.report.add(
                "chain",
                f"catalogue chain head {head} is not the manifest digest of the "
                f"last capture ({expected}): captures removed from the end?",
                capture=last.facts["id"] if last else None,
            )

    def _check_signatures(self, files: dict[int, CaptureFile], full: bool) -> None:
        # a partial check sees only some files: where signing began comes from the catalogue
        first_signed = None if full else min((row.seq for row in self.rows if row.signed), default=None)
        check_signatures(
            self.report,
            list(files.values()),
            self.public_key,
            self.key_source,
            require=self.key_source.startswith("--pubkey"),
            path_of=lambda c: self._relative(Path(c.scan.path)),
            first_signed_seq=first_signed,
            location=str(self.root),
        )


def check_signatures(
    report: Report,
    captures: list[CaptureFile],
    public_key: Any,
    key_source: str,
    require: bool,
    path_of: Callable[[CaptureFile], str],
    first_signed_seq: int | None = None,
    location: str | None = None,
) -> None:
    """Each signed manifest verifies with the trusted key (or, without one, with the key it
    carries); once signing has begun, every later capture is signed.

    Unsigned captures before the first signed one were made before the key existed: a note
    (the signed manifests after them cover them through the hash chain), counted in the
    summary. An unsigned capture after a signed one is a problem (a signature stripped). With
    `require` (--pubkey), captures of which none is signed are a problem: the key proves
    nothing about them. `first_signed_seq` is where signing began in the whole chain, when
    only some of its captures are checked; `location` is where a problem about all of them
    is reported (default: the file of the first unsigned one)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    from archiver.archive.folder import canonical_json

    embedded_keys: set[str] = set()
    ordered = sorted(captures, key=_seq_of)
    signed = [_seq_of(c) for c in ordered if isinstance(c.metadata.get("signature"), dict)]
    known = [seq for seq in (*signed, first_signed_seq) if isinstance(seq, int)]
    first_signed = min(known, default=None)
    unkeyed, first_unkeyed = 0, None
    for capture in ordered:
        where = {
            "capture": capture.facts.get("id"),
            "path": path_of(capture),
            "record": capture.metadata_record.where(),
        }
        signature = capture.metadata.get("signature")
        if not isinstance(signature, dict):
            if first_signed is None:
                unkeyed += 1
                first_unkeyed = first_unkeyed or capture
            elif _seq_of(capture) < first_signed:
                report.unsigned_early += 1
            else:
                report.count("signatures")
                report.add(
                    "signatures",
                    "capture is not signed although earlier ones are (signature removed?)",
                    **where,
                )
            continue
        report.count("signatures")
        data = canonical_json(capture.manifest)
        key = public_key
        if key is None:
            embedded_keys.add(str(signature.get("publicKey", "")))
            try:
                key = keys.load_public_der_b64(str(signature.get("publicKey", "")))
                if not isinstance(key, ec.EllipticCurvePublicKey):
                    raise ArchiverError("not an elliptic-curve key")
            except ArchiverError:
                report.add("signatures", "signature carries no readable public key", **where)
                continue
        if not keys.verify_signature(key, data, str(signature.get("signature", ""))):
            other = public_key is not None and signature.get("publicKey") != keys.public_der_b64(public_key)
            report.add(
                "signatures",
                "signature does not verify with "
                + (
                    f"{key_source} (made with another key)"
                    if other
                    else key_source
                    if public_key is not None
                    else "the key it carries"
                ),
                **where,
            )
    report.unsigned_unkeyed += unkeyed
    if unkeyed and require:
        report.count("signatures")
        report.add(
            "signatures",
            f"none of the {unkeyed} captures checked is signed, so nothing ties them to the {key_source}",
            path=location or (path_of(first_unkeyed) if first_unkeyed else None),
        )
    if public_key is None and captures and embedded_keys:
        report.notes.append(
            "no archive key or --pubkey: signatures were checked only against the "
            "public keys they carry, which proves integrity, not authorship"
        )
        if len(embedded_keys) > 1:
            report.add("signatures", f"captures are signed with {len(embedded_keys)} different keys")


def _seq_of(capture: CaptureFile) -> int:
    """A capture's position in the chain (0 when its manifest has no usable seq)."""
    seq = capture.manifest.get("seq")
    return seq if isinstance(seq, int) and not isinstance(seq, bool) else 0


def _list_difference(claimed: list[tuple], listed: list[tuple]) -> str:
    """Say how a file's records differ from its manifest's list."""
    if len(claimed) != len(listed):
        return f"manifest lists {len(claimed)} records, the file has {len(listed)} before the metadata"
    for number, (want, have) in enumerate(zip(claimed, listed, strict=True)):
        if want != have:
            labels = ("type", "record id", "block digest", "payload digest")
            what = next(label for label, a, b in zip(labels, want, have, strict=True) if a != b)
            return f"record {number + 1} ({have[0]} {have[1]}): {what} differs from the manifest"
    return "records differ from the manifest"


# -- entry points ------------------------------------------------------------------------


def trusted_key(root: Path | None, pubkey_pem: bytes | None) -> tuple[Any, str]:
    """The key signatures must verify with: --pubkey, else the archive's own, else none."""
    if pubkey_pem is not None:
        return keys.load_public_key(pubkey_pem), "--pubkey key"
    if root is not None:
        public = keys.public_key_path(root)
        if public.exists():
            return keys.load_public_key(public.read_bytes()), "the archive key"
        private = keys.load_private_key(root)
        if private is not None:
            return private.public_key(), "the archive key"
    return None, "no key"


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

            _merge(report, check_package(Path(target), public_key, source))
        else:
            _merge(report, check_file(Path(target), public_key, source))
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


def _merge(into: Report, other: Report) -> None:
    for name, amount in other.checked.items():
        into.count(name, amount)
    into.problems += other.problems
    into.notes += [note for note in other.notes if note not in into.notes]
    into.bytes += other.bytes
    into.unsigned_early += other.unsigned_early
    into.unsigned_unkeyed += other.unsigned_unkeyed


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
    from archiver.archive.folder import manifest_digest

    found = capture_metadata(scan) if scan.records else None
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
        report.add(
            "manifests", _list_difference(claimed, listed), capture=capture.facts.get("id"), path=where
        )
    return [capture]


# -- terminal ----------------------------------------------------------------------------


class BarProgress:
    """A byte-counting rich progress bar on stderr, shown only on a terminal and for large jobs."""

    MIN_BYTES = 64 << 20

    def __init__(self) -> None:
        from rich import progress as bars
        from rich.console import Console

        console = Console(stderr=True)
        self.bar = bars.Progress(
            bars.TextColumn("verifying"),
            bars.BarColumn(),
            bars.DownloadColumn(),
            bars.TransferSpeedColumn(),
            bars.TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        )
        self.task = self.bar.add_task("verify", total=0)
        self.total = 0
        self.lock = threading.Lock()

    def start(self, total: int) -> None:
        self.total += total
        self.bar.update(self.task, total=self.total)
        if self.total >= self.MIN_BYTES and not self.bar.live.is_started:
            self.bar.start()

    def advance(self, amount: int) -> None:
        with self.lock:
            self.bar.advance(self.task, amount)

    def stop(self) -> None:
        self.bar.stop()


def render(console: Any, report: Report) -> None:
    """The table of checks, then each problem with its capture, file and record."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Verification", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("check", "checked", "problems", "result"):
        table.add_column(name)
    for description, checked, failed in report.rows():
        table.add_row(description, str(checked), str(failed), "[red]FAIL[/]" if failed else "[green]ok[/]")
    for description, count in report.note_rows():
        table.add_row(description, str(count), "", "note")
    console.print(table)
    for problem in report.problems:
        where = " ".join(
            part
            for part in (
                f"capture {problem.capture}" if problem.capture else "",
                problem.path or "",
                f"({problem.record})" if problem.record else "",
            )
            if part
        )
        console.print(
            f"[red]problem[/] {escape(f'[{problem.check}] {where}: {problem.message}')}",
            highlight=False,
            soft_wrap=True,
        )
    for note in report.notes:
        console.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    from archiver.output.tables import human_size

    size = human_size(report.bytes)
    console.print(
        f"[green]all good[/]: {size} verified"
        if report.ok
        else f"[red]{len(report.problems)} problem(s) found[/] in {size}",
        highlight=False,
    )
