"""`archiver head` and `verify --head`: a published chain head catches what the archive alone
cannot, captures removed from the end and a chain rewritten up to the head."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from helpers import capture_stories, rewrite_metadata, run

PAGE = (
    "<html><head><title>{t}</title></head><body><article><h1>{t}</h1>"
    "<p>{t} was said today.</p></article></body></html>"
)


@pytest.fixture
def archive(httpserver: HTTPServer, tmp_path: Path) -> Path:
    return capture_stories(tmp_path / "archive", httpserver, PAGE)


def head_of(root: Path) -> dict:
    result = run("head", "--archive", str(root), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_head_verifies_while_the_chain_holds_it(archive: Path) -> None:
    head = head_of(archive)
    assert head["seq"] == 3 and head["head"] == f"3:{head['manifest_sha256']}"
    plain = run("head", "--archive", str(archive))
    assert plain.stdout.startswith(head["head"] + "  (capture ")
    result = run("verify", "--archive", str(archive), "--head", head["head"], "--json")
    assert result.exit_code == 0
    checks = {c["check"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["anchor"]["checked"] == 1 and checks["anchor"]["problems"] == 0


def test_captures_removed_from_the_end_are_caught(archive: Path) -> None:
    head = head_of(archive)
    newest = next(p for p in (archive / "warcs").rglob("*.warc.gz") if head["capture"] in p.name)
    newest.unlink()
    assert run("reindex", "--archive", str(archive)).exit_code == 0
    assert run("verify", "--archive", str(archive)).exit_code == 0  # the archive alone cannot tell
    result = run("verify", "--archive", str(archive), "--head", head["head"])
    assert result.exit_code == 1 and "the chain ends at seq 2" in result.stdout


def test_a_chain_rewritten_up_to_the_head_is_caught(archive: Path) -> None:
    head = head_of(archive)
    rewrite_metadata(archive, 3, lambda m: m["manifest"].update(captured_at="2019-01-01T00:00:00.000000Z"))
    result = run("verify", "--archive", str(archive), "--head", head["head"])
    assert result.exit_code == 1 and "the chain was rewritten up to it" in result.stdout


def test_a_malformed_head_is_a_one_line_error(archive: Path) -> None:
    result = run("verify", "--archive", str(archive), "--head", "three:abc")
    assert result.exit_code == 2 and result.stderr.startswith("archiver: error: --head wants SEQ:DIGEST")


def test_the_trusted_key_is_named_and_can_be_pinned(httpserver: HTTPServer, tmp_path: Path) -> None:
    root = tmp_path / "signed"
    made = run("key", "init", "--archive", str(root))
    printed = next(w for w in made.stdout.split() if w.startswith("sha256:"))
    httpserver.expect_request("/s").respond_with_data(
        PAGE.format(t="A signed story"), content_type="text/html"
    )
    assert run("capture", "--archive", str(root), httpserver.url_for("/s")).exit_code == 0
    result = run("verify", "--archive", str(root))
    assert result.exit_code == 0 and f"key trusted: {printed} (the archive key)" in result.stdout
    assert json.loads(run("verify", "--archive", str(root), "--json").stdout)["key"]["fingerprint"] == printed
    pinned = run("verify", "--archive", str(root), "--fingerprint", printed.upper().replace("SHA256:", ""))
    assert pinned.exit_code == 0
    other = "sha256:" + "ab" * 32
    wrong = run("verify", "--archive", str(root), "--fingerprint", other)
    assert wrong.exit_code == 1 and f"not the pinned {other}" in wrong.stdout
    bad = run("verify", "--archive", str(root), "--fingerprint", "12ab")
    assert bad.exit_code == 2 and "64 hex digits" in bad.stderr


def _rewrite_member(path: Path, offset: int, old: bytes, new: bytes) -> None:
    """Rewrite one record of a capture file in place of its gzip member (a forger's edit)."""
    import gzip
    import zlib

    data = path.read_bytes()
    inflater = zlib.decompressobj(31)
    record = inflater.decompress(data[offset:])
    end = len(data) - len(inflater.unused_data)
    assert old in record
    from archiver.warc.deflate import gzip_member

    path.write_bytes(data[:offset] + gzip_member(record.replace(old, new, 1)) + data[end:])  # packed as ours
    assert gzip.decompress(path.read_bytes())


def test_rewritten_capture_facts_are_caught_after_reindex(archive: Path) -> None:
    rewrite_metadata(archive, 2, lambda m: m["capture"].update(status=404, reason="Not Found"))
    assert run("reindex", "--archive", str(archive)).exit_code == 0
    result = run("verify", "--archive", str(archive), "--json")
    messages = [p["message"] for p in json.loads(result.stdout)["problems"]]
    assert result.exit_code == 1 and any(
        "capture facts differ from those the manifest signs" in m for m in messages
    )


def test_a_rewritten_warc_date_is_caught_in_the_archive_and_alone(archive: Path) -> None:
    import sqlite3

    row = (
        sqlite3.connect(archive / "index.sqlite3")
        .execute("SELECT warc_path, response_offset FROM captures WHERE seq = 3")
        .fetchone()
    )
    path = archive / row[0]
    _rewrite_member(path, row[1], b"WARC-Date: 20", b"WARC-Date: 19")  # the capture now dates 19xx
    assert run("reindex", "--archive", str(archive)).exit_code == 0
    inside = run("verify", "--archive", str(archive))
    assert (
        inside.exit_code == 1 and "bytes (WARC headers included) differs from the manifest" in inside.stdout
    )
    alone = run("verify", "--archive", str(archive.parent / "none"), str(path))
    assert alone.exit_code == 1 and "bytes (WARC headers included) differs" in alone.stdout


def test_a_manifest_citing_a_fifo_or_a_file_outside_is_refused_not_read(
    archive: Path, tmp_path: Path
) -> None:
    """verify never blocks on a FIFO and never reads outside the archive; export neither."""
    import os

    fifo = archive / "sources" / "x" / "pipe.warc.gz"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    rewrite_metadata(
        archive, 1, lambda m: m["manifest"].update(source={"file": "sources/x/pipe.warc.gz", "sha256": "0"})
    )
    rewrite_metadata(
        archive, 2, lambda m: m["manifest"].update(source={"file": "../../../etc/passwd", "sha256": "0"})
    )
    result = run("verify", "--archive", str(archive), "--json")
    messages = [p["message"] for p in json.loads(result.stdout)["problems"]]
    assert result.exit_code == 1
    assert any("outside sources/" in m for m in messages) and any("not a regular file" in m for m in messages)
    exported = run("export", "--archive", str(archive), "-o", str(tmp_path / "x.wacz"))
    assert exported.exit_code == 2 and len(exported.stderr.strip().splitlines()) == 1


def test_deeply_nested_json_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    import io

    from warcio.warcwriter import WARCWriter

    nested = b'{"manifest": ' + b"[" * 60000 + b"]" * 60000 + b', "capture": {}}'
    path = tmp_path / "nested.warc.gz"
    with open(path, "wb") as out:
        writer = WARCWriter(out, gzip=True)
        record = writer.create_warc_record(
            "urn:x",
            "metadata",
            payload=io.BytesIO(nested),
            length=len(nested),
            warc_content_type="application/json",
        )
        writer.write_record(record)
    result = run("verify", "--archive", str(tmp_path / "none"), str(path))
    assert result.exit_code in (0, 1) and "Traceback" not in result.output


def test_a_warc_without_digests_is_unverifiable_and_one_without_a_manifest_unsigned(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    import gzip
    import re

    root = tmp_path / "signed"
    run("key", "init", "--archive", str(root))
    httpserver.expect_request("/x").respond_with_data(PAGE.format(t="A story told"), content_type="text/html")
    run("capture", "--archive", str(root), httpserver.url_for("/x"))
    capture = next((root / "warcs").rglob("*.warc.gz"))
    pem = tmp_path / "archive.pem"
    pem.write_text(run("key", "export", "--archive", str(root)).stdout)
    records = gzip.decompress(capture.read_bytes()).split(b"WARC/1.1\r\n")[1:]
    bare = b"".join(
        b"WARC/1.1\r\n" + re.sub(rb"WARC-(Block|Payload)-Digest: [^\r]*\r\n", b"", r)
        for r in records
        if b"WARC-Type: metadata" not in r
    )
    stripped = tmp_path / "stripped.warc"
    stripped.write_bytes(bare)  # digests and the signed metadata record gone
    plain = run("verify", "--archive", str(tmp_path / "none"), str(stripped))
    assert plain.exit_code == 1 and "unverifiable" in plain.stdout
    pinned = run("verify", "--archive", str(tmp_path / "none"), "--pubkey", str(pem), str(stripped))
    assert pinned.exit_code == 1 and "nothing in the file is signed by the --pubkey key" in pinned.stdout
    whole = run("verify", "--archive", str(tmp_path / "none"), "--pubkey", str(pem), str(capture))
    assert whole.exit_code == 0, whole.stdout
