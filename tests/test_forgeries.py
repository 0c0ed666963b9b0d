"""Issue 10's forgeries, each done as an attacker would, then `verify` plain and pinned
(`--pubkey` the published key, `--fingerprint` its published fingerprint) exits 1 naming the
problem. Caught elsewhere, not repeated here: captures removed from the end (test_anchor
`--head`, test_timestamps), a forged record id printed raw (test_house), a manifest citing a
FIFO or a file outside the archive, for verify and export (test_anchor), deeply nested JSON
(test_anchor), a signature stripped after signing began (test_verify, test_robustness)."""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from test_verify import Built, build_archive, capture

from archiver.evidence import keys
from archiver.warc.deflate import gzip_member

from helpers import rewrite_metadata, run

PAGE = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{b}</p></article></body></html>"


@dataclass
class Published:
    """What the archivist published before handing the archive over."""

    pem: Path
    fingerprint: str
    head: str


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    http = HTTPServer(host="127.0.0.1", port=0)
    http.start()
    yield http
    http.clear()
    http.stop()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, server: HTTPServer) -> tuple[Built, Published]:
    built = build_archive(tmp_path_factory.mktemp("pristine") / "archive", server)
    pem = built.root.parent / "published.pem"
    pem.write_text(run("key", "export", "--archive", str(built.root)).stdout)
    head = json.loads(run("head", "--archive", str(built.root), "--json").stdout)["head"]
    trusted = json.loads(run("verify", "--archive", str(built.root), "--json").stdout)["key"]
    return built, Published(pem, trusted["fingerprint"], head)


@pytest.fixture
def archive(pristine: tuple[Built, Published], tmp_path: Path) -> tuple[Built, Published]:
    """A fresh copy of the pristine archive for the attacker."""
    built, published = pristine
    root = tmp_path / "archive"
    shutil.copytree(built.root, root)
    return Built(root, built.ids, built.urls), published


def modes(published: Published) -> list[list[str]]:
    return [[], ["--pubkey", str(published.pem)], ["--fingerprint", published.fingerprint]]


def caught(root: Path, published: Published, needle: str, *targets: str, plain: bool = True) -> None:
    """verify exits 1 with a problem whose message holds `needle`, plain (unless `plain` is
    False: the archive alone cannot tell) and pinned both ways."""
    for mode in modes(published)[0 if plain else 1 :]:
        if targets and mode[:1] == ["--fingerprint"]:
            mode = [*mode, "--pubkey", str(published.pem)]  # a lone file has no key of its own
        result = run("verify", "--archive", str(root), "--json", *mode, *targets)
        assert result.exit_code == 1, (mode, result.output)
        messages = [p["message"] for p in json.loads(result.stdout)["problems"]]
        assert any(needle in m for m in messages), (mode, messages)
        assert "Traceback" not in result.output


def reindex(root: Path) -> None:
    """The attacker rebuilds the catalogue so it agrees with the forged files."""
    run("reindex", "--archive", str(root))


def row_of(root: Path, seq: int) -> dict:
    with sqlite3.connect(root / "index.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM captures WHERE seq = ?", (seq,)).fetchone())


def rewrite_record(root: Path, seq: int, kind: str, old: bytes, new: bytes) -> None:
    """Rewrite the `kind` record (request, response or revisit) of a capture in place of its
    gzip member, the rest of the file intact: the forger's edit of one header or payload."""
    row = row_of(root, seq)
    path, mine = root / row["warc_path"], row["response_record_id"].encode()
    data, pos = path.read_bytes(), 0
    while pos < len(data):
        inflater = zlib.decompressobj(31)
        record = inflater.decompress(data[pos:])
        end = len(data) - len(inflater.unused_data)
        head = record.split(b"\r\n\r\n", 1)[0]
        if f"WARC-Type: {kind}\r\n".encode() in head and mine in head:
            assert old in record, record[:600]
            forged = gzip_member(record.replace(old, new, 1))  # packed as archiver packs
            path.write_bytes(data[:pos] + forged + data[end:])
            return
        pos = end
    raise AssertionError(f"no {kind} record of capture {seq}")


# -- signatures stripped, content rewritten, chain recomputed ------------------------------


def forged_site(server: HTTPServer) -> str:
    """The attacker's copy of the site: the story saying something else."""
    server.expect_request("/forged/story").respond_with_data(
        PAGE.format(t="Story", b="The minister denied it."), content_type="text/html"
    )
    return server.url_for("/forged/story")


@pytest.mark.parametrize(
    "kept, problem",
    [
        ("all of keys/", "capture is not signed although the key was made before it"),
        ("only the public key", "captures checked is signed, so nothing ties them to"),
    ],
)
def test_signatures_stripped_content_rewritten_chain_recomputed_reindexed(
    archive: tuple[Built, Published], server: HTTPServer, tmp_path: Path, kept: str, problem: str
) -> None:
    """The attacker lets archiver itself recompute every digest and the whole chain, unsigned
    (a fresh archive of their forged site), and keeps the victim's keys/ (the key's signed
    word on where signing began included, or not)."""
    built, published = archive
    forged = tmp_path / "forged"
    for _ in range(7):
        capture(forged, forged_site(server))
    shutil.copytree(built.root / "keys", forged / "keys")
    if kept == "only the public key":
        keys.since_path(forged).unlink()
    reindex(forged)
    caught(forged, published, problem)


def test_whole_chain_resigned_with_another_key_and_keys_swapped(
    archive: tuple[Built, Published], server: HTTPServer, tmp_path: Path
) -> None:
    """Everything re-made and signed with the attacker's key: the archive alone cannot tell,
    but plain verify names the key it trusted, and the published key, fingerprint and head
    each catch it."""
    _, published = archive
    forged = tmp_path / "forged"
    assert run("key", "init", "--archive", str(forged)).exit_code == 0
    for _ in range(7):
        capture(forged, forged_site(server))
    plain = run("verify", "--archive", str(forged))
    assert plain.exit_code == 0 and "key trusted: sha256:" in plain.stdout
    assert published.fingerprint not in plain.stdout
    for mode, problem in (
        (["--pubkey", str(published.pem)], "does not verify with --pubkey key (made with another key)"),
        (["--fingerprint", published.fingerprint], f"not the pinned {published.fingerprint}"),
        (["--head", published.head], "the chain was rewritten up to it"),
    ):
        result = run("verify", "--archive", str(forged), *mode)
        assert result.exit_code == 1 and problem in result.stdout, (mode, result.stdout)


# -- capture facts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fact, value",
    [
        ("status", 404),
        ("reason", "Not Found"),
        ("content_type", "application/pdf"),
        ("redirects", [{"url": "http://127.0.0.1/moved", "status": 301, "location": "/story"}]),
        ("fetch_start", "2019-01-01T00:00:00.000000Z"),
        ("fetch_end", "2019-01-01T00:00:09.000000Z"),
        ("captured_at", "2019-01-01T00:00:00.000000Z"),
    ],
)
def test_capture_fact_edited_then_reindexed(
    archive: tuple[Built, Published], fact: str, value: object
) -> None:
    built, published = archive
    rewrite_metadata(built.root, 4, lambda m: m["capture"].update({fact: value}))
    reindex(built.root)
    caught(built.root, published, "capture facts differ from those the manifest signs")
    refused = run("export", "--archive", str(built.root), "-o", str(built.root.parent / "x.wacz"))
    assert refused.exit_code == 2 and "cannot export" in refused.stderr


# -- the extraction cache ------------------------------------------------------------------


def test_a_forged_extraction_cache_in_the_archive_is_never_read(archive: tuple[Built, Published]) -> None:
    """The catalogue once held the extraction cache: a forged `extracts` table handed over
    with the archive changes nothing `show` or `diff` print."""
    built, _ = archive
    with sqlite3.connect(built.root / "index.sqlite3") as db:
        db.execute("CREATE TABLE extracts (key TEXT PRIMARY KEY, article TEXT NOT NULL)")
        for row in db.execute("SELECT payload_sha256 FROM captures").fetchall():
            forged = {"headline": "Forged headline", "paragraphs": ["Forged body."]}
            db.execute("INSERT OR REPLACE INTO extracts VALUES (?, ?)", (row[0], json.dumps(forged)))
    shown = run("show", "--archive", str(built.root), built.urls["story"])
    diffed = run("diff", "--archive", str(built.root), built.urls["story"])
    assert shown.exit_code == 0 and "Story" in shown.stdout
    assert "Forged" not in shown.stdout + diffed.stdout and "Edited!" in diffed.stdout


# -- WARC headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "seq, kind, old, new",
    [
        (4, "response", b"WARC-Date: 20", b"WARC-Date: 19"),
        (4, "request", b"WARC-Target-URI: http://127.0.0.1", b"WARC-Target-URI: http://127.0.0.2"),
        (2, "revisit", b"WARC-Refers-To-Date: 20", b"WARC-Refers-To-Date: 19"),
        (
            2,
            "revisit",
            b"WARC-Refers-To-Target-URI: http://1",
            b"WARC-Refers-To-Target-URI: http://2",
        ),
        (2, "revisit", b"WARC-Refers-To: <urn:uuid:", b"WARC-Refers-To: <urn:uuid:0"),
    ],
    ids=["response-date", "request-target-uri", "revisit-refers-to-date", "refers-to-uri", "refers-to"],
)
def test_warc_header_rewritten(
    archive: tuple[Built, Published], seq: int, kind: str, old: bytes, new: bytes
) -> None:
    built, published = archive
    rewrite_record(built.root, seq, kind, old, new)
    reindex(built.root)
    caught(built.root, published, "bytes (WARC headers included) differs from the manifest")
    lone = built.root / row_of(built.root, seq)["warc_path"]
    caught(built.root.parent / "none", published, "differs from the manifest", str(lone))
    refused = run("export", "--archive", str(built.root), "-o", str(built.root.parent / "x.wacz"))
    assert refused.exit_code == 2 and "cannot export" in refused.stderr  # never packaged as evidence


# -- a lone capture file -------------------------------------------------------------------


def records_of(path: Path) -> list[bytes]:
    return [b"WARC/1.1\r\n" + r for r in gzip.decompress(path.read_bytes()).split(b"WARC/1.1\r\n")[1:]]


def rewritten(records: list[bytes], body: bytes | None = None, metadata: bytes | None = None) -> bytes:
    """Records re-serialised by warcio with fresh digests: the response's HTTP body replaced by
    `body`, the metadata record's JSON by `metadata` (dropped when it is b"")."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True, warc_version="WARC/1.1")
    for record in ArchiveIterator(io.BytesIO(b"".join(records))):
        kind = record.rec_type
        content = record.content_stream().read()
        if kind == "metadata" and metadata is not None:
            if not metadata:
                continue
            content = metadata
        if kind == "response" and body is not None:
            content = body
        headers = [
            (k, v) for k, v in record.rec_headers.headers if "Digest" not in k and k != "Content-Length"
        ]
        rebuilt = writer.create_warc_record(
            record.rec_headers.get_header("WARC-Target-URI"),
            kind,
            payload=io.BytesIO(content),
            length=len(content),
            http_headers=record.http_headers if kind in ("request", "response") else None,
            warc_headers_dict=dict(headers),
        )
        writer.write_record(rebuilt)
    return out.getvalue()


@pytest.mark.parametrize("metadata", [b"", b'{"manifest": garbled'], ids=["removed", "garbled"])
def test_lone_file_payload_forged_and_metadata_removed_or_garbled(
    archive: tuple[Built, Published], tmp_path: Path, metadata: bytes
) -> None:
    built, published = archive
    forged = tmp_path / "forged.warc.gz"
    original = records_of(built.root / row_of(built.root, 4)["warc_path"])
    forged.write_bytes(
        rewritten(original, body=PAGE.format(t="Story", b="Denied.").encode(), metadata=metadata)
    )
    caught(tmp_path / "none", published, "signed by the --pubkey key", str(forged), plain=False)


def test_lone_file_with_its_digest_headers_removed_claims_no_digest_holds(
    archive: tuple[Built, Published], tmp_path: Path
) -> None:
    """Its signed manifest still pins every record's bytes; no "digests recompute" row counts
    records that carry none (without the manifest too: test_anchor, "unverifiable")."""
    built, published = archive
    bare = tmp_path / "bare.warc"
    records = records_of(built.root / row_of(built.root, 4)["warc_path"])
    bare.write_bytes(b"".join(re.sub(rb"WARC-(Block|Payload)-Digest: [^\r]*\r\n", b"", r) for r in records))
    caught(tmp_path / "none", published, "differs from the manifest", str(bare))
    plain = json.loads(run("verify", "--archive", str(tmp_path / "none"), "--json", str(bare)).stdout)
    assert "digests" not in {c["check"] for c in plain["checks"]}  # no digest said to recompute


# -- verify reports every difference -------------------------------------------------------


def test_two_forgeries_in_one_file_are_both_reported(archive: tuple[Built, Published]) -> None:
    built, published = archive
    rewrite_record(built.root, 4, "request", b"WARC-Date: 20", b"WARC-Date: 19")
    rewrite_record(built.root, 4, "response", b"Edited!", b"Denied!")
    for mode in modes(published):
        result = run("verify", "--archive", str(built.root), "--json", *mode)
        said = " ".join(f"{p['record']} {p['message']}" for p in json.loads(result.stdout)["problems"])
        assert result.exit_code == 1, said
        assert "request <urn:" in said and "response <urn:" in said, said


# -- damaged manifests ---------------------------------------------------------------------


DAMAGE = {
    "manifest a list": lambda m: m.update(manifest=[1, 2]),
    "records not a list": lambda m: m["manifest"].update(records="all"),
    "a record a string": lambda m: m["manifest"].update(records=["x"]),
    "record digest a number": lambda m: m["manifest"]["records"][0].update(sha256=7),
    "seq a string": lambda m: m["manifest"].update(seq="4"),
    "seq a boolean": lambda m: m["manifest"].update(seq=True),
    "prev a list": lambda m: m["manifest"].update(prev=["a"]),
    "capture facts without an id": lambda m: m["capture"].pop("id"),
    "signature a list": lambda m: m.update(signature=["sig"]),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_manifest_is_a_problem_not_a_crash(archive: tuple[Built, Published], damage: str) -> None:
    built, published = archive
    rewrite_metadata(built.root, 4, DAMAGE[damage])
    for mode in modes(published):
        result = run("verify", "--archive", str(built.root), "--json", *mode)
        assert result.exit_code == 1 and "Traceback" not in result.output, (mode, result.output)
        assert json.loads(result.stdout)["problems"]
    lone = built.root / row_of(built.root, 4)["warc_path"]
    result = run(
        "verify", "--archive", str(built.root.parent / "none"), "--pubkey", str(published.pem), str(lone)
    )
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_an_import_of_a_warc_without_digests_says_it_signs_only_what_it_received(
    archive: tuple[Built, Published], tmp_path: Path
) -> None:
    built, _ = archive
    records = records_of(built.root / row_of(built.root, 4)["warc_path"])
    bare = tmp_path / "bare.warc"
    bare.write_bytes(
        b"".join(
            re.sub(rb"WARC-(Block|Payload)-Digest: [^\r]*\r\n", b"", r)
            for r in records
            if b"WARC-Type: metadata" not in r
        )
    )
    mine = tmp_path / "mine"
    assert run("key", "init", "--archive", str(mine)).exit_code == 0
    assert run("import", "--archive", str(mine), str(bare)).exit_code == 0
    row = row_of(mine, 1)
    member = gzip.decompress((mine / row["warc_path"]).read_bytes()[row["metadata_offset"] :])
    metadata = json.loads(member.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n\r\n", 1)[0])
    received = {r.split(b"WARC-Record-ID: ", 1)[1].split(b"\r\n", 1)[0].decode() for r in records[1:3]}
    assert set(metadata["capture"]["imported"]["without_digests"]) >= received
    assert "signature" in metadata and run("verify", "--archive", str(mine)).exit_code == 0


# -- no false alarm ------------------------------------------------------------------------


def clean(root: Path, published: Published) -> None:
    for mode in [*modes(published), ["--head", published.head]]:
        result = run("verify", "--archive", str(root), "--json", *mode)
        assert result.exit_code == 0, (mode, json.loads(result.stdout)["problems"])


def test_no_false_alarm_after_reindex_copy_move_tar_rsync_export_import(
    archive: tuple[Built, Published], tmp_path: Path
) -> None:
    import subprocess

    built, published = archive
    assert run("reindex", "--archive", str(built.root)).exit_code == 0
    clean(built.root, published)
    copied = tmp_path / "copied"
    shutil.copytree(built.root, copied)
    clean(copied, published)
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(str(copied), moved)
    clean(moved, published)
    tarball, untarred = tmp_path / "archive.tar", tmp_path / "untarred"
    untarred.mkdir()
    subprocess.run(["tar", "-cf", str(tarball), "-C", str(moved.parent), "moved"], check=True)
    subprocess.run(["tar", "-xf", str(tarball), "-C", str(untarred)], check=True)
    clean(untarred / "moved", published)
    if shutil.which("rsync"):
        synced = tmp_path / "synced"
        subprocess.run(["rsync", "-a", f"{moved}/", f"{synced}/"], check=True)
        clean(synced, published)
    package, fresh = tmp_path / "all.wacz", tmp_path / "fresh"
    assert run("export", "--archive", str(moved), "-o", str(package)).exit_code == 0
    for mode in modes(published)[:2]:
        result = run("verify", "--archive", str(tmp_path / "none"), *mode, str(package))
        assert result.exit_code == 0, (mode, result.stdout)
    assert run("import", "--archive", str(fresh), str(package)).exit_code == 0
    assert run("verify", "--archive", str(fresh)).exit_code == 0
