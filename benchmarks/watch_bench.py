"""What `archiver watch` costs per round: 50 feeds x 20 articles on loopback.

What is measured
----------------
* A stdlib ``ThreadingHTTPServer`` in a child process (so its CPU is not counted) serves
  ``--feeds`` RSS feeds of ``--articles`` articles each (about 3 KB of HTML per article),
  every answer with an ``ETag`` and ``Last-Modified``, and 304 to a matching
  ``If-None-Match``. It counts requests and 304s; ``POST /_edit`` changes a number in the
  articles it names (a silent edit of a claim).
* The watcher runs in this process (``Watcher.run_round``, as ``watch run --once`` does,
  ``--delay 0``), on a manual clock that moves 16 minutes between rounds, so every
  article is due each round without sleeping.
* Round 1 captures every article. Round 2 changes nothing: every feed and article must
  answer 304, nothing be captured. Round 3 edits ``--edited`` (5 %) of the articles: the
  events reported must be exactly those articles.
* Per round: requests the server saw (and how many were 304s), bytes written (the growth
  of the archive's files other than the SQLite write-ahead log, plus the bytes SQLite
  appended to that log: the catalogue's checkpoint later copies those pages into
  ``index.sqlite3`` once; and the kernel's ``write_bytes`` for this process, which counts
  every file write it caused), wall time and rounds/s, and CPU time of this process (all
  its threads) per article checked.

Goals (from issue 11): the unchanged round writes under 64 KB in all and costs under 2 ms
CPU per article; the edited round reports exactly the edited articles. Exit 0 goals met,
3 missed, 2 setup error.

Usage: ``.venv/bin/python benchmarks/watch_bench.py [--feeds 50] [--articles 20]
[--edited 0.05] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PARAGRAPH = (
    "The harbor authority said on Tuesday that repairs to the eastern breakwater would take "
    "most of the winter, and that ferries would use the temporary pier until then."
)


def article(n: int, edited: bool) -> bytes:
    boats = 20 if edited else 25
    paragraphs = "".join(f"<p>{PARAGRAPH} Section {n}-{i}.</p>" for i in range(8))
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Storm report {n}</title>'
        f'<meta property="og:title" content="Storm damages harbor wall, report {n}"></head><body><main>'
        f"<article><h1>Storm damages harbor wall, report {n}</h1><p>By Dana Whitfield</p>"
        f"<p>At least {boats} boats were sunk at their moorings in district {n}, the harbor master said.</p>"
        f"{paragraphs}</article></main></body></html>"
    ).encode()


def serve(port: multiprocessing.Value, feeds: int, articles: int) -> None:  # type: ignore[valid-type]
    edited: set[int] = set()
    hits = {"requests": 0, "not_modified": 0}
    lock = threading.Lock()

    def page(path: str, base: str) -> tuple[bytes, str] | None:
        if path.startswith("/feed/") and path.endswith(".xml"):
            f = int(path[6:-4])
            items = "".join(
                f"<item><title>Report {n}</title><link>{base}/a/{n}.html</link></item>"
                for n in range(f * articles, (f + 1) * articles)
            )
            return (
                f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {f}</title>'
                f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
            ).encode(), "application/rss+xml"
        if path.startswith("/a/") and path.endswith(".html"):
            n = int(path[3:-5])
            return article(n, n in edited), "text/html; charset=utf-8"
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "text/plain"
        return None

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path == "/_stats":
                with lock:
                    self._send(200, json.dumps(hits).encode())
                return
            with lock:
                hits["requests"] += 1
            found = page(self.path, f"http://127.0.0.1:{port.value}")
            if found is None:
                self._send(404, b"not found")
                return
            body, kind = found
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            headers = {"ETag": etag, "Last-Modified": "Wed, 02 Dec 2026 09:00:00 GMT"}
            if self.headers.get("If-None-Match") == etag:
                with lock:
                    hits["not_modified"] += 1
                self._send(304, b"", headers)
                return
            self._send(200, body, {**headers, "Content-Type": kind})

        def do_POST(self) -> None:
            names = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            edited.update(names)
            self._send(200)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port.value = server.server_address[1]
    server.serve_forever()


class Clock:
    def __init__(self) -> None:
        self.moment = time.time()

    def now(self) -> float:
        return self.moment

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        self.moment += max(0.0, seconds)
        return stop.is_set()


def _stats(base: str) -> dict:
    with urllib.request.urlopen(base + "/_stats") as answer:
        return json.loads(answer.read())


def _write_bytes() -> int:
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    return 0


def _files(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.name.endswith("-wal"))


def measure(name: str, watcher: object, clock: Clock, base: str, root: Path) -> dict:
    from archiver.archive.layout import INDEX_NAME

    db = sqlite3.connect(root / INDEX_NAME)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # the log starts empty: its size is this round's writes
    db.close()
    wal = root / (INDEX_NAME + "-wal")
    files, kernel = _files(root), _write_bytes()
    before = _stats(base)
    cpu, wall = time.process_time(), time.perf_counter()
    stats = watcher.run_round()  # type: ignore[attr-defined]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = _stats(base)
    logged = wal.stat().st_size if wal.exists() else 0
    clock.moment += 16 * 60
    checked = max(1, stats.checked)
    return {
        "round": name,
        "requests": after["requests"] - before["requests"],
        "304s": after["not_modified"] - before["not_modified"],
        "bytes_written": _files(root) - files + logged,
        "catalogue_log_bytes": logged,
        "kernel_write_bytes": _write_bytes() - kernel,
        "wall_s": round(wall, 3),
        "rounds_per_s": round(1 / wall, 2),
        "cpu_ms_per_article": round(1000 * cpu / checked, 3),
        "checked": stats.checked,
        "unchanged": stats.unchanged,
        "captured": stats.captured,
        "events": stats.events,
        "errors": stats.errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--articles", type=int, default=20, help="articles per feed")
    parser.add_argument("--edited", type=float, default=0.05, help="share of articles edited in round 3")
    parser.add_argument("--keep", type=Path, help="keep the archive in DIR")
    args = parser.parse_args()

    from archiver.capture.fetch import FetchOptions
    from archiver.output.watchlog import WatchLog
    from archiver.urls import canonicalize
    from archiver.watch.events import read_events
    from archiver.watch.run import Settings, Watcher
    from archiver.watch.schedule import DEFAULT_SCHEDULE, parse_schedule
    from archiver.watch.state import WatchState

    port = multiprocessing.Value("i", 0)
    child = multiprocessing.Process(target=serve, args=(port, args.feeds, args.articles), daemon=True)
    child.start()
    while not port.value:
        time.sleep(0.01)
    base = f"http://127.0.0.1:{port.value}"
    folder = Path(tempfile.mkdtemp(prefix="watch-bench-"))
    root = args.keep or folder / "archives"
    os.environ.setdefault("ARCHIVER_CACHE", str(folder / "cache"))
    try:
        from archiver.archive.folder import Archive

        Archive(root).close()
        state = WatchState(root, write=True)
        for f in range(args.feeds):
            url = f"{base}/feed/{f}.xml"
            state.add_source(url, canonicalize(url), f"feed-{f}", [], int(time.time()))
        state.close()
        clock = Clock()
        settings = Settings(
            options=FetchOptions(timeout=10, max_time=60), tiers=parse_schedule(DEFAULT_SCHEDULE), delay=0.0
        )
        watcher = Watcher(root, settings, clock, WatchLog(as_json=False, quiet=True))
        results = [measure("1: first captures", watcher, clock, base, root)]
        results.append(measure("2: nothing changed", watcher, clock, base, root))
        total = args.feeds * args.articles
        edited = sorted(range(0, total, max(1, round(1 / args.edited))))[: round(total * args.edited)]
        request = urllib.request.Request(base + "/_edit", data=json.dumps(edited).encode(), method="POST")
        urllib.request.urlopen(request).close()
        results.append(measure(f"3: {len(edited)} edited", watcher, clock, base, root))
        watcher.close()
        reported = sorted(int(e["url"].rsplit("/", 1)[1][:-5]) for e in read_events(root))
    finally:
        child.terminate()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    for row in results:
        print(json.dumps(row))
    quiet = results[1]
    goals = {
        "unchanged round writes < 64 KB": quiet["bytes_written"] < 64 * 1024,
        "unchanged round < 2 ms CPU per article": quiet["cpu_ms_per_article"] < 2.0,
        "unchanged round: every request a 304, nothing captured": quiet["304s"] == quiet["requests"]
        and quiet["captured"] == 0,
        "edited round reports exactly the edited articles": reported == edited,
    }
    for goal, met in goals.items():
        print(f"{'met   ' if met else 'MISSED'} {goal}")
    return 0 if all(goals.values()) else 3


if __name__ == "__main__":
    sys.exit(main())
