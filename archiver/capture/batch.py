"""Capture many URLs at once, with a progress bar on a terminal and plain lines otherwise."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from archiver.archive.folder import Archive
from archiver.capture.fetch import FetchOptions, capture_url, new_session
from archiver.errors import ArchiverError
from archiver.output.tables import capture_line, print_json_line
from archiver.urls import canonicalize


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


def capture_many(root: Path, urls: list[str], options: FetchOptions, concurrency: int, as_json: bool) -> int:
    """Capture `urls` into the archive at `root`; print one result per URL; return failures."""
    local = threading.local()

    def work(url: str) -> dict:
        if not hasattr(local, "archive"):
            local.archive, local.session = Archive(root), new_session()
        return capture_url(local.archive, url, options, local.session).to_json()

    urls = _unique(urls)
    Archive(root).close()  # create the layout and schema once, before the workers race
    piped = not sys.stdout.isatty()
    out = Console(highlight=False, width=160 if piped else None, soft_wrap=piped)
    err = Console(stderr=True, highlight=False)
    failures = 0
    show_bar = err.is_terminal and len(urls) > 1 and not as_json
    progress = Progress(
        TextColumn("capturing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show_bar,
    )
    with progress, ThreadPoolExecutor(max_workers=min(concurrency, len(urls))) as pool:
        task = progress.add_task("capture", total=len(urls))
        futures = {pool.submit(work, url): url for url in urls}
        for future in as_completed(futures):
            progress.advance(task)
            try:
                result = future.result()
            except ArchiverError as exc:
                failures += 1
                if as_json:
                    print_json_line({"url": futures[future], "error": str(exc)})
                progress.console.print(
                    f"archiver: error: {exc}", highlight=False, markup=False, soft_wrap=True
                )
                continue
            if as_json:
                print_json_line(result)
            else:
                capture_line(out, result)
    sys.stdout.flush()
    return failures
