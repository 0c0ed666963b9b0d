"""`archiver watch`: sources registered, new feed items captured, due articles re-checked with
conditional requests and re-captured when changed, each edit diffed into an event (terminal
line, events.jsonl). A loopback site; a manual clock; real SQLite and WARCs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from archiver.capture.fetch import FetchOptions
from archiver.output.watchlog import WatchLog
from archiver.watch.events import read_events
from archiver.watch.run import Settings, Watcher
from archiver.watch.schedule import DEFAULT_SCHEDULE, parse_schedule
from archiver.watch.state import WatchState

from helpers import run
from watchsite import ManualClock, Site, rss, site_fixture, sitemap, sitemap_index  # noqa: F401 (the site fixture)

MINUTE = 60.0


def settings(**kw: object) -> Settings:
    base: dict = {
        "options": FetchOptions(timeout=5, max_time=20),
        "tiers": parse_schedule(DEFAULT_SCHEDULE),
        "delay": 0.0,
    }
    return Settings(**{**base, **kw})


def watcher(root: Path, clock: ManualClock, **kw: object) -> Watcher:
    return Watcher(root, settings(**kw), clock, WatchLog(as_json=False))


def news_site(site: Site, count: int = 3) -> list[str]:
    urls = [site.put_story(f"/news/{n}.html", n) for n in range(count)]
    site.put("/feed.xml", rss([(u, f"Story {n}") for n, u in enumerate(urls)]), "application/rss+xml")
    return urls


def captures_of(root: Path, url: str) -> list[dict]:
    done = run("history", url, "--archive", str(root), "--json")
    return json.loads(done.stdout)["captures"] if done.exit_code == 0 else []


def test_add_list_remove(site: Site, archive_dir: Path) -> None:
    feed = site.url("/feed.xml")
    added = run("watch", "add", feed, "--name", "ledger", "--archive", str(archive_dir))
    assert added.exit_code == 0, added.stderr
    assert "watching" in added.stdout and "ledger" in added.stdout
    again = run("watch", "add", feed, "--archive", str(archive_dir))
    assert again.exit_code == 2 and "already watched as ledger" in again.stderr
    assert "Traceback" not in again.stderr
    listed = json.loads(run("watch", "list", "--json", "--archive", str(archive_dir)).stdout)
    assert [(s["name"], s["url"], s["kind"]) for s in listed] == [("ledger", feed, None)]
    table = run("watch", "list", "--archive", str(archive_dir))
    assert "ledger" in table.stdout
    gone = run("watch", "remove", "ledger", "--archive", str(archive_dir))
    assert gone.exit_code == 0 and "no longer watching ledger" in gone.stdout
    assert json.loads(run("watch", "list", "--json", "--archive", str(archive_dir)).stdout) == []
    missing = run("watch", "remove", feed, "--archive", str(archive_dir))
    assert missing.exit_code == 2 and "not watched" in missing.stderr


def test_bad_input_is_one_line(archive_dir: Path) -> None:
    for args in (
        ("watch", "add", "ftp://example.com/feed"),
        ("watch", "add", "http://127.0.0.1:9/feed", "--notify", "nonsense://x"),
        ("watch", "run", "--once", "--interval", "soon"),
        ("watch", "run", "--once", "--schedule", "3h"),
        ("watch", "list"),
    ):
        done = run(*args, "--archive", str(archive_dir))
        assert done.exit_code == 2, (args, done.stdout, done.stderr)
        errors = [line for line in done.stderr.splitlines() if "rror" in line]
        assert "Traceback" not in done.stderr and len(errors) == 1, done.stderr


def test_run_once_captures_new_feed_items(site: Site, archive_dir: Path) -> None:
    urls = news_site(site)
    assert run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir)).exit_code == 0
    done = run("watch", "run", "--once", "--delay", "0.0s", "--archive", str(archive_dir))
    assert done.exit_code == 0, done.stderr
    assert done.stdout.count("captured new") == 3
    for url in urls:
        assert len(captures_of(archive_dir, url)) == 1
    # a second round right away: nothing is due, nothing is fetched
    hits = sum(site.hits[f"/news/{n}.html"] for n in range(3))
    again = run("watch", "run", "--once", "--delay", "0", "--archive", str(archive_dir))
    assert again.exit_code == 0 and "captured" not in again.stdout
    assert sum(site.hits[f"/news/{n}.html"] for n in range(3)) == hits
    listed = json.loads(run("watch", "list", "--json", "--archive", str(archive_dir)).stdout)
    assert listed[0]["kind"] == "feed" and listed[0]["items"] == 3


def test_edit_is_recaptured_diffed_and_reported(
    site: Site, archive_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = news_site(site)
    run("watch", "add", site.url("/feed.xml"), "--name", "ledger", "--archive", str(archive_dir))
    clock = ManualClock()
    first = watcher(archive_dir, clock)
    stats = first.run_round()
    assert (stats.new, stats.captured, stats.events) == (3, 3, 0)
    site.put_story("/news/1.html", 1, casualties=20)  # the number revised, silently
    clock.advance(16 * MINUTE)
    stats = first.run_round()
    first.close()
    assert (stats.checked, stats.unchanged, stats.captured, stats.events) == (3, 2, 1, 1)
    assert site.not_modified["/news/0.html"] == 1 and site.not_modified["/news/2.html"] == 1
    assert len(captures_of(archive_dir, urls[0])) == 1  # a 304 is no new capture
    assert len(captures_of(archive_dir, urls[1])) == 2
    [event] = read_events(archive_dir)
    assert event["event"] == "edit" and event["severity"] == "high" and event["watch"] == "ledger"
    assert event["url"] == urls[1]
    assert any("number" in c["flags"] for c in event["changes"])
    assert any("25 → 20" in w for c in event["changes"] for w in c["why"])
    history = captures_of(archive_dir, urls[1])
    assert event["before"]["id"] == history[0]["id"] and event["after"]["id"] == history[1]["id"]
    assert event["evidence"]["after"]["manifest_sha256"]
    out = capsys.readouterr().out
    assert "HIGH" in out and "edit" in out and "25 → 20" in out


def test_gone_article_is_an_event(site: Site, archive_dir: Path) -> None:
    urls = news_site(site, 2)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock)
    w.run_round()
    del site.pages["/news/0.html"]
    clock.advance(16 * MINUTE)
    stats = w.run_round()
    w.close()
    assert stats.events == 1
    [event] = read_events(archive_dir)
    assert event["event"] == "gone" and event["severity"] == "high" and event["url"] == urls[0]
    assert event["after"]["id"] != event["before"]["id"]


def test_sitemap_and_plain_page_sources(site: Site, archive_dir: Path) -> None:
    a = site.put_story("/a.html", 1)
    b = site.put_story("/b.html", 2)
    site.put("/sitemap.xml", sitemap([(a, "2026-12-01T09:00:00Z")]), "application/xml")
    run("watch", "add", site.url("/sitemap.xml"), b, "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock)
    stats = w.run_round()
    assert stats.captured == 2
    state = WatchState(archive_dir, write=False)
    kinds = sorted(s.kind or "" for s in state.sources())
    assert kinds == ["page", "sitemap"]
    # a newer lastmod moves the article up the queue at once
    site.put("/sitemap.xml", sitemap([(a, "2026-12-03T09:00:00Z")]), "application/xml")
    site.put_story("/a.html", 1, quote="We will not rebuild the harbor")
    clock.advance(11 * MINUTE)  # the feed is due again; the article not yet (15 min)
    stats = w.run_round()
    w.close()
    assert stats.captured == 1 and stats.events == 1
    [event] = read_events(archive_dir)
    assert event["url"] == a
    assert site.hits["/b.html"] == 2  # polled once as a source, then watched as an article only
    state.close()


def test_run_with_nothing_watched_says_so(archive_dir: Path) -> None:
    done = run("watch", "run", "--once", "--archive", str(archive_dir))
    assert done.exit_code == 2 and "watch add" in done.stderr
    assert not archive_dir.exists()  # nothing made
    run("watch", "add", "http://127.0.0.1:9/feed.xml", "--archive", str(archive_dir))
    run("watch", "remove", "127.0.0.1/feed.xml", "--archive", str(archive_dir))
    again = run("watch", "run", "--once", "--archive", str(archive_dir))
    assert again.exit_code == 2 and "nothing watched" in again.stderr


def test_sitemap_index_and_a_vanished_body(site: Site, archive_dir: Path) -> None:
    a = site.put_story("/a.html", 1)
    b = site.put_story("/b.html", 2)
    site.put("/map-1.xml", sitemap([(a, "2026-12-01T09:00:00Z")]), "application/xml")
    site.put("/map-2.xml", sitemap([(b, "2026-12-01T09:00:00Z")]), "application/xml")
    site.put("/index.xml", sitemap_index([site.url("/map-1.xml"), site.url("/map-2.xml")]), "application/xml")
    run("watch", "add", site.url("/index.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock)
    assert w.run_round().captured == 2
    site.put("/b.html", "<html><body><p>Subscribe to keep reading.</p></body></html>")
    site.put("/a.html", "%PDF-1.4 not html any more", "application/pdf")
    clock.advance(16 * MINUTE)
    stats = w.run_round()
    w.close()
    assert stats.captured == 2 and stats.errors == 0  # the PDF is archived, just not compared
    [event] = read_events(archive_dir)
    assert event["event"] == "body_missing" and event["url"] == b and event["severity"] == "high"


def test_edit_captured_meanwhile_by_someone_else_is_still_reported(site: Site, archive_dir: Path) -> None:
    """A capture this watcher never compared (a plain `capture`, or a kill -9 right after its
    own capture) does not swallow the edit: it is reported from the version the watch saw."""
    urls = news_site(site, 1)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock)
    w.run_round()
    site.put_story("/news/0.html", 0, casualties=20)
    assert run("capture", urls[0], "--archive", str(archive_dir)).exit_code == 0
    clock.advance(16 * MINUTE)
    stats = w.run_round()
    w.close()
    assert stats.events == 1
    [event] = read_events(archive_dir)
    history = captures_of(archive_dir, urls[0])
    assert [event["before"]["id"], event["after"]["id"]] == [history[0]["id"], history[2]["id"]]


def test_hostile_feed_text_is_cleaned(site: Site, archive_dir: Path) -> None:
    url = site.put_story("/news/0.html", 0)
    site.put("/feed.xml", rss([(url, "\x1b]0;owned\x07Story \x1b[2J\u202eeno")]), "application/rss+xml")
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    done = run("watch", "run", "--once", "--delay", "0", "--archive", str(archive_dir))
    assert done.exit_code == 0, done.stderr
    assert "captured new" in done.stdout
    for text in (done.stdout, done.stderr, run("watch", "list", "--archive", str(archive_dir)).stdout):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
