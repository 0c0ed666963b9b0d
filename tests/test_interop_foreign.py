"""Foreign archives in: WARCs written by warcio (as warcprox, pywb and Heritrix write them),
wget and by hand, with the features WARC 1.0/1.1 allow and other tools use."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import subprocess
from pathlib import Path

import pytest
from interop import assert_standard_warc
from pytest_httpserver import HTTPServer
from test_import import WGET, import_json, state
from test_verify import build_archive
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.warc.scanner import scan_warc

from helpers import run

ARTICLE = (
    "<html><head><title>Harbour plan</title></head><body><article><h1>Harbour plan</h1>"
    + "".join(f"<p>Paragraph {n} says the council approved part {n} of the plan.</p>" for n in range(12))
    + "</article></body></html>"
).encode()
URL = "http://news.example/story"


def http_head(content_type: str | None = "text/html", status: str = "200 OK") -> StatusAndHeaders:
    headers = [("Content-Type", content_type)] if content_type else []
    return StatusAndHeaders(status, headers, protocol="HTTP/1.1")


class Foreign:
    """A WARC written with warcio's own writer: SHA-1 digests in base32, like warcprox."""

    def __init__(self, path: Path, gzip: bool = True) -> None:
        self.path = path
        self.buffer = io.BytesIO()
        self.writer = WARCWriter(self.buffer, gzip=gzip)

    def response(self, url: str, body: bytes, date: str, head: StatusAndHeaders | None = None, **extra: str):
        return self._write(
            url, "response", body, {"WARC-Date": date, **extra}, http_headers=head or http_head()
        )

    def resource(self, url: str, body: bytes, date: str, content_type: str):
        return self._write(url, "resource", body, {"WARC-Date": date}, warc_content_type=content_type)

    def _write(self, url: str, kind: str, body: bytes, headers: dict[str, str], **options):
        record = self.writer.create_warc_record(
            url, kind, payload=io.BytesIO(body), length=len(body), warc_headers_dict=headers, **options
        )
        self.writer.write_record(record)
        return record

    def revisit(self, url: str, original, date: str, refers_to: bool, profile: str | None = None) -> None:
        """An identical-payload revisit, with WARC-Refers-To (warcprox) or without (pywb,
        Heritrix, warcio's create_revisit_record)."""
        headers = original.rec_headers
        record = self.writer.create_revisit_record(
            url,
            headers.get_header("WARC-Payload-Digest"),
            headers.get_header("WARC-Target-URI"),
            headers.get_header("WARC-Date"),
            http_headers=None if profile == "headless" else http_head(),
            warc_headers_dict={"WARC-Date": date},
        )
        if refers_to:
            record.rec_headers.add_header("WARC-Refers-To", headers.get_header("WARC-Record-ID"))
        if profile == "no date":  # early Heritrix: the digest alone names the original
            record.rec_headers.remove_header("WARC-Refers-To-Date")
        elif profile == "bracketed":  # wget's form of a URI
            record.rec_headers.replace_header("WARC-Refers-To-Target-URI", f"<{url}>")
        elif profile and profile.startswith("http"):
            record.rec_headers.replace_header("WARC-Profile", profile)
        self.writer.write_record(record)

    def save(self) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_bytes(self.buffer.getvalue())
        return self.path


def verify_ok(root: Path) -> dict:
    result = run("verify", "--archive", str(root), "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"], report["problems"]
    return report


@pytest.mark.parametrize(
    ("refers_to", "profile"),
    [
        (True, None),
        (False, None),
        (False, "no date"),
        (False, "headless"),  # no HTTP headers kept: it answers as its original did
        (False, "bracketed"),
        (True, "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
        (True, "http://netpreserve.org/warc/1.1/revisits/identical-payload-digest"),  # archiver < 0.2
    ],
    ids=["warcprox", "no-refers-to", "no-date", "headless", "bracketed", "warc-1.1", "old-archiver"],
)
def test_sha1_revisits_link_and_verify(refers_to: bool, profile: str | None, tmp_path: Path) -> None:
    foreign = Foreign(tmp_path / "dedup.warc.gz")
    original = foreign.response(URL, ARTICLE, "2024-03-01T10:00:00Z")
    foreign.revisit(URL, original, "2024-03-02T10:00:00Z", refers_to, profile)
    root = tmp_path / "archive"
    [result] = import_json(root, foreign.save())
    assert [c["revisit"] for c in result["captures"]] == [False, True]
    assert result["captures"][0]["payload_sha256"] == result["captures"][1]["payload_sha256"]
    assert [c["status"] for c in result["captures"]] == [200, 200]
    assert verify_ok(root)["problems"] == []
    shown = run("show", "--archive", str(root), "--json", result["captures"][1]["id"])
    assert shown.exit_code == 0 and "part 11 of the plan" in shown.stdout
    diffed = run("diff", "--archive", str(root), URL)
    assert diffed.exit_code == 0, diffed.output


def test_revisit_whose_digest_is_not_the_originals_is_not_linked(tmp_path: Path) -> None:
    foreign = Foreign(tmp_path / "dedup.warc.gz")
    foreign.response(URL, ARTICLE, "2024-03-01T10:00:00Z")
    other = Foreign(tmp_path / "scratch.warc.gz").response(URL, b"<html>other</html>", "2024-03-01T10:00:00Z")
    foreign.revisit(URL, other, "2024-03-02T10:00:00Z", refers_to=False)  # same URI and date
    [result] = import_json(tmp_path / "archive", foreign.save())
    assert [c["revisit"] for c in result["captures"]] == [False]
    assert result["skipped_already_imported"] == 1
    verify_ok(tmp_path / "archive")


@pytest.mark.parametrize("together", [True, False], ids=["one-import", "archive-first"])
def test_dupes_file_links_to_originals_in_another_file(together: bool, tmp_path: Path) -> None:
    """pywb's dupes.warc.gz: revisits in one file, their originals in another."""
    crawl = Foreign(tmp_path / "crawl.warc.gz")
    original = crawl.response(URL, ARTICLE, "2024-03-01T10:00:00Z")
    dupes = Foreign(tmp_path / "dupes.warc.gz")
    dupes.revisit(URL, original, "2024-03-05T10:00:00Z", refers_to=False)
    root = tmp_path / "archive"
    if together:
        results = import_json(root, dupes.save(), crawl.save())  # the revisits' file first
        assert [len(r["captures"]) for r in results] == [1, 1]
    else:
        import_json(root, crawl.save())
        [result] = import_json(root, dupes.save())
        assert [c["revisit"] for c in result["captures"]] == [True]
    verify_ok(root)
    history = json.loads(run("history", "--archive", str(root), "--json", URL).stdout)["captures"]
    assert [c["change"] for c in history] == ["first", "unchanged"]


def test_truncated_record_is_a_capture_fact_and_diffs_in_one_line(tmp_path: Path) -> None:
    foreign = Foreign(tmp_path / "cut.warc.gz")
    foreign.response(URL, ARTICLE, "2024-03-01T10:00:00Z")
    foreign.response(URL, ARTICLE[:400], "2024-03-02T10:00:00Z", **{"WARC-Truncated": "length"})
    root = tmp_path / "archive"
    [result] = import_json(root, foreign.save())
    assert len(result["captures"]) == 2
    verify_ok(root)
    metadata = [
        json.loads(r.content or b"")
        for path in dict.fromkeys(c["warc_path"] for c in result["captures"])  # one rolling file
        for r in scan_warc(root / path).records
        if r.type == "metadata"
    ]
    assert [m["capture"].get("truncated") for m in metadata] == [None, "length"]
    diffed = run("diff", "--archive", str(root), URL)
    assert diffed.exit_code == 1
    assert "truncated" in diffed.stdout and "removed" not in diffed.stdout.lower()
    report = json.loads(run("diff", "--archive", str(root), "--json", URL).stdout)
    assert report["changes"] == [] and report["wall"] == "truncated record"
    later = Foreign(tmp_path / "later.warc.gz")  # a whole capture after it is compared with the first
    later.response(URL, ARTICLE.replace(b"part 11 of", b"part eleven of"), "2024-03-03T10:00:00Z")
    import_json(root, later.save())
    report = json.loads(run("diff", "--archive", str(root), "--json", URL).stdout)
    assert report["before"]["id"] == result["captures"][0]["id"] and report["wall"] is None
    assert [c["kind"] for c in report["changes"]] == ["modified"] and "eleven" in report["changes"][0][
        "after"
    ]


def test_resource_records_and_responses_without_content_type_are_imported(tmp_path: Path) -> None:
    foreign = Foreign(tmp_path / "mixed.warc.gz")
    foreign.resource(
        "http://news.example/resource", ARTICLE, "2024-03-01T10:00:00Z", "text/html; charset=utf-8"
    )
    foreign.response("http://news.example/bare", ARTICLE, "2024-03-01T10:00:01Z", head=http_head(None))
    foreign.response(
        "http://news.example/image", b"\x89PNG....", "2024-03-01T10:00:02Z", head=http_head(None)
    )
    foreign.resource("file:///home/draft.html", ARTICLE, "2024-03-01T10:00:03Z", "text/html")  # no web page
    root = tmp_path / "archive"
    [result] = import_json(root, foreign.save())
    assert sorted(c["url"] for c in result["captures"]) == [
        "http://news.example/bare",
        "http://news.example/resource",
    ]
    verify_ok(root)
    for url in ("http://news.example/bare", "http://news.example/resource"):
        shown = run("show", "--archive", str(root), url)
        assert shown.exit_code == 0 and "Paragraph 11" in shown.stdout


def record(
    headers: list[str], block: bytes, version: str = "WARC/1.0", trailer: bytes = b"\r\n\r\n"
) -> bytes:
    """One WARC record written by hand, its header lines as given (folding, case)."""
    digest = "sha256:" + hashlib.sha256(block).hexdigest()
    lines = [version, *headers, f"WARC-Block-Digest: {digest}", f"Content-Length: {len(block)}"]
    return "\r\n".join(lines).encode() + b"\r\n\r\n" + block + trailer


def test_folded_headers_and_lowercase_version_are_read(tmp_path: Path) -> None:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + ARTICLE
    data = record(
        [
            "WARC-Type: response",
            "WARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-000000000001>",
            "WARC-Date: 2024-03-01T10:00:00Z",
            "WARC-Target-URI:",
            "  http://news.example/folded",
            "Content-Type: application/http;",
            "\tmsgtype=response",
        ],
        http,
        version="warc/1.0",
    )
    given = tmp_path / "folded.warc"
    given.write_bytes(data)
    root = tmp_path / "archive"
    [result] = import_json(root, given)
    assert [c["url"] for c in result["captures"]] == ["http://news.example/folded"]
    verify_ok(root)
    assert run("show", "--archive", str(root), "http://news.example/folded").exit_code == 0


def test_records_with_short_trailers_are_read_and_copied_with_crlf_crlf(tmp_path: Path) -> None:
    """pywb's sample WARCs: a record followed by one CRLF, or by none before the next one."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + ARTICLE
    data = record(["WARC-Type: warcinfo", "WARC-Record-ID: <urn:uuid:1>"], b"software: old\r\n", trailer=b"")
    data += record(
        [
            "WARC-Type: response",
            "WARC-Record-ID: <urn:uuid:2>",
            "WARC-Date: 2014-01-03T03:03:41Z",
            "WARC-Target-URI: http://news.example/short",
            "Content-Type: application/http; msgtype=response",
        ],
        http,
        trailer=b"\r\n",
    )
    data += record(["WARC-Type: metadata", "WARC-Record-ID: <urn:uuid:3>"], b"via: x", trailer=b"\r\n")
    given = tmp_path / "short.warc"
    given.write_bytes(data)
    root = tmp_path / "archive"
    [result] = import_json(root, given)
    assert result["records"] == 3 and result["recompressed"]
    verify_ok(root)
    copied = root / result["captures"][0]["warc_path"]
    assert [r.trailer for r in scan_warc(copied).records] == [4, 4, 4]  # warcinfo, response, metadata
    assert_standard_warc(copied, tmp_path)
    assert gzip.decompress((root / result["source"]).read_bytes()) == data  # the source kept as given


@pytest.mark.parametrize("compressed", [False, True])
def test_arc_files_are_refused_in_one_line(compressed: bool, tmp_path: Path) -> None:
    arc = (
        b"filedesc://crawl.arc 0.0.0.0 20240301100000 text/plain 76\n1 0 Internet Archive\n"
        b"URL IP-address Archive-date Content-type Archive-length\n\n"
    )
    for name in ("crawl.arc", "crawl.warc"):  # by its name, and by what it holds
        given = tmp_path / (name + (".gz" if compressed else ""))
        given.write_bytes(gzip.compress(arc) if compressed else arc)
        result = run("import", "--archive", str(tmp_path / "archive"), str(given))
        assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
        assert "an ARC file, not a WARC file" in result.stderr
    assert not (tmp_path / "archive").exists()


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_bad_record_refuses_the_file_and_leaves_no_debris(
    where: str, httpserver: HTTPServer, tmp_path: Path
) -> None:
    root = tmp_path / "archive"
    httpserver.expect_request("/own").respond_with_data(ARTICLE, content_type="text/html")
    assert run("capture", "--archive", str(root), httpserver.url_for("/own")).exit_code == 0
    before = state(root)
    foreign = Foreign(tmp_path / "bad.warc.gz")
    pages = [(f"http://news.example/{n}", f"2024-03-01T10:00:0{n}Z") for n in range(3)]
    bad = ("http://[broken/", "2024-03-01T10:00:05Z")
    for url, date in [bad, *pages] if where == "first" else [*pages, bad]:
        foreign.response(url, ARTICLE, date)
    result = run("import", "--archive", str(root), str(foreign.save()))
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.output
    assert "WARC-Target-URI" in result.stderr and "bad.warc.gz" in result.stderr
    assert state(root) == before
    leftovers = [p for p in root.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    assert not leftovers and not (root / "sources").exists()
    verify_ok(root)
    fixed = Foreign(tmp_path / "fixed.warc.gz")
    for url, date in pages:
        fixed.response(url, ARTICLE, date)
    [again] = import_json(root, fixed.save())
    assert len(again["captures"]) == 3
    verify_ok(root)


def test_export_with_404_204_and_pdf_imports_back_whole(httpserver: HTTPServer, tmp_path: Path) -> None:
    root = tmp_path / "archive"
    built = build_archive(root, httpserver)  # a 404 among them
    httpserver.expect_request("/empty").respond_with_data("", status=204)
    httpserver.expect_request("/report.pdf").respond_with_data(
        b"%PDF-1.4 ...", content_type="application/pdf"
    )
    for path in ("/empty", "/report.pdf"):
        assert run("capture", "--archive", str(root), httpserver.url_for(path)).exit_code == 0
    package = tmp_path / "all.wacz"
    assert run("export", "--archive", str(root), "-o", str(package)).exit_code == 0
    second = tmp_path / "second"
    results = import_json(second, package)
    captures = [c for r in results for c in r["captures"]]
    assert len(captures) == len(built.ids) + 2
    assert sorted(c["status"] for c in captures) == sorted([200, 200, 200, 200, 200, 200, 404, 204, 200])
    verify_ok(second)


@pytest.mark.skipif(WGET is None, reason="wget is not installed")
def test_diff_of_two_wget_captures_of_a_redirected_article(httpserver: HTTPServer, tmp_path: Path) -> None:
    """Servers answer a redirect with an HTML page of its own: a hop, not the article."""
    moved = b"<html><body><h1>Moved</h1><p>This story has moved.</p></body></html>"
    httpserver.expect_request("/old").respond_with_data(
        moved, status=301, headers={"Location": "/new"}, content_type="text/html"
    )
    files = []
    for n, text in enumerate((ARTICLE, ARTICLE.replace(b"part 3 of", b"part three of"))):
        httpserver.expect_oneshot_request("/new").respond_with_data(text, content_type="text/html")
        folder = tmp_path / f"crawl{n}"
        folder.mkdir()
        command = [
            WGET,
            "-q",
            f"--warc-file={folder / f'crawl{n}'}",
            "-O",
            "/dev/null",
            httpserver.url_for("/old"),
        ]
        subprocess.run(command, check=True, timeout=60, cwd=folder)
        files.append(folder / f"crawl{n}.warc.gz")
    result = run("diff", "--json", *map(str, files))
    assert result.exit_code == 1, result.output
    changes = json.loads(result.stdout)["changes"]
    assert len(changes) == 1 and "three" in changes[0]["after"]
    root = tmp_path / "archive"
    imported = [c for path in files for c in import_json(root, path)[0]["captures"]]
    assert [c["url"] for c in imported] == [httpserver.url_for("/new")] * 2  # the hop is no page
    records = scan_warc(root / imported[0]["warc_path"]).records
    assert [r.type for r in records] == ["warcinfo", "request", "response", "request", "response", "metadata"]
    hop = json.loads(records[-1].content or b"")["capture"]["redirects"]
    assert hop == [{"url": httpserver.url_for("/old"), "status": 301, "location": "/new"}]
    result = run("diff", "--archive", str(root), "--json", httpserver.url_for("/new"))
    assert result.exit_code == 1 and len(json.loads(result.stdout)["changes"]) == 1
