"""Capture many URLs at once, with a progress bar on a terminal and plain lines otherwise.
Ctrl-C stops the batch at once: fetches in flight are abandoned (their temporary files are
never published), the captures already made are reported, and the exit status is 130."""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from archiver.archive.commit import commits_in_flight
from archiver.archive.folder import Archive
from archiver.capture.fetch import FetchOptions, new_session
from archiver.capture.save import capture_url
from archiver.errors import ArchiverError, ExitStatus
from archiver.output.console import below_lines, say, stderr_console, stdout_console
from archiver.output.tables import capture_line, print_json_line
from archiver.urls import canonicalize, with_scheme

GRACE = 0.5  # seconds an interrupted batch waits for captures about to finish
COMMIT_GRACE = 10.0  # ... and at most this long for those inside their commit


def _unique(urls: list[str]) -> list[str]:
    """The URLs without repeats of the same article (same canonical URL), first one kept."""
    seen: set[str] = set()
    unique = []
    for url in urls:
        try:
            key = canonicalize(url)
        except Exception:  # an invalid URL fails later, with its own message
            key = url
        if key not in seen:
            seen.add(key)
            unique.append(url)
    return unique


class _Reporter:
    """Prints one result line per URL as it completes, and counts. While the progress bar is
    drawn on the terminal stdout also shows, result lines go through the bar's console, which
    prints them above the bar."""

    def __init__(self, as_json: bool, bar: Console | None = None) -> None:
        self.as_json = as_json
        self.out = bar if bar is not None and sys.stdout.isatty() else stdout_console()
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
            print_json_line(result)
        else:
            capture_line(self.out, result)

    def fail(self, url: str, message: str) -> None:
        self.failures += 1
        if self.as_json:
            print_json_line({"url": url, "error": message})
        say("error", message)


def capture_many(
    root: Path, urls: list[str], options: FetchOptions, concurrency: int, as_json: bool
) -> ExitStatus:
    """Capture `urls` into the archive at `root`; print one result per URL."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    local = threading.local()
    cancel = threading.Event()
    options = replace(options, cancel=cancel)

    def work(url: str) -> dict:
        if not hasattr(local, "archive"):
            local.archive, local.session = Archive(root), new_session()
        return capture_url(local.archive, url, options, local.session).to_json()

    urls = _unique([with_scheme(url) for url in urls])
    Archive(root).close()  # create the layout and schema once, before the workers race
    err = stderr_console()
    show_bar = err.is_terminal and len(urls) > 1 and not as_json
    columns = (TextColumn("capturing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    progress = Progress(*columns, console=err, transient=True, disable=not show_bar)
    reporter = _Reporter(as_json, err if show_bar else None)
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(urls)))
    futures: dict[Future[dict], str] = {}
    try:
        with progress, below_lines(err if show_bar else None):
            task = progress.add_task("capture", total=len(urls))
            futures = {pool.submit(work, url): url for url in urls}
            for future in as_completed(futures):
                reporter.report(futures[future], future)
                progress.advance(task)
    except KeyboardInterrupt:
        _interrupted(pool, futures, cancel, reporter, len(urls))
    pool.shutdown()
    sys.stdout.flush()
    return ExitStatus.PROBLEMS if reporter.failures else ExitStatus.OK


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
    pending = [f for f in futures if not f.cancelled() and f not in reporter.seen]
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
