"""Capture many URLs at once, with a progress bar on a terminal and plain lines otherwise.
Ctrl-C stops the batch at once: fetches in flight are abandoned (their temporary files are
never published), the captures already made are reported, and the exit status is 130."""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archiver.archive.commit import WARC_SIZE, Roll, commits_in_flight
from archiver.archive.folder import Archive
from archiver.capture.fetch import FetchOptions, new_session
from archiver.capture.save import Prepared, commit_prepared, prepare
from archiver.errors import ArchiverError, ExitStatus
from archiver.output.console import below_lines, emit_json, say, stderr_console, stdout_console
from archiver.urls import canonicalize, with_scheme

if TYPE_CHECKING:
    from rich.console import Console

GRACE = 0.5  # seconds an interrupted batch waits for captures about to finish
COMMIT_GRACE = 10.0  # ... and at most this long for those inside their commit
GROUP_MAX = 256  # captures committed at once, at most
WAITING_MAX = 64  # fetched captures waiting for their commit, at most


class _Committer(threading.Thread):
    """Commits fetched captures in groups, as they come, into the run's rolling WARC file:
    one lock, one fsync and one catalogue transaction per group, so fetching never waits for
    a commit and commits cost little however many captures wait."""

    def __init__(self, root: Path, warc_size: int, cancel: threading.Event) -> None:
        super().__init__(name="archiver-commit", daemon=True)
        self.root, self.warc_size, self.cancel = root, warc_size, cancel
        # bounded: a disk slower than the network holds fetchers back instead of filling memory
        self.waiting: queue.Queue[tuple[Prepared, Future[dict]] | None] = queue.Queue(WAITING_MAX)

    def submit(self, prepared: Prepared, result: Future[dict]) -> None:
        self.waiting.put((prepared, result))

    def stop(self) -> None:
        self.waiting.put(None)

    def run(self) -> None:
        try:
            archive = Archive(self.root)
        except BaseException as exc:  # every capture waiting or to come shares the failure
            while (group := self._next_group()) is not None:
                self._fail(group, exc)
            return
        roll = Roll(archive, self.warc_size)
        try:
            while (group := self._next_group()) is not None:
                self._commit(archive, roll, group)
        finally:
            roll.close()
            archive.close()

    @staticmethod
    def _fail(group: list[tuple[Prepared, Future[dict]]], exc: BaseException) -> None:
        for prepared, result in group:
            prepared.pending.draft.discard()
            result.set_exception(exc)

    def _next_group(self) -> list[tuple[Prepared, Future[dict]]] | None:
        first = self.waiting.get()
        if first is None:
            return None
        group = [first]
        while len(group) < GROUP_MAX:
            try:
                item = self.waiting.get_nowait()
            except queue.Empty:
                break
            if item is None:
                self.waiting.put(None)  # seen after this group
                break
            group.append(item)
        return group

    def _commit(self, archive: Archive, roll: Roll, group: list[tuple[Prepared, Future[dict]]]) -> None:
        if self.cancel.is_set():  # interrupted: nothing more becomes visible
            self._fail(group, KeyboardInterrupt())
            return
        try:
            done = commit_prepared(archive, roll, [prepared for prepared, _ in group])
        except BaseException as exc:  # every capture of the group shares its failure
            self._fail(group, exc)
            return
        for (_, result), captured in zip(group, done, strict=True):
            result.set_result(captured.to_json())


def _unique(urls: list[str]) -> Iterator[str]:
    """The URLs without repeats of the same article (same canonical URL), first one kept,
    one at a time: the first fetches start while later keys are still being worked out."""
    seen: set[str] = set()
    for url in urls:
        try:
            key = canonicalize(url)
        except Exception:  # an invalid URL fails later, with its own message
            key = url
        if key not in seen:
            seen.add(key)
            yield url


class _Reporter:
    """Prints one result line per URL as it completes, and counts. While the progress bar is
    drawn on the terminal stdout also shows, result lines go through the bar's console, which
    prints them above the bar."""

    def __init__(self, as_json: bool, bar: Console | None = None) -> None:
        self.as_json = as_json
        self.bar = bar if bar is not None and sys.stdout.isatty() else None
        self.out: Console | None = None  # made at the first table line: JSON needs no rich
        self.done = self.failures = 0
        self.seen: set[Future[dict]] = set()

    def report(self, url: str, future: Future[dict]) -> None:
        self.seen.add(future)
        self.done += 1
        try:
            result = future.result()
        except ArchiverError as exc:
            self.fail(url, str(exc))
            return
        except (OSError, sqlite3.DatabaseError):
            raise  # the archive itself failing: the whole command stops with one line
        except Exception as exc:  # a defect on one URL must not lose the rest of the batch's report
            self.fail(url, f"{url}: not captured ({type(exc).__name__}: {exc})")
            return
        if self.as_json:
            emit_json(result)
            return
        from archiver.output.tables import capture_line

        self.out = self.out or self.bar or stdout_console()
        capture_line(self.out, result)

    def fail(self, url: str, message: str) -> None:
        self.failures += 1
        if self.as_json:
            emit_json({"url": url, "error": message})
        say("error", message)


def capture_many(
    root: Path,
    urls: list[str],
    options: FetchOptions,
    concurrency: int,
    as_json: bool,
    warc_size: int = WARC_SIZE,
) -> ExitStatus:
    """Capture `urls` into the archive at `root`, appending them to one rolling WARC file
    (a new one past `warc_size` bytes); print one result per URL as it is committed."""
    local = threading.local()
    cancel = threading.Event()
    options = replace(options, cancel=cancel)
    listed = [with_scheme(url) for url in urls]
    Archive(root).close()  # create the layout and schema once, before the workers race
    committer = _Committer(root, warc_size, cancel)
    committer.start()

    def work(url: str, result: Future[dict]) -> None:
        try:
            if not hasattr(local, "archive"):
                local.archive, local.session = Archive(root), new_session()
            committer.submit(prepare(local.archive, url, options, local.session), result)
        except BaseException as exc:
            result.set_exception(exc)

    show_bar = sys.stderr.isatty() and len(listed) > 1 and not as_json
    err = stderr_console() if show_bar else None
    reporter = _Reporter(as_json, err)
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(listed)))
    futures: dict[Future[dict], str] = {}
    try:
        with _bar(err) as bar, below_lines(err):
            for url in _unique(listed):
                future: Future[dict] = Future()
                futures[future] = url
                pool.submit(work, url, future)
            bar.total(len(futures))
            for future in as_completed(futures):
                reporter.report(futures[future], future)
                bar.advance()
    except KeyboardInterrupt:
        _interrupted(pool, futures, cancel, reporter, len(futures))
    pool.shutdown()
    committer.stop()
    committer.join()
    sys.stdout.flush()
    return ExitStatus.PROBLEMS if reporter.failures else ExitStatus.OK


class _Bar:
    """A progress bar on the terminal's stderr console, or nothing (rich is loaded only then)."""

    def __init__(self, progress: Any = None) -> None:
        self.progress = progress
        self.task = progress.add_task("capture", total=None) if progress else None

    def total(self, count: int) -> None:
        if self.progress:
            self.progress.update(self.task, total=count)

    def advance(self) -> None:
        if self.progress:
            self.progress.advance(self.task)


@contextlib.contextmanager
def _bar(err: Console | None) -> Iterator[_Bar]:
    if err is None:
        yield _Bar()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("capturing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        yield _Bar(progress)


def _interrupted(
    pool: ThreadPoolExecutor,
    futures: dict[Future[dict], str],
    cancel: threading.Event,
    reporter: _Reporter,
    total: int,
) -> None:
    """Abandon the batch: no new capture starts or commits, captures finishing their commit
    get a moment and are reported, then the process ends with 130 without waiting for
    fetches blocked on the network."""
    cancel.set()
    pool.shutdown(wait=False, cancel_futures=True)
    pending = [f for f in futures if f not in reporter.seen]
    finished, _ = wait(pending, timeout=GRACE)
    deadline = time.monotonic() + COMMIT_GRACE
    while commits_in_flight() and time.monotonic() < deadline:  # never leave half a commit
        time.sleep(0.01)
    finished = {f for f in pending if f.done()}
    for future in finished:
        if not isinstance(future.exception(), KeyboardInterrupt):
            reporter.report(futures[future], future)
    captured = reporter.done - reporter.failures
    sys.stdout.flush()
    say(
        "",
        f"interrupted: {captured} of {total} URLs captured, the rest abandoned (nothing half-written kept)",
    )
    os._exit(ExitStatus.INTERRUPTED)
