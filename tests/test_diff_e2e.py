"""End to end: real corpus pages, edited and churned, served on 127.0.0.1, captured and compared
through the CLI exactly as a user runs it (``archiver capture`` then ``archiver diff``).

The pairs come from ``benchmarks/corpus_pairs.py`` (one injected edit of each kind combined with
churn outside the article; noise-only pairs with churn outside or inside the body). The pages
live in the shared corpus (``../shared/corpus`` or ``$ARCHIVER_CORPUS``); without it every test
here is skipped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from click.testing import Result
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from helpers import CORPUS, ROOT, run

sys.path.insert(0, str(ROOT / "benchmarks"))

import corpus_pairs as cp

pytestmark = pytest.mark.skipif(
    not (CORPUS / "manifest.json").is_file(),
    reason=f"shared corpus of real news pages not found at {CORPUS} (set $ARCHIVER_CORPUS)",
)

# A fixed subset: the first two pages of the largest source (aeb) and the first page of every
# other source on which every edit kind can be injected (manifest order, seed 0).
PAGES = (
    "aeb/www.nytimes.com__702d1da63b8e064c.html",
    "aeb/www.latimes.com__8634d1211c3f2b73.html",
    "readability/bbc-1.html",
    "trafilatura/independent.co.uk.penalty.html",
    "newspaper4k/cnn_001.html",
    "newsdiffs/nyt_2018-05-16_mueller-trump-indictment.html",
)
CONSENT_WALL = """<!DOCTYPE html><html><head><title>Before you continue</title></head><body>
<div class="consent"><h1>We value your privacy</h1>
<p>We and our partners use cookies and similar technologies to store and access information on
your device. Click "Accept all" to consent, or manage your privacy settings.</p>
<button>Accept all</button> <button>Reject all</button></div></body></html>"""


@cache
def page_pairs(page: str) -> cp.PagePairs:
    built = cp.build_page(CORPUS, page)
    assert not isinstance(built, str), f"{page}: {built}"
    return built


def pair(page: str, kind: str) -> cp.Pair:
    built = page_pairs(page)
    found = [p for p in built.pairs if p.kind == kind]
    assert found, f"{page}: {kind} not injected ({built.skipped.get(kind)})"
    return found[0]


class Site:
    """One pytest-httpserver on 127.0.0.1 serving, per path, whatever version is current."""

    def __init__(self, server: HTTPServer) -> None:
        self.server = server
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        server.expect_request(re.compile(r"^/")).respond_with_handler(self._handle)  # any path

    def _handle(self, request: Request) -> Response:
        status, content_type, body = self.pages.get(request.path, (404, "text/plain", b"none"))
        return Response(body, status=status, content_type=content_type)

    def serve(
        self, path: str, body: str | bytes, status: int = 200, content_type: str = "text/html; charset=utf-8"
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.pages[path] = (status, content_type, data)
        return self.server.url_for(path)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    server = HTTPServer(host="127.0.0.1")
    server.start()
    try:
        yield Site(server)
    finally:
        server.clear()
        server.stop()


def capture(archive: Path, url: str) -> dict:
    result = run("capture", url, "--archive", str(archive), "--json", "--retries", "0")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


@dataclass
class Compared:
    """``archiver diff --json`` and the terminal report for one pair."""

    json_result: Result
    text_result: Result
    report: dict


_compared: dict[tuple[str, str], Compared] = {}


@pytest.fixture(scope="module")
def compare(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str], Compared]:
    """Serve, capture and diff one pair once per module (results shared by the tests)."""

    def run_pair(page: str, kind: str) -> Compared:
        if (page, kind) not in _compared:
            p = pair(page, kind)
            archive = tmp_path_factory.mktemp("archive")
            path = f"/{len(_compared)}{page_pairs(page).url_path}"
            for html in (p.before_html, p.after_html):
                url = site.serve(path, html)
                capture(archive, url)
            as_json = run("diff", url, "--archive", str(archive), "--json")
            text = run("diff", url, "--archive", str(archive))
            report = json.loads(as_json.stdout) if as_json.exit_code in (0, 1) else {}
            _compared[page, kind] = Compared(as_json, text, report)
        return _compared[page, kind]

    return run_pair


def _touches(change: dict, p: cp.Pair) -> bool:
    texts = [cp.squash(t) for t in (change["before"], change["after"]) if t]
    markers = [m for m in (p.marker_before, p.marker_after) if m]
    return any(m in t or t in m for m in markers for t in texts)


def _matches(report: dict, p: cp.Pair) -> list[dict]:
    return [
        c
        for c in report["changes"]
        if c["kind"] == p.expect_kind
        and (p.expect_flag is None or p.expect_flag in c["flags"])
        and _touches(c, p)
    ]


def _describe(report: dict) -> str:
    lines = (
        [f"headline: {report['headline']['before']!r} -> {report['headline']['after']!r}"]
        if report["headline"]["changed"]
        else []
    )
    lines += [f"{c['kind']}{c['flags']}: {c['before']!r} -> {c['after']!r}" for c in report["changes"]]
    lines += [f"byline {report['byline']}"] if report["byline"] else []
    lines += [f"published {report['dates']['published']}"] if report["dates"]["published"] else []
    return "\n".join(lines) or "(nothing)"


# --------------------------------------------------------------------------- injected edits


@pytest.mark.parametrize("kind", cp.EDIT_KINDS)
@pytest.mark.parametrize("page", PAGES)
def test_injected_edit_is_found_with_its_kind_and_flag(
    compare: Callable[[str, str], Compared], page: str, kind: str
) -> None:
    p = pair(page, kind)
    got = compare(page, kind)
    assert got.json_result.exit_code == 1, got.json_result.output
    report = got.report
    assert report["has_edits"] is True
    if kind == "headline":
        assert report["headline"]["changed"], _describe(report)
        assert cp.squash(report["headline"]["after"]) == cp.squash(p.after_text or "")
    else:
        assert _matches(report, p), (
            f"{p.note}; wanted {p.expect_kind}+{p.expect_flag}; got:\n{_describe(report)}"
        )
    assert got.text_result.exit_code == 1


@pytest.mark.parametrize("kind", cp.EDIT_KINDS)
@pytest.mark.parametrize("page", PAGES)
def test_injected_edit_comes_without_spurious_changes(
    compare: Callable[[str, str], Compared], page: str, kind: str
) -> None:
    p = pair(page, kind)
    report = compare(page, kind).report
    expected = 0 if kind == "headline" else 1
    assert not report["byline"] and not report["dates"]["published"], _describe(report)
    assert report["headline"]["changed"] == (kind == "headline"), _describe(report)
    assert len(report["changes"]) == expected, f"{p.note}; got:\n{_describe(report)}"


# --------------------------------------------------------------------------- noise only


@pytest.mark.parametrize("kind", cp.NOISE_KINDS)
@pytest.mark.parametrize("page", PAGES)
def test_churn_only_reports_no_changes(compare: Callable[[str, str], Compared], page: str, kind: str) -> None:
    got = compare(page, kind)
    assert got.json_result.exit_code == 0, _describe(got.report)
    assert got.report["has_edits"] is False and got.report["changes"] == []
    assert got.text_result.exit_code == 0
    assert "no changes" in got.text_result.stdout


# --------------------------------------------------------------------------- reports and inputs


def test_html_report_is_self_contained(site: Site, tmp_path: Path) -> None:
    from lxml import html as lxml_html

    p = pair(PAGES[0], "quote")
    archive, out = tmp_path / "archive", tmp_path / "report.html"
    for html in (p.before_html, p.after_html):
        url = site.serve("/html-report/story.html", html)
        capture(archive, url)
    result = run("diff", url, "--archive", str(archive), "--html", str(out), "--json")
    assert result.exit_code == 1, result.output
    tree = lxml_html.document_fromstring(out.read_text(encoding="utf-8"))
    assets = [
        el
        for el in tree.iter("link", "script", "img", "iframe", "source", "video", "audio", "embed", "object")
        if not (el.tag == "link" and (el.get("rel") or "").lower() in ("canonical", "alternate"))
    ]
    external = [
        (el.tag, value)
        for el in assets
        for attr in ("src", "href", "srcset", "data")
        if (value := (el.get(attr) or "").strip()) and not value.startswith(("data:", "#"))
    ]
    assert not external, f"the report loads assets from outside the file: {external}"
    assert cp.squash(page_pairs(PAGES[0]).headline)[:30] in cp.squash(tree.text_content())


def test_diff_two_warc_files(site: Site, tmp_path: Path) -> None:
    p = pair(PAGES[1], "number")
    archive = tmp_path / "archive"
    paths = []
    for html in (p.before_html, p.after_html):
        url = site.serve("/two-warcs/story.html", html)
        paths.append(archive / capture(archive, url)["warc_path"])
    assert all(path.is_file() for path in paths), paths
    result = run("diff", str(paths[0]), str(paths[1]), "--archive", str(tmp_path / "none"), "--json")
    assert result.exit_code == 1, result.output
    assert _matches(json.loads(result.stdout), p), result.stdout


@pytest.mark.skipif(shutil.which("wget") is None, reason="wget is not installed")
def test_diff_warcs_written_by_wget(site: Site, tmp_path: Path) -> None:
    p = pair(PAGES[2], "negation")
    warcs = []
    for name, html in (("before", p.before_html), ("after", p.after_html)):
        url = site.serve("/wget/story.html", html)
        prefix = tmp_path / name
        subprocess.run(
            [
                "wget",
                "--quiet",
                "--no-proxy",
                "--tries=1",
                "--timeout=20",
                f"--warc-file={prefix}",
                "--output-document",
                str(tmp_path / f"{name}.html"),
                url,
            ],
            check=True,
            timeout=60,
            cwd=tmp_path,
        )
        warcs.append(tmp_path / f"{name}.warc.gz")
    result = run("diff", str(warcs[0]), str(warcs[1]), "--archive", str(tmp_path / "none"), "--json")
    assert result.exit_code == 1, result.output
    assert _matches(json.loads(result.stdout), p), result.stdout


def test_all_walks_the_timeline(site: Site, tmp_path: Path) -> None:
    noise, edit = pair(PAGES[3], "noise_outside"), pair(PAGES[3], "hedge")
    archive = tmp_path / "archive"
    # v1 -> v2 is churn only; v2 -> v3 adds the hedge (v3 is v1's page, edited, new churn)
    for html in (noise.before_html, noise.after_html, edit.after_html):
        url = site.serve("/timeline/story.html", html)
        capture(archive, url)
    result = run("diff", url, "--archive", str(archive), "--all", "--json")
    assert result.exit_code == 1, result.output
    steps = json.loads(result.stdout)
    assert [step["has_edits"] for step in steps] == [False, True]
    assert _matches(steps[1], edit), _describe(steps[1])
    text = run("diff", url, "--archive", str(archive), "--all")
    assert text.exit_code == 1 and "no changes" in text.stdout


# --------------------------------------------------------------------------- errors


def _one_error_line(result: Result) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("archiver: error:"), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def test_error_unknown_url(site: Site, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    capture(archive, site.serve("/known/story.html", pair(PAGES[0], "number").before_html))
    line = _one_error_line(run("diff", site.server.url_for("/unknown/story.html"), "--archive", str(archive)))
    assert "no captures" in line


def test_error_only_one_capture(site: Site, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    url = site.serve("/once/story.html", pair(PAGES[0], "number").before_html)
    capture(archive, url)
    assert "only one capture" in _one_error_line(run("diff", url, "--archive", str(archive)))


def test_error_non_html_capture(site: Site, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    for n in (1, 2):
        url = site.serve(
            "/api/story.json", json.dumps({"headline": f"v{n}"}), content_type="application/json"
        )
        capture(archive, url)
    assert "not HTML" in _one_error_line(run("diff", url, "--archive", str(archive), "--json"))


def test_error_unreadable_warc(site: Site, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    good = (
        archive
        / capture(archive, site.serve("/good/story.html", pair(PAGES[0], "number").before_html))["warc_path"]
    )
    bad = tmp_path / "broken.warc.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00 this is not a gzip member, nor a WARC record" * 20)
    line = _one_error_line(run("diff", str(bad), str(good), "--archive", str(tmp_path / "none")))
    assert "broken.warc.gz" in line


# --------------------------------------------------------------------------- gone or walled


def test_later_404_says_the_url_now_answers_404(site: Site, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    url = site.serve("/gone/story.html", pair(PAGES[4], "number").before_html)
    capture(archive, url)
    site.serve("/gone/story.html", "<html><body><h1>Page not found</h1></body></html>", status=404)
    capture(archive, url)
    text = run("diff", url, "--archive", str(archive))
    assert text.exit_code in (0, 1), text.output
    assert "URL now answers 404" in text.stdout
    report = json.loads(run("diff", url, "--archive", str(archive), "--json").stdout)
    assert str(report["after"]["status"]) == "404"
    assert not [c for c in report["changes"] if c["kind"] == "removed"], _describe(report)


@pytest.mark.parametrize(
    "later", [CONSENT_WALL, "<html><head></head><body></body></html>"], ids=["consent-wall", "empty-body"]
)
def test_later_wall_says_body_missing_not_removals(site: Site, tmp_path: Path, later: str) -> None:
    archive = tmp_path / "archive"
    url = site.serve("/walled/story.html", pair(PAGES[5], "number").before_html)
    capture(archive, url)
    site.serve("/walled/story.html", later)
    capture(archive, url)
    text = run("diff", url, "--archive", str(archive))
    assert "article body missing in later capture" in text.stdout, text.stdout
    assert "removed" not in text.stdout, text.stdout
    report = json.loads(run("diff", url, "--archive", str(archive), "--json").stdout)
    assert report["body_missing"] is True and report["changes"] == [], _describe(report)
