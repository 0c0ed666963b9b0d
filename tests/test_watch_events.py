"""Events published: the Atom feeds (global, per watch, per article; parsed back with
feedparser), Apprise json:// notifications to a loopback receiver (a failing endpoint
retried), --min-severity, and JSON log lines."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import feedparser
from test_watch import MINUTE, news_site, watcher

from archiver.watch.events import Notifier, article_feed_name, read_events

from helpers import run
from watchsite import ManualClock, Receiver, Site, site_fixture  # noqa: F401 (the site fixture)


def _edited(site: Site, archive_dir: Path, **kw: object) -> tuple[list[str], object]:
    urls = news_site(site, 2)
    run("watch", "add", site.url("/feed.xml"), "--name", "ledger", "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock, **kw)
    w.run_round()
    site.put_story("/news/1.html", 1, casualties=20)
    clock.advance(16 * MINUTE)
    stats = w.run_round()
    return urls, (w, stats)


def test_atom_feeds_carry_the_edit(site: Site, archive_dir: Path) -> None:
    urls, (w, stats) = _edited(site, archive_dir)
    w.close()
    assert stats.events == 1
    feeds = archive_dir / "feeds"
    for path in (
        feeds / "edits.atom",
        feeds / "watch" / "ledger.atom",
        feeds / "article" / f"{article_feed_name(urls[1])}.atom",
    ):
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.bozo_exception)
        [entry] = parsed.entries
        assert entry.title.startswith("[HIGH] edit")
        assert entry.link == urls[1]
        text = entry.content[0].value
        assert "25 → 20" in text and "why:" in text
        [event] = read_events(archive_dir)
        assert event["evidence"]["after"]["manifest_sha256"] in text
        assert event["evidence"]["before"]["payload_sha256"] in text
        assert {t.term for t in entry.tags} == {"high", "edit"}
    checked = run("verify", "--archive", str(archive_dir))  # events and feeds beside the evidence
    assert checked.exit_code == 0, checked.stdout


def test_json_webhook_gets_the_event_after_a_failure(site: Site, archive_dir: Path) -> None:
    receiver = Receiver(failures=1)
    try:
        urls, (w, stats) = _edited(site, archive_dir, notify=[receiver.url])
        w.close(timeout=20)
    finally:
        receiver.close()
    assert stats.events == 1
    assert receiver.posts == 2  # one refused, retried
    [body] = receiver.bodies
    event = json.loads(body["message"])
    assert event["url"] == urls[1] and event["severity"] == "high"
    assert event == read_events(archive_dir)[0]


def test_min_severity_filters_events(site: Site, archive_dir: Path) -> None:
    news_site(site, 1)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock, min_severity="high")
    w.run_round()
    # a wording-only edit: the case of a word (low)
    site.put_story("/news/0.html", 0, quote="We will rebuild the Harbor")
    clock.advance(16 * MINUTE)
    stats = w.run_round()
    w.close()
    assert stats.captured == 1 and stats.events == 0
    assert read_events(archive_dir) == []


def test_json_log_lines(site: Site, archive_dir: Path) -> None:
    news_site(site, 1)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    done = run("watch", "run", "--once", "--json", "--delay", "0", "--archive", str(archive_dir))
    assert done.exit_code == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [line["kind"] for line in lines]
    assert "capture" in kinds and kinds[-1] == "round"
    assert lines[-1]["stats"]["captured"] == 1


def test_notifier_says_what_it_could_not_send() -> None:
    said: list[str] = []
    gate = threading.Event()
    notifier = Notifier(lambda seconds: gate.wait(), said.append)  # a backoff lasting till the end
    event = {"event": "edit", "severity": "high", "url": "http://127.0.0.1:9/story"}
    notifier.submit(event, ["json://127.0.0.1:9/a", "json://127.0.0.1:9/b"])  # nobody listens there
    notifier.close(timeout=0.5)
    told = list(said)
    gate.set()
    assert told == ["2 notifications not sent (their endpoints are slow or failing)"]
