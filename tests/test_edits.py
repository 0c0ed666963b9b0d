"""`archiver edits`: the edits across the archive, from plain `capture` as from `watch`,
most recent first, filtered, as a table, JSON or Atom; a read command that writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest

from helpers import run
from watchsite import Site


@pytest.fixture
def edited(tmp_path: Path) -> Iterator[tuple[Path, list[str]]]:
    archive = tmp_path / "archives"
    with Site() as site:
        urls = [site.put_story(f"/news/{n}.html", n) for n in range(3)]
        assert run("capture", *urls, "--archive", str(archive)).exit_code == 0
        site.put_story("/news/0.html", 0, casualties=20)  # a number: high
        site.put_story("/news/1.html", 1, quote="We will rebuild the Harbor")  # case only: low
        assert run("capture", *urls, "--archive", str(archive)).exit_code == 0
        yield archive, urls


def test_edits_lists_each_edit_most_recent_first(edited: tuple[Path, list[str]]) -> None:
    archive, urls = edited
    before = _files(archive)
    found = json.loads(run("edits", "--json", "--archive", str(archive)).stdout)
    assert sorted(e["url"] for e in found) == sorted(urls[:2])
    severities = {e["url"]: e["severity"] for e in found}
    assert severities == {urls[0]: "high", urls[1]: "low"}
    stamps = [e["after"]["captured_at"] for e in found]
    assert stamps == sorted(stamps, reverse=True)
    high = json.loads(run("edits", "--json", "--min-severity", "high", "--archive", str(archive)).stdout)
    assert [e["url"] for e in high] == [urls[0]]
    one = json.loads(run("edits", "--json", "--url", urls[1], "--archive", str(archive)).stdout)
    assert [e["url"] for e in one] == [urls[1]]
    later = json.loads(run("edits", "--json", "--since", "2999-01-01", "--archive", str(archive)).stdout)
    assert later == []
    table = run("edits", "--archive", str(archive))
    assert table.exit_code == 0 and "HIGH" in table.stdout.upper() and "25 → 20" in table.stdout
    assert _files(archive) == before  # a read command


def _files(archive: Path) -> list[tuple[str, int]]:
    """What a read command must leave as it was (SQLite's own -wal/-shm files aside)."""
    return sorted(
        (p.name, p.stat().st_size) for p in archive.rglob("*") if p.is_file() and "sqlite3-" not in p.name
    )


def test_edits_as_atom(edited: tuple[Path, list[str]]) -> None:
    archive, urls = edited
    parsed = feedparser.parse(run("edits", "--atom", "--archive", str(archive)).stdout)
    assert not parsed.bozo
    assert sorted(e.link for e in parsed.entries) == sorted(urls[:2])


def test_edits_bad_input(edited: tuple[Path, list[str]], tmp_path: Path) -> None:
    archive, _ = edited
    for args in (
        ("edits", "--since", "yesterday-ish", "--archive", str(archive)),
        ("edits", "--url", "https://example.com/never", "--archive", str(archive)),
        ("edits", "--archive", str(tmp_path / "none")),
        ("edits", "--json", "--atom", "--archive", str(archive)),
    ):
        done = run(*args)
        assert done.exit_code == 2, (args, done.stdout)
        assert "Traceback" not in done.stderr
