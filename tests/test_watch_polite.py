"""`watch run` is polite and keeps its word: the decaying schedule, robots.txt, 429 with
Retry-After, a slow or broken source failing alone, a restart continuing the schedule,
leases under two processes, kill -9 and Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_watch import MINUTE, captures_of, news_site, watcher

from archiver.watch.schedule import DEFAULT_SCHEDULE, next_check, parse_duration, parse_schedule

from helpers import ROOT, raw_records, run
from watchsite import ManualClock, Site, rss, site_fixture  # noqa: F401 (the site fixture)

HOUR, DAY = 3600.0, 86400.0


def test_schedule_decays_then_stops() -> None:
    tiers = parse_schedule(DEFAULT_SCHEDULE)
    now = 1_000_000_000.0
    assert next_check(tiers, now, now - 10 * MINUTE) == now + 15 * MINUTE
    assert next_check(tiers, now, now - 5 * HOUR) == now + HOUR
    assert next_check(tiers, now, now - 2 * DAY) == now + 3 * HOUR
    assert next_check(tiers, now, now - 10 * DAY) == now + 3 * DAY
    assert next_check(tiers, now, now - 60 * DAY) == now + 30 * DAY
    assert next_check(tiers, now, now - 400 * DAY) is None
    assert parse_schedule("1h:5m,2d:2h") == ((HOUR, 5 * MINUTE), (2 * DAY, 2 * HOUR))
    assert parse_duration("90s") == 90 and parse_duration("2w") == 14 * DAY
    for bad in ("3h", "1d:1h,3h:15m", "x:1h", "0s:1m"):
        with pytest.raises(ValueError):
            parse_schedule(bad)


def test_unchanged_article_is_checked_on_schedule_with_304s(site: Site, archive_dir: Path) -> None:
    news_site(site, 1)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock)
    w.run_round()
    checks = []
    for _ in range(30):  # an hour and a half, then the 3 h mark passes: hourly
        clock.advance(5 * MINUTE)
        checks.append(w.run_round().checked)
    w.close()
    assert sum(checks[:3]) == 1  # due 15 min after the first capture, not before
    assert sum(checks) == site.not_modified["/news/0.html"]  # every check was a 304
    conditional = [h for m, p, h in site.log if p == "/news/0.html" and "If-None-Match" in h]
    assert len(conditional) == sum(checks)
    assert len(captures_of(archive_dir, site.url("/news/0.html"))) == 1


def test_restarted_watcher_continues_the_schedule(site: Site, archive_dir: Path) -> None:
    news_site(site, 2)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    first = watcher(archive_dir, clock)
    first.run_round()
    first.close()
    clock.advance(5 * MINUTE)
    second = watcher(archive_dir, clock)
    assert second.run_round().checked == 0  # fresh: not fetched again
    clock.advance(11 * MINUTE)
    assert second.run_round().checked == 2
    second.close()


def test_robots_txt_is_honoured_unless_ignored(site: Site, archive_dir: Path) -> None:
    open_url = site.put_story("/news/open.html", 1)
    closed = site.put_story("/private/secret.html", 2)
    site.put("/feed.xml", rss([(open_url, "open"), (closed, "closed")]), "application/rss+xml")
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    done = run("watch", "run", "--once", "--delay", "0", "--archive", str(archive_dir))
    assert done.exit_code == 0, done.stderr
    assert "robots.txt disallows" in done.stdout
    assert site.hits["/private/secret.html"] == 0
    assert len(captures_of(archive_dir, open_url)) == 1
    again = run(
        "watch",
        "run",
        "--once",
        "--recapture-all",
        "--ignore-robots",
        "--delay",
        "0",
        "--archive",
        str(archive_dir),
    )
    assert again.exit_code == 0, again.stderr
    assert site.hits["/private/secret.html"] == 1
    [capture] = captures_of(archive_dir, closed)
    infos = [
        r.block
        for path in archive_dir.glob("warcs/**/*.warc.gz")
        for r in raw_records(path)
        if r.headers["WARC-Type"] == "warcinfo" and capture["id"].encode() in r.block
    ]
    assert len(infos) == 1 and b"robots: ignored" in infos[0]


def test_429_backs_off_the_host(site: Site, archive_dir: Path) -> None:
    news_site(site, 3)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    w = watcher(archive_dir, clock)
    w.run_round()
    site.pages["/news/0.html"].status = 429
    site.pages["/news/0.html"].headers["Retry-After"] = "1800"
    clock.advance(16 * MINUTE)
    stats = w.run_round()
    assert stats.checked == 1 and site.hits["/news/1.html"] == 1  # the host is left alone
    clock.advance(16 * MINUTE)
    assert w.run_round().checked == 0  # still within its Retry-After
    site.pages["/news/0.html"].status = 200
    clock.advance(16 * MINUTE)
    assert w.run_round().checked == 3
    w.close()
    assert site.hits["/news/1.html"] == 2


def test_failing_sources_fail_alone(site: Site, archive_dir: Path) -> None:
    news_site(site, 1)
    site.put("/garbage.xml", "\x00\x01 not a feed at all", "application/octet-stream")
    site.put("/slow.xml", rss([]), "application/rss+xml")
    site.held["/slow.xml"] = threading.Event()
    for path in ("/garbage.xml", "/missing.xml", "/slow.xml", "/feed.xml"):
        run("watch", "add", site.url(path), "--archive", str(archive_dir))
    done = run(
        "watch",
        "run",
        "--once",
        "--delay",
        "0",
        "--timeout",
        "0.5",
        "--max-time",
        "1",
        "--archive",
        str(archive_dir),
    )
    assert done.exit_code == 1
    assert "captured new" in done.stdout  # the good feed's article
    assert "neither a feed, a sitemap nor a page" in done.stderr
    assert "HTTP 404" in done.stderr and "/slow.xml" in done.stderr
    assert "Traceback" not in done.stderr
    listed = {
        s["url"]: s for s in json.loads(run("watch", "list", "--json", "--archive", str(archive_dir)).stdout)
    }
    assert listed[site.url("/garbage.xml")]["error"] and not listed[site.url("/feed.xml")]["error"]


def _watch(archive: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "archiver", "watch", "run", "--delay", "0", "--archive", str(archive), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _until(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_watchers_never_capture_one_url_twice(site: Site, archive_dir: Path) -> None:
    urls = news_site(site, 3)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    gate = site.held["/news/1.html"] = threading.Event()
    first = _watch(archive_dir, "--once")
    _until(lambda: site.hits["/news/1.html"] == 1)
    second = _watch(archive_dir, "--once")
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "being worked by another watcher" in out
    gate.set()
    first.communicate(timeout=60)
    assert first.returncode == 0
    for url in urls:
        assert len(captures_of(archive_dir, url)) == 1


def test_kill_9_loses_at_most_the_fetch_in_flight(site: Site, archive_dir: Path) -> None:
    urls = news_site(site, 3)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    gate = site.held["/news/1.html"] = threading.Event()
    watching = _watch(archive_dir)
    _until(lambda: site.hits["/news/1.html"] == 1)
    watching.send_signal(signal.SIGKILL)
    watching.wait(10)
    gate.set()
    assert len(captures_of(archive_dir, urls[0])) == 1
    done = run("watch", "run", "--once", "--delay", "0", "--archive", str(archive_dir))
    assert done.exit_code == 0, done.stderr
    assert [len(captures_of(archive_dir, url)) for url in urls] == [1, 1, 1]  # 0 not again
    verified = run("verify", "--archive", str(archive_dir))
    assert verified.exit_code == 0, verified.stdout
    with sqlite3.connect(archive_dir / "index.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM watch_items WHERE capture_id IS NULL").fetchone()[0] == 0


def test_ctrl_c_stops_within_two_seconds(site: Site, archive_dir: Path) -> None:
    news_site(site, 2)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    site.held["/news/1.html"] = threading.Event()
    watching = _watch(archive_dir)
    _until(lambda: site.hits["/news/1.html"] == 1)
    started = time.monotonic()
    watching.send_signal(signal.SIGINT)
    _, err = watching.communicate(timeout=30)
    assert time.monotonic() - started < 3.0
    assert watching.returncode == 130, err
    assert "Traceback" not in err


def test_per_host_delay_and_crawl_delay(site: Site, archive_dir: Path) -> None:
    news_site(site, 4)
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    clock = ManualClock()
    started = clock.now()
    w = watcher(archive_dir, clock, delay=5.0)
    assert w.run_round().captured == 4
    w.close()
    assert clock.now() - started == 5.0 * 4  # after the feed, and between the 4 articles
    site.put("/robots.txt", "User-agent: *\nCrawl-delay: 7\n", "text/plain")
    clock.advance(2 * HOUR)  # robots.txt is read again; every article due
    started = clock.now()
    w = watcher(archive_dir, clock, delay=1.0)
    assert w.run_round().checked == 4
    w.close()
    assert clock.now() - started == 7.0 * 4


def test_hosts_are_worked_side_by_side(site: Site, archive_dir: Path) -> None:
    here = site.put_story("/news/0.html", 0)
    there = site.put_story("/news/1.html", 1).replace("127.0.0.1", "localhost")
    site.put("/feed.xml", rss([(here, "here"), (there, "there")]), "application/rss+xml")
    run("watch", "add", site.url("/feed.xml"), "--archive", str(archive_dir))
    w = watcher(archive_dir, ManualClock(), concurrency=2)
    assert w.run_round().captured == 2
    w.close()
    assert len(captures_of(archive_dir, there)) == 1
    with sqlite3.connect(archive_dir / "index.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM watch_leases").fetchone()[0] == 0  # all let go
        hosts = {row[0] for row in db.execute("SELECT DISTINCT host FROM watch_items")}
    assert hosts == {"127.0.0.1", "localhost"}
