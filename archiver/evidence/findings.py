"""What a check finds: counts per check, problems (which check, capture, file, record,
what), notes. Checks return these and print nothing; output/checks.py shows them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from archiver.warc.scanner import FileScan

CHECKS = {
    "gzip": "gzip members decompress",
    "digests": "record digests recompute",
    "manifests": "manifests match their records",
    "catalogue": "catalogue rows match the files",
    "files": "no file missing, none unknown",
    "chain": "manifest chain unbroken, in order",
    "signatures": "signatures valid",
    "package": "package hashes and signature",
    "anchor": "published chain head still in the chain",
    "timestamps": "trusted timestamps valid, their heads in the chain",
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
        if record.block_ok is None and record.payload_ok is None:
            continue  # no digest to recompute: never counted as one that holds
        report.count("digests")
        for ok, what in (
            (record.block_ok, "block digest does not match the record's content"),
            (record.payload_ok, "payload digest does not match the record's payload"),
        ):
            if ok is False:
                report.add("digests", what, capture=capture, path=path, record=record.where())


def merge(into: Report, other: Report) -> None:
    for name, amount in other.checked.items():
        into.count(name, amount)
    into.problems += other.problems
    into.notes += [note for note in other.notes if note not in into.notes]
    into.bytes += other.bytes
    into.unsigned_early += other.unsigned_early
    into.unsigned_unkeyed += other.unsigned_unkeyed
