"""Rewrite a WARC file with each record in its own gzip member, record bytes unchanged, so
every record can be read by offset (uncompressed WARCs, or one gzip stream around many
records, as some tools write them)."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Any

from archiver.warc.deflate import gzip_member
from archiver.warc.scanner import FileScan


def recompress(source: Path, scan: FileScan, target: Path) -> None:
    """Write `source`'s records (as `scan` found them) to `target`, one gzip member each.
    Raises ValueError if the file no longer holds what the scan found."""
    opener = gzip.open if scan.compressed else open
    with opener(source, "rb") as stream, open(target, "wb") as out:
        for record in scan.records:
            out.write(gzip_member(_read_exactly(stream, record.stream_length)))


def _read_exactly(stream: IO[bytes] | Any, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("the file changed while it was being read")
    return data
