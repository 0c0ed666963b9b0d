"""The watch loop. A round polls the sources that are due, then checks the articles that are
due, one worker per host (under a lease in the catalogue, so two watchers never work one host
at once), politely: a delay between requests to a host, its robots.txt, a pause when it says
429/503. A known article is asked with a conditional GET: 304 (or the same payload) is a
check written with others in one group; anything else is captured through `capture_url`
and diffed against the capture before, and an edit is an event."""

from __future__ import annotations

import calendar
import os
import sqlite3
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import urllib3

from archiver.archive.commit import commits_in_flight
from archiver.archive.folder import Archive
from archiver.archive.layout import INDEX_NAME
from archiver.capture.fetch import FetchOptions, new_session, retry_wait
from archiver.capture.save import capture_url
from archiver.diff.select import GONE, capture_version, diff_versions, resolve_pair
from archiver.errors import ArchiverError, ExitStatus
from archiver.output.console import say
from archiver.output.watchlog import WatchLog
from archiver.watch.events import Notifier, append_event, at_least, edit_event, read_events, when, write_feeds
from archiver.watch.robots import Robots
from archiver.watch.schedule import Clock, Tiers, next_check
from archiver.watch.sources import conditional_get, poll
from archiver.watch.state import Item, Source, WatchState, owner_id

BACKOFF_STATUSES = (429, 503)
FAILED_RETRY = 900  # seconds before a source or article that failed is tried again (at most)
PAGE_REPOLL = 365 * 86400  # a plain page, once found, is watched as an article, not polled
FLUSH_EVERY = 30.0  # seconds of unchanged checks a kill -9 may lose (they are asked again: a 304)


@dataclass
class Settings:
    options: FetchOptions
    tiers: Tiers
    interval: float = 600.0  # seconds between polls of one source
    delay: float = 1.0  # seconds between two requests to one host
    min_severity: str = "low"
    notify: list[str] = field(default_factory=list)
    ignore_robots: bool = False
    recapture_all: bool = False
    concurrency: int = 4  # hosts worked at once
    lease: float = 300.0  # seconds a host lease lasts unless renewed
    group: int = 1000  # unchanged checks written in one transaction


@dataclass
class Stats:
    sources: int = 0
    new: int = 0
    checked: int = 0
    unchanged: int = 0
    captured: int = 0
    events: int = 0
    errors: int = 0
    skipped: int = 0
    busy: int = 0

    def add(self, other: Stats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class _HostBusy(Exception):
    """The host asked us to back off (429/503): leave it for this round."""


class Watcher:
    """Rounds of watching over the archive at `root`. `stop` ends a round after the
    requests in flight; `clock` decides what is due (a test's clock makes a day pass at once)."""

    def __init__(self, root: Path, settings: Settings, clock: Clock, log: WatchLog) -> None:
        self.root = Path(root)
        self.settings, self.clock, self.log = settings, clock, log
        self.stop = threading.Event()
        self.options = replace(settings.options, cancel=self.stop, retries=0)
        if settings.ignore_robots:  # said in each capture's warcinfo, for whoever weighs the evidence
            ignored = {**self.options.warcinfo, "robots": "ignored (archiver watch run --ignore-robots)"}
            self.options = replace(self.options, warcinfo=ignored)
        Archive(self.root).close()  # make the layout and catalogue before the workers race
        self.state = WatchState(self.root, write=True)
        self.owner = owner_id()
        self.robots = Robots(self.options, settings.ignore_robots)
        self.notifier = Notifier(lambda s: clock.wait(s, self.stop), lambda m: log.problem(m))
        self.pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="archiver-watch")
        self._local = threading.local()
        self._new_events: list[dict] = []
        self._events_lock = threading.Lock()
        self.sources_by_id: dict[int, Source] = {}
        self._futures: list[Future[Stats]] = []
        self._held: dict[str, list[tuple[int, int, int, str | None]]] = {}  # leased hosts: their polls
        self._held_lock = threading.Lock()

    def close(self, timeout: float = 10.0) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.notifier.close(timeout)
        self.state.close()

    # -- one round ------------------------------------------------------------------

    def run_round(self) -> Stats:
        """Poll due sources, then check due articles; returns what was done."""
        total = Stats()
        self.sources_by_id = {s.id: s for s in self.state.sources()}
        for polling in (True, False):
            now = self.clock.now()
            if polling:
                hosts = self.state.source_hosts_due(int(now))
            else:
                hosts = self.state.item_hosts_due(int(now), self.settings.recapture_all)
            phase = self._poll_host if polling else self._check_host
            hosts = [h for h in hosts if self.state.not_before(h) <= now]
            self._futures = futures = [self.pool.submit(phase, host) for host in hosts]
            for stats in self._results(futures):
                total.add(stats)
            if self.stop.is_set():
                break
        for host in list(self._held):  # polled, but no article of theirs was due
            self._let_go(host, [])
        if self._new_events:
            write_feeds(self.root, read_events(self.root))
            self._new_events.clear()
        return total

    def interrupt(self, grace: float) -> bool:
        """After Ctrl-C: give the workers `grace` seconds to finish the request in flight (and
        any capture its commit); True when all of them did."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        _, running = wait(self._futures, timeout=grace)
        deadline = time.monotonic() + 10.0
        while commits_in_flight() and time.monotonic() < deadline:  # never leave half a commit
            time.sleep(0.01)
        if running:
            return False
        for host in list(self._held):
            self._let_go(host, [])
        return True

    def _results(self, futures: list[Future[Stats]]) -> list[Stats]:
        """Wait for the workers in short steps, so Ctrl-C reaches the main thread at once."""
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=0.2)
        return [f.result() for f in futures]

    def _worker(self) -> tuple[Archive, urllib3.PoolManager]:
        if not hasattr(self._local, "archive"):
            self._local.archive, self._local.session = Archive(self.root), new_session()
        return self._local.archive, self._local.session

    def _leased(self, host: str, stats: Stats) -> bool:
        """Hold the lease on `host` for the round (taken once: its polls, then its articles)."""
        with self._held_lock:
            if host in self._held:
                return True
        if self.state.acquire(host, self.owner, self.clock.now(), self.settings.lease):
            with self._held_lock:
                self._held[host] = []
            return True
        stats.busy += 1
        self.log.note(f"{host} is being worked by another watcher; left to it", host=host)
        return False

    def _let_go(self, host: str, done: list[tuple[int, int | None, int]]) -> None:
        """Write what the round did on `host` that is not written yet, and release it."""
        with self._held_lock:
            polled = self._held.pop(host, [])
        self.state.release(host, self.owner, done, polled)

    def _pause(self, host: str, url: str, session: urllib3.PoolManager) -> bool:
        """The per-host delay (or the site's Crawl-delay); True when stopped meanwhile."""
        delay = max(self.settings.delay, self.robots.delay(session, url, self.clock.now()))
        return self.clock.wait(delay, self.stop) if delay > 0 else self.stop.is_set()

    # -- sources --------------------------------------------------------------------

    def _poll_host(self, host: str) -> Stats:
        stats = Stats()
        if not self._leased(host, stats):
            return stats
        try:
            _, session = self._worker()
            for source in self.state.due_sources(host, int(self.clock.now())):
                if self.stop.is_set():
                    break
                try:
                    self._poll(source, session, stats)
                except _HostBusy:
                    break
                if self._pause(host, source.url, session):
                    break
        except BaseException:
            self._let_go(host, [])
            raise
        return stats

    def _poll(self, source: Source, session: urllib3.PoolManager, stats: Stats) -> None:
        now = self.clock.now()
        stats.sources += 1
        error, kind = None, source.kind
        try:
            allowed = self.robots.allowed(session, source.url, now)
            if not allowed:
                raise ArchiverError(
                    f"{source.url}: robots.txt "
                    + ("disallows it" if allowed is False else "unreachable; tried again later")
                )
            found, answer = poll(session, source.url, self.options, (source.etag, source.last_modified))
            kind = found.kind or kind
            if answer.status in BACKOFF_STATUSES:
                self._back_off(source.host, answer.retry_after, now)
                raise _HostBusy
            if answer.status >= 400:
                raise ArchiverError(f"{source.url}: HTTP {answer.status}")
            if found.kind is not None:
                self.state.polled(source, found.kind, found.validators)
                rows = [(f.key, f.url, f.title, f.lastmod) for f in found.items]
                new, moved = self.state.add_items(source.id, rows, int(now))
                stats.new += new
                if new or moved:
                    self.log.note(
                        f"{source.name}: {new} new, {moved} updated ({len(rows)} listed)",
                        source=source.name,
                        new=new,
                        moved=moved,
                    )
        except Exception as exc:
            if isinstance(exc, _HostBusy | OSError | sqlite3.DatabaseError):
                raise
            error = _reason(source.url, exc)
            stats.errors += 1
            self.log.problem(f"source {source.name}: {error}", source=source.name)
        retry = min(self.settings.interval * 2 ** min(source.failures, 6), FAILED_RETRY * 8)
        wait_for = retry if error else self.settings.interval
        if not error and kind == "page":
            wait_for = PAGE_REPOLL  # the page is its own article: its schedule is the article's
        with self._held_lock:  # written with the host's other checks, when it is let go
            self._held[source.host].append((source.id, int(now), int(now + wait_for), error))

    def _back_off(self, host: str, retry_after: str | None, now: float) -> None:
        until = None
        if retry_after:
            until = now + retry_wait(retry_after, 0, replace(self.options, max_time=86400.0))
        when_free = self.state.back_off(host, until, now)
        self.log.note(f"{host} asked us to slow down; left alone for {when_free - now:.0f}s", host=host)

    # -- articles -------------------------------------------------------------------

    def _check_host(self, host: str) -> Stats:
        stats = Stats()
        if not self._leased(host, stats):
            return stats
        done: list[tuple[int, int | None, int]] = []
        leased_at, flushed = self.clock.now(), time.monotonic()
        if self.state.not_before(host):  # it was backed off, and that time is over
            self.state.host_answered(host)
        try:
            archive, session = self._worker()
            items = self.state.items_due(host, int(self.clock.now()), self.settings.recapture_all)
            for index, item in enumerate(items):
                if self.stop.is_set():
                    break
                if self.clock.now() - leased_at > self.settings.lease / 2:
                    leased_at = self.clock.now()
                    self.state.acquire(host, self.owner, leased_at, self.settings.lease)
                try:
                    checked = self._check(item, archive, session, stats)
                except _HostBusy:
                    break
                if checked is not None:
                    done.append(checked)
                    if len(done) >= self.settings.group or time.monotonic() - flushed > FLUSH_EVERY:
                        self.state.checked(done)
                        done, flushed = [], time.monotonic()
                if index + 1 < len(items) and self._pause(host, item.url, session):
                    break
        finally:
            self._let_go(host, done)
        return stats

    def _check(
        self, item: Item, archive: Archive, session: urllib3.PoolManager, stats: Stats
    ) -> tuple[int, int | None, int] | None:
        """Check one article; an unchanged check is returned to be written with others."""
        now = self.clock.now()
        changed_at = item.changed_at or item.found_at
        try:
            allowed = self.robots.allowed(session, item.url, now)
            if allowed is None:
                raise ArchiverError(f"{item.url}: robots.txt unreachable; tried again later")
            if not allowed:
                stats.skipped += 1
                self.log.note(f"robots.txt disallows {item.url}; not fetched", url=item.url)
                return (item.id, _int(next_check(self.settings.tiers, now, changed_at)), int(now))
            stats.checked += 1
            if item.capture_id is not None and not self.settings.recapture_all:
                answer, digest = conditional_get(
                    session,
                    item.url,
                    self.options,
                    item.etag,
                    item.last_modified,
                    keep_body=False,
                )
                if answer.status in BACKOFF_STATUSES:
                    self._back_off(item.host, answer.retry_after, now)
                    raise _HostBusy
                if answer.status == 304 or (answer.status == item.status and digest == item.payload_sha256):
                    stats.unchanged += 1
                    fresh = (answer.etag, answer.last_modified)
                    if answer.status != 304 and fresh != (item.etag, item.last_modified):
                        item = replace(item, etag=fresh[0], last_modified=fresh[1])
                        self.state.captured(
                            item, _int(next_check(self.settings.tiers, now, changed_at)), int(now)
                        )
                        return None
                    return (item.id, _int(next_check(self.settings.tiers, now, changed_at)), int(now))
                if self._pause(item.host, item.url, session):
                    return None
            self._capture(item, archive, session, stats, now)
        except Exception as exc:
            if isinstance(exc, _HostBusy | OSError | sqlite3.DatabaseError):
                raise  # a host backing off; or the archive itself failing: the watcher stops, in one line
            stats.errors += 1
            self.log.problem(_reason(item.url, exc), url=item.url)
            return (item.id, int(now + min(FAILED_RETRY, self.settings.tiers[0][1])), int(now))
        return None

    def _capture(
        self, item: Item, archive: Archive, session: urllib3.PoolManager, stats: Stats, now: float
    ) -> None:
        result = capture_url(archive, item.url, self.options, session)
        capture = result.capture
        stats.captured += 1
        if capture.status in BACKOFF_STATUSES:
            response = archive.response(capture)
            self._back_off(item.host, response.header("Retry-After"), now)
            raise _HostBusy
        first = item.capture_id is None
        changed_at = item.changed_at or item.lastmod or int(now)
        event = None
        title = item.title
        if not first and capture.payload_sha256 != item.payload_sha256:  # new to us, if not to the archive
            try:
                event, title, modified = self._compare(item, archive, now)
            except ArchiverError as exc:  # e.g. no longer HTML: archived, but nothing to compare
                self.log.note(f"{item.url}: captured, not compared ({exc})", url=item.url)
                event, modified = None, None
            if event is not None:
                changed_at = int(now)
            if modified is not None and changed_at < modified <= now:
                changed_at = modified  # the page says it was updated: watch it closer
        elif first:
            changed_at = item.lastmod if item.lastmod and item.lastmod <= now else int(now)
        response = archive.response(capture)
        what = "new" if first else "unchanged" if result.unchanged else "changed"
        if capture.status in GONE:
            what = "gone"
        self.log.capture(item.url, capture.id, capture.status, what, title)
        updated = replace(
            item,
            changed_at=changed_at,
            etag=response.header("ETag"),
            last_modified=response.header("Last-Modified"),
            payload_sha256=capture.payload_sha256,
            capture_id=capture.id,
            status=capture.status,
            title=title,
        )
        if event is not None and at_least(event, self.settings.min_severity):
            stats.events += 1
            self._publish(event, item)  # before the state moves on: a kill in between repeats it
        self.state.captured(updated, _int(next_check(self.settings.tiers, now, changed_at)), int(now))

    def _compare(
        self, item: Item, archive: Archive, now: float
    ) -> tuple[dict | None, str | None, int | None]:
        """Diff the new capture against the one `archiver diff URL` would pick, or against the
        last one this watcher saw, when captures it never compared came in between (a kill
        after a capture, or plain `capture` runs): the edit is reported from what we saw."""
        _, captures = archive.article_captures(item.url)
        seen = archive.get(item.capture_id) if item.capture_id else None
        if seen is not None and seen.id in [c.id for c in captures[:-2]]:
            before, after = capture_version(archive, seen), capture_version(archive, captures[-1])
        else:
            before, after = resolve_pair(archive, (item.url,), None, None)
        if before.info["id"] == after.info["id"]:
            return None, after.article.headline or item.title, None
        diff = diff_versions(before, after)
        source = self.sources_by_id.get(item.source_id)
        event = edit_event(archive, before, after, diff, when(now), source.name if source else None)
        return (
            event,
            after.article.headline or before.article.headline or item.title,
            _epoch(after.article.modified),
        )

    def _publish(self, event: dict, item: Item) -> None:
        """On disk first (events.jsonl), then the terminal, then the notifiers."""
        append_event(self.root, event)
        with self._events_lock:
            self._new_events.append(event)
        self.log.event(event)
        source = self.sources_by_id.get(item.source_id)
        urls = [*self.settings.notify, *(source.notify if source else [])]
        if urls:
            self.notifier.submit(event, urls)


def _reason(url: str, exc: Exception) -> str:
    """One line for a failure: our own message, or a defect named (never a traceback)."""
    if isinstance(exc, ArchiverError):
        return str(exc)
    return f"{url}: not checked ({type(exc).__name__}: {exc})"


def _int(value: float | None) -> int | None:
    return None if value is None else int(value + 0.999)


def _epoch(text: str | None) -> int | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp()) if moment.tzinfo else calendar.timegm(moment.timetuple())


GRACE = 1.5  # seconds Ctrl-C waits for the requests in flight


def run_watch(root: Path, settings: Settings, clock: Clock, log: WatchLog, once: bool) -> ExitStatus:
    """Rounds until Ctrl-C (or one, with `once`): between rounds, sleep until something is due
    or the poll interval is up. Exit 0, or 1 when something failed (`once`), 130 on Ctrl-C."""
    if not (Path(root) / INDEX_NAME).exists():
        raise ArchiverError(f"no archive at {root}: add sources with `archiver watch add` first")
    listed = WatchState(root, write=False)
    try:
        if not listed.sources():
            raise ArchiverError(f"nothing watched in {root}: add sources with `archiver watch add`")
    finally:
        listed.close()
    watcher = Watcher(root, settings, clock, log)
    failed = False
    try:
        while True:
            stats = watcher.run_round()
            failed = failed or bool(stats.errors)
            figures = {name: getattr(stats, name) for name in Stats.__dataclass_fields__}
            if once or any(figures.values()):  # a waiting watcher does not say so every second
                log.round(figures)
            if once or watcher.stop.is_set():
                break
            now = clock.now()
            due = watcher.state.next_due()
            wake = min(due if due is not None else now + settings.interval, now + settings.interval)
            if clock.wait(max(1.0, wake - now), watcher.stop):
                break
    except KeyboardInterrupt:
        watcher.stop.set()
        finished = watcher.interrupt(GRACE)
        say("", "interrupted: the captures made are kept; the schedule goes on at the next start")
        if not finished:
            os._exit(ExitStatus.INTERRUPTED)  # a fetch blocked on the network: not waited for
        watcher.close(timeout=GRACE)
        return ExitStatus.INTERRUPTED
    watcher.close()
    return ExitStatus.PROBLEMS if failed else ExitStatus.OK
