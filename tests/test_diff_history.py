"""diff over an article's history: a paywall or outage between two real versions."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from pytest_httpserver import HTTPServer

from helpers import run

ARTICLE = resources.files("archiver").joinpath("samples/article-v1.html").read_text("utf-8")
EDITED = ARTICLE.replace("$42 million", "$48 million")
TEASER = ARTICLE.split("<p>Relations")[0] + (
    "<p>Subscribe to continue reading</p><p>Already a subscriber? Log in</p></article></main></body></html>"
)


def capture(archive: Path, server: HTTPServer, page: str) -> None:
    server.clear()
    server.expect_request("/story").respond_with_data(page, content_type="text/html")
    assert run("capture", "--archive", str(archive), server.url_for("/story")).exit_code == 0


def test_paywall_between_versions_is_one_step_and_the_edit_is_found(
    httpserver: HTTPServer, tmp_path: Path
) -> None:
    archive, url = tmp_path / "archives", httpserver.url_for("/story")
    for page in (ARTICLE, TEASER, EDITED):
        capture(archive, httpserver, page)

    latest = run("diff", "--archive", str(archive), "--json", url)
    report = json.loads(latest.stdout)
    assert latest.exit_code == 1
    assert [(c["kind"], c["flags"]) for c in report["changes"]] == [("modified", ["number"])]
    history = [
        c["id"]
        for c in json.loads(run("history", "--archive", str(archive), "--json", url).stdout)["captures"]
    ]
    assert report["before"]["id"] == history[0]  # the teaser in between is skipped

    steps = json.loads(run("diff", "--archive", str(archive), "--all", "--json", url).stdout)
    assert [s["body_missing"] for s in steps] == [True, False]
    assert steps[1]["before"]["id"] == history[0] and steps[1]["summary"]["modified"] == 1


def test_later_404_is_one_line(httpserver: HTTPServer, tmp_path: Path) -> None:
    archive, url = tmp_path / "archives", httpserver.url_for("/story")
    capture(archive, httpserver, ARTICLE)
    httpserver.clear()
    httpserver.expect_request("/story").respond_with_data("gone", status=404)
    assert run("capture", "--archive", str(archive), url).exit_code == 0
    result = run("diff", "--archive", str(archive), url)
    assert result.exit_code == 1
    assert result.stdout.count("answers 404") == 1 and "article gone" in result.stdout  # ids may hold "404"
    assert "Headline" not in result.stdout
