"""Identical-payload revisits (WARC 1.1 §6.7.2) as other tools write them: which record a
revisit stands for, and whether its payload digest, in whatever algorithm and encoding it
uses (warcprox and Heritrix write `sha1:` in base32), is that record's payload."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from archiver.warc.digests import parse_digest
from archiver.warc.scanner import ScannedRecord, read_record_at

PROFILE_SUFFIX = "identical-payload-digest"  # WARC 1.0's and 1.1's URIs, and archiver's old misspelt one


def is_revisit(record: ScannedRecord) -> bool:
    """An identical-payload-digest revisit (other profiles carry no payload we could use)."""
    return record.type == "revisit" and record.headers.get("warc-profile", "").endswith(PROFILE_SUFFIX)


def refers_to_moment(record: ScannedRecord) -> datetime | None:
    """WARC-Refers-To-Date, the original's WARC-Date, as a UTC moment (None if absent)."""
    return warc_moment(record.headers.get("warc-refers-to-date", ""))


def warc_moment(value: str) -> datetime | None:
    """A WARC-Date (any precision, `Z` or an offset) as a UTC moment; None if unreadable."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)


def same_moment(a: datetime, b: datetime) -> bool:
    """WARC-Date precision varies by writer (seconds, micro): equal to the coarser of the two."""
    if a.microsecond == 0 or b.microsecond == 0:
        return a.replace(microsecond=0) == b.replace(microsecond=0)
    return a == b


def payload_matches(claim: str | None, original: ScannedRecord, path: Path) -> bool:
    """Whether a revisit's WARC-Payload-Digest `claim` is the payload of `original` (a
    response record at original.offset of `path`), in the claim's own algorithm."""
    parsed = parse_digest(claim or "")
    if parsed is None:
        return False
    algorithm, raw = parsed
    if algorithm == "sha256" and original.payload_sha256:
        return raw.hex() == original.payload_sha256
    own = parse_digest(original.payload_digest or "")
    if own is not None and own[0] == algorithm and original.payload_ok:
        return own[1] == raw
    full = read_record_at(path, original.offset)  # another algorithm: hash the payload again
    if full.content is None:
        return False
    payload = full.content[len(full.http_head) :] if full.http_head else full.content
    return hashlib.new(algorithm, payload).digest() == raw
