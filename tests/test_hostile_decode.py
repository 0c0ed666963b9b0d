"""Decompression bombs: `show` and `diff` stop decoding at a limit with one line, in bounded memory."""

from __future__ import annotations

import gzip
import hashlib
import resource
import zlib
from pathlib import Path

import brotli
import pytest
from test_hostile import PAGE, RawServer, capture, ok, server  # noqa: F401 - the fixture

from archiver.article.decode import DECODED_LIMIT, decode_html, decoded_prefix

from helpers import run, run_process

ZEROS = b"\0" * (DECODED_LIMIT + (16 << 20))


def _deflate(data: bytes, wbits: int) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, wbits)
    return packer.compress(data) + packer.flush()


MEMORY_CAP = 1 << 30  # address space for `show`: the limit plus the interpreter, not the bomb


def _memory_cap() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


BOMBS = {
    "gzip": lambda: _deflate(ZEROS, 31),
    "deflate": lambda: _deflate(ZEROS, 15),
    "raw-deflate": lambda: _deflate(ZEROS, -15),
    "br": lambda: brotli.compress(ZEROS, quality=4),
    "gzip, gzip": lambda: gzip.compress(_deflate(ZEROS, 31)),
}
CODING = {"raw-deflate": "deflate"}


@pytest.mark.parametrize("kind", list(BOMBS))
def test_bomb_is_one_line_for_show_and_diff(server: RawServer, archive_dir: Path, kind: str) -> None:  # noqa: F811
    body = BOMBS[kind]()
    assert len(body) < 8 << 20  # small on the wire, past the limit once decoded
    coding = CODING.get(kind, kind)
    server.routes["/bomb"] = (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: %s\r\n" % (coding.encode())
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )
    server.routes["/page"] = ok()
    code, lines, stderr = capture(archive_dir, server.url("/bomb"))
    assert code == 0 and lines[0]["payload_sha256"] == hashlib.sha256(body).hexdigest(), stderr

    shown = run_process("show", "--archive", str(archive_dir), server.url("/bomb"), preexec_fn=_memory_cap)
    assert shown.returncode == 2 and "Traceback" not in shown.stderr, shown.stderr
    assert shown.stderr.count("\n") == 1 and f"more than {DECODED_LIMIT >> 20} MB" in shown.stderr

    other = capture(archive_dir, server.url("/page"))[1][0]["id"]
    compared = run("diff", "--archive", str(archive_dir), other, lines[0]["id"])
    assert compared.exit_code == 2 and f"more than {DECODED_LIMIT >> 20} MB" in compared.stderr


def test_stacked_and_ordinary_encodings_still_decode() -> None:
    text = "<p>caf\u00e9</p>".encode()
    stacked = brotli.compress(gzip.compress(text))
    assert decode_html(stacked, [("Content-Encoding", "gzip, br")]) == "<p>caf\u00e9</p>"
    assert decode_html(_deflate(text, -15), [("Content-Encoding", "deflate")]) == "<p>caf\u00e9</p>"
    assert decode_html(gzip.compress(text) + gzip.compress(text), [("Content-Encoding", "gzip")]) == (
        "<p>caf\u00e9</p><p>caf\u00e9</p>"
    )


@pytest.mark.parametrize("kind", ["gzip", "br", "gzip, gzip"])
def test_capture_reads_a_bounded_prefix_for_the_canonical_url(kind: str) -> None:
    body = BOMBS[kind]()
    assert decoded_prefix(body, [("Content-Encoding", kind)], 1 << 20) == b"\0" * (1 << 20)
    page = b'<link rel="canonical" href="/story">' + b" " * 100
    assert decoded_prefix(gzip.compress(page), [("Content-Encoding", "gzip")], 40) == page[:40]
