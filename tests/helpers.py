"""Test helpers: run the real CLI, parse WARC files independently of warcio."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner, Result

from archiver.cli import main

ROOT = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("ARCHIVER_CORPUS") or ROOT.parent / "shared" / "corpus")


def run(*args: str, input: str | None = None) -> Result:
    """Run the CLI in-process (stdout and stderr kept apart)."""
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def run_process(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the CLI as a separate process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "archiver", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        **kwargs,
    )


@dataclass
class RawRecord:
    """A WARC record parsed by hand from the decompressed bytes (independent of warcio)."""

    headers: dict[str, str]
    block: bytes

    @property
    def payload(self) -> bytes:
        if self.headers.get("Content-Type", "").startswith("application/http"):
            return self.block.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in self.block else b""
        return self.block


def raw_records(path: Path) -> list[RawRecord]:
    """Parse every record of a .warc.gz with gzip and string splitting only."""
    data = gzip.decompress(path.read_bytes())
    records, pos = [], 0
    while pos < len(data):
        end = data.index(b"\r\n\r\n", pos)
        lines = data[pos:end].decode().split("\r\n")
        assert lines[0] == "WARC/1.1"
        headers = dict(line.split(": ", 1) for line in lines[1:])
        start = end + 4
        length = int(headers["Content-Length"])
        records.append(RawRecord(headers, data[start : start + length]))
        assert data[start + length : start + length + 4] == b"\r\n\r\n"
        pos = start + length + 4
    return records


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def rewrite_metadata(root: Path, seq: int, change: Callable[[dict], None]) -> None:
    """Rewrite the metadata record of the capture at `seq` after `change(metadata)`, keeping
    the file well-formed and the catalogue rows in step (the forger's view of the archive;
    captures after it in a rolling file move by the change in size)."""
    import io
    import sqlite3

    from archiver.warc.writer import CaptureWriter

    db = sqlite3.connect(root / "index.sqlite3")
    db.row_factory = sqlite3.Row
    row = dict(db.execute("SELECT * FROM captures WHERE seq = ?", (seq,)).fetchone())
    path = root / row["warc_path"]
    data = path.read_bytes()
    start, end = row["start_offset"], row["start_offset"] + row["bytes"]
    member = data[row["metadata_offset"] : end]
    metadata = json.loads(gzip.decompress(member).split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n\r\n", 1)[0])
    change(metadata)
    out = io.BytesIO()
    out.write(data[start : row["metadata_offset"]])
    span = CaptureWriter(out).metadata(
        metadata["capture"]["final_url"],
        "2026-01-01T00:00:00Z",
        metadata["capture"]["response_record_id"],
        metadata,
    )
    capture = out.getvalue()
    path.write_bytes(data[:start] + capture + data[end:])
    shift = len(capture) - (end - start)
    with db:
        db.execute(
            "UPDATE captures SET metadata_length = ?, bytes = ?, signed = ?, warc_sha256 = ? WHERE seq = ?",
            (
                span.length,
                len(capture),
                int("signature" in metadata),
                hashlib.sha256(capture).hexdigest(),
                seq,
            ),
        )
        db.execute(
            "UPDATE captures SET start_offset = start_offset + ?, response_offset = response_offset + ?, "
            "metadata_offset = metadata_offset + ? WHERE warc_path = ? AND start_offset > ?",
            (shift, shift, shift, row["warc_path"], start),
        )
    db.close()


def capture_stories(root: Path, server: object, page: str, count: int = 3) -> Path:
    """An archive of `count` captured stories (/story0, /story1...) served by `server` from
    the `page` template (its {t} is the headline)."""
    for n in range(count):
        server.expect_request(f"/story{n}").respond_with_data(  # type: ignore[attr-defined]
            page.format(t=f"Story {n} headline"), content_type="text/html"
        )
        assert run("capture", "--archive", str(root), server.url_for(f"/story{n}")).exit_code == 0  # type: ignore[attr-defined]
    return root
