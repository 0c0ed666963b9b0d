"""Capture throughput of `archiver capture` against `wget --warc-file`, side by side.

What is measured
----------------
* ``--pages`` (200) deterministic article pages of about ``--size-kb`` (50) KB each:
  headline, byline, dateline, site navigation, ~50 KB of paragraphs, a related-links box
  and a footer (seeded, so every run serves the same bytes).
* A stdlib ``ThreadingHTTPServer`` serves them on 127.0.0.1 (free port, HTTP/1.1
  keep-alive, TCP_NODELAY) from a separate process (this script with ``--serve``; it
  exits when its stdin closes), so its memory and GIL stay out of the measured
  processes and out of this one (its CPU still shares the machine with them).
  Every response waits the server's latency before answering, standing in for the round
  trip to a real news site; 0 measures the pure loopback cost.  A response is gzip-encoded
  when the request says ``Accept-Encoding: gzip`` (bodies are compressed once up front, so
  serving costs the same either way); ``--no-gzip`` serves identity to everybody.  wget
  1.21 sends ``Accept-Encoding: identity`` and so receives ~3.5x more bytes than archiver,
  which asks for gzip and stores the encoded payload as received.
* Each round captures the URL list twice, against the same server, one tool after the
  other: ``archiver capture -i urls.txt --archive DIR --concurrency N --json``
  and ``wget -q -e robots=off --input-file=urls.txt --warc-file=DIR/wget -O /dev/null``
  (wget fetches sequentially; ``-O /dev/null`` and ``--delete-after`` both leave the WARC
  complete, ``-O /dev/null`` avoids writing and deleting 200 files).
* Each tool is a child process started with ``subprocess.Popen`` and reaped with
  ``os.wait4(pid, 0)``.  Wall time is ``perf_counter`` from start to reap, so it includes
  interpreter start-up and imports.  Peak RSS is the child's own ``ru_maxrss`` from
  ``wait4``, with one Linux caveat: the high-water mark of the process that *spawns* a
  child is carried over its ``exec``, so ``ru_maxrss`` is really max(child, spawner).
  This script keeps itself small (no pages in memory) and records its own peak just
  before each spawn; a ``wait4`` figure above that floor is the child's exact peak, one at
  or below it is replaced by the child's ``VmHWM`` sampled from ``/proc`` every 10 ms
  (marked ``~``).  Neither figure ever includes the other tool.
* Success is checked, not assumed: archiver's exit code, its JSON lines (one per URL, an
  ``error`` key on failure, HTTP status 200 expected), the rows of its catalogue and the
  ``.warc.gz`` files on disk; for wget the exit code and the ``response`` records (and
  their HTTP statuses) in its WARC.  "WARC bytes" is the size of the WARC files on disk
  (archiver's SQLite catalogue is listed separately).

Rounds: each latency (``--latencies``, default 0 and 50 ms, one server process each) is
measured ``--rounds`` (3) times, latencies alternating and the tools' order alternating
from round to round, so drift in the machine's load hits both tools alike; the report gives
medians per latency: pages/s of each tool and their ratio, archiver's peak RSS, and WARC
bytes per capture of each tool (archiver's run appends its captures to rolling WARC files).
Goals: >= 3x wget's pages/s at 0 ms, >= 10x at 50 ms, peak RSS < 150 MB, bytes per capture
<= 1.15x wget's. Exit status: 0 goals met, 3 goals missed, 1 captures failed, 2 setup error.

Usage: ``.venv/bin/python benchmarks/capture_bench.py [--pages 200] [--size-kb 50]
[--concurrency 16] [--latencies 0,0.05] [--rounds 3] [--no-gzip] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

GOAL_RATIO = 3.0
GOAL_RSS_MB = 150.0
SEED = 20240611

VOCABULARY = (
    "the council said on tuesday that its budget for next year would include new funding for "
    "schools roads and housing after months of debate among members who disagreed over how much "
    "the city could afford officials noted that revenue from property taxes had risen while "
    "state grants fell and residents at a public hearing urged the mayor to protect libraries "
    "parks and transit service critics argued the plan relied on optimistic forecasts and one "
    "analyst warned that a downturn could leave a gap of several million dollars the proposal "
    "now goes to a final vote later this month according to a spokesperson for the office "
    "investigators reported evidence witnesses court ruling hospital minister election campaign "
    "company shares market prices energy climate weather storm flooding police inquiry report"
)
WORDS = VOCABULARY.split()
FIRST_NAMES = ("Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas")
LAST_NAMES = ("Alvarez", "Brennan", "Chen", "Dubois", "Eriksen", "Fischer", "Gupta", "Haddad")
SECTIONS = ("World", "Politics", "Business", "Science", "Climate", "Health", "Culture", "Sport")


# -- pages ---------------------------------------------------------------------------------


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 24))]
    return " ".join(words).capitalize() + rng.choice((".", ".", ".", ",” she said.", "?"))


def _boilerplate_top(rng: random.Random) -> str:
    nav = "".join(f'<li><a href="/section/{s.lower()}">{s}</a></li>' for s in SECTIONS)
    return (
        '<header class="site-header"><a class="logo" href="/">The Loopback Gazette</a>'
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav>'
        '<form class="search" action="/search"><input name="q" placeholder="Search">'
        '</form><a class="subscribe" href="/subscribe">Subscribe</a></header>\n'
        f'<div class="ad" data-slot="top-{rng.randint(1000, 9999)}">Advertisement</div>\n'
    )


def _boilerplate_bottom(rng: random.Random, index: int, pages: int) -> str:
    related = "".join(
        f'<li><a href="/articles/{(index + k) % pages:04d}.html">{_sentence(rng)[:60]}</a></li>'
        for k in range(1, 6)
    )
    return (
        f'<aside class="related"><h2>Related</h2><ul>{related}</ul></aside>\n'
        "<footer><p>© The Loopback Gazette. All rights reserved.</p>"
        '<a href="/privacy">Privacy</a> · <a href="/terms">Terms</a> · '
        '<a href="/contact">Contact</a></footer>\n'
        "<script>window.dataLayer=window.dataLayer||[];dataLayer.push({event:'pageview'});</script>\n"
    )


def make_article(index: int, pages: int, size: int) -> bytes:
    """One article page of about `size` bytes, the same bytes for the same arguments."""
    rng = random.Random(SEED * 100_003 + index)
    headline = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 12))).capitalize()
    author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    day = 1 + index % 28
    published = f"2024-05-{day:02d}T{rng.randint(6, 22):02d}:{rng.randint(0, 59):02d}:00Z"
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(headline)} | The Loopback Gazette</title>"
        f'<link rel="canonical" href="/articles/{index:04d}.html">'
        f'<meta property="og:title" content="{html.escape(headline)}">'
        f'<meta name="author" content="{author}">'
        f'<meta property="article:published_time" content="{published}">'
        '<link rel="stylesheet" href="/static/site.css"></head><body>\n'
    )
    top = _boilerplate_top(rng)
    article_head = (
        f"<main><article><h1>{html.escape(headline)}</h1>\n"
        f'<p class="byline">By <a rel="author" href="/people/{author.lower().replace(" ", "-")}">'
        f'{author}</a></p><time datetime="{published}">{published[:10]}</time>\n'
    )
    bottom = "</article></main>\n" + _boilerplate_bottom(rng, index, pages) + "</body></html>\n"
    parts = [head, top, article_head]
    used = sum(len(p) for p in parts) + len(bottom)
    while used < size:
        paragraph = "<p>" + " ".join(_sentence(rng) for _ in range(rng.randint(3, 7))) + "</p>\n"
        parts.append(paragraph)
        used += len(paragraph)
    parts.append(bottom)
    return "".join(parts).encode()


@dataclass
class Page:
    """A page body as served: plain, and gzip-compressed once up front."""

    identity: bytes
    gzipped: bytes


def make_pages(count: int, size: int) -> dict[str, Page]:
    """`/articles/NNNN.html` -> its body, plain and gzip-compressed (computed once)."""
    pages = {}
    for index in range(count):
        body = make_article(index, count, size)
        pages[f"/articles/{index:04d}.html"] = Page(body, gzip.compress(body, 6, mtime=0))
    return pages


# -- server (runs in its own process: this script with --serve) ---------------------------


def serve(pages_count: int, size: int, latency: float, allow_gzip: bool) -> None:
    """Generate the pages, serve them until killed; first stdout line: JSON with the port."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    started = time.perf_counter()
    pages = make_pages(pages_count, size)
    generated_s = time.perf_counter() - started

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real site
        # Headers and body leave in two writes; with Nagle on, a client that delays its ACKs
        # (Linux: 40 ms) would stall on every response.  Real servers set TCP_NODELAY too.
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            if latency:
                time.sleep(latency)
            page = pages.get(self.path.split("?")[0])
            accept = self.headers.get("Accept-Encoding") or ""
            use_gzip = page is not None and allow_gzip and "gzip" in accept.lower()
            if page is None:
                status, body = 404, b"not found\n"
            else:
                status, body = 200, page.gzipped if use_gzip else page.identity
            self._send(status, body, "text/html; charset=utf-8", use_gzip)

        def _send(self, status: int, body: bytes, content_type: str, gzipped: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=60")
            self.send_header("Vary", "Accept-Encoding")
            if gzipped:
                self.send_header("Content-Encoding", "gzip")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 128

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client dropping a keep-alive connection is not news

    server = Server(("127.0.0.1", 0), Handler)
    print(
        json.dumps(
            {
                "port": server.server_address[1],
                "generated_s": generated_s,
                "identity_bytes": sum(len(p.identity) for p in pages.values()),
                "gzip_bytes": sum(len(p.gzipped) for p in pages.values()),
                "paths": list(pages),
            }
        ),
        flush=True,
    )

    def exit_with_parent() -> None:  # stdin is a pipe from the bench: EOF means it is gone
        sys.stdin.buffer.read()
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    server.serve_forever()


class ServerProcess:
    """The --serve child: start it, learn its port, ask for its counters, stop it."""

    def __init__(self, pages: int, size: int, latency: float, allow_gzip: bool) -> None:
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve",
            "--pages",
            str(pages),
            "--size-kb",
            str(size / 1024),
            "--latency",
            str(latency),
        ]
        if not allow_gzip:
            argv.append("--no-gzip")
        # stdin stays open and unused: the server exits when it closes, even if we are killed
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"page server exited with status {self.proc.returncode}")
        self.info = json.loads(line)
        self.base = f"http://127.0.0.1:{self.info['port']}"

    def stop(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()


# -- running the tools ---------------------------------------------------------------------


def maxrss_mb(ru_maxrss: int) -> float:
    """ru_maxrss in MiB (Linux reports KiB, macOS bytes)."""
    return ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def _vm_hwm_mb(pid: int) -> float:
    """A live process's peak RSS so far (Linux /proc VmHWM), 0.0 when unavailable."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


@dataclass
class ChildRun:
    exit_code: int
    seconds: float
    peak_rss_mb: float
    rss_sampled: bool  # True: VmHWM samples (a lower bound), False: exact wait4 figure


def run_child(argv: list[str], stdout: IO[bytes], stderr: IO[bytes]) -> ChildRun:
    """Run `argv` to completion; its exit code, wall seconds and own peak RSS."""
    floor = maxrss_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    done = threading.Event()
    sampled = [0.0]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr)

    def sample() -> None:
        while not done.wait(0.01):
            sampled[0] = max(sampled[0], _vm_hwm_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    exact = maxrss_mb(usage.ru_maxrss)
    if exact > floor + 0.5:  # above what the spawn inherited from this process
        return ChildRun(proc.returncode, seconds, exact, False)
    return ChildRun(proc.returncode, seconds, sampled[0] or exact, True)


@dataclass
class Run:
    tool: str
    pages_ok: int
    pages_total: int
    child: ChildRun
    warc_bytes: int
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return self.pages_ok / self.child.seconds if self.child.seconds else 0.0


def archiver_command() -> list[str]:
    """The `archiver` script next to this interpreter, else whatever is on PATH."""
    beside = Path(sys.executable).parent / "archiver"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("archiver")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from archiver.cli import main; sys.exit(main())"]


def run_archiver(urls_file: Path, out_dir: Path, total: int, concurrency: int) -> Run:
    archive = out_dir / "archiver"
    argv = [
        *archiver_command(),
        "capture",
        "-i",
        str(urls_file),
        "--archive",
        str(archive),
        "--concurrency",
        str(concurrency),
        "--json",
    ]
    # stdout to a file, not a pipe: 200 JSON lines overflow a pipe nobody reads during wait4
    stdout_path, stderr_path = out_dir / "archiver.stdout.jsonl", out_dir / "archiver.stderr.txt"
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        child = run_child(argv, out, err)
    ok, failures = 0, []
    for line in stdout_path.read_text(errors="replace").splitlines():
        try:
            result = json.loads(line)
        except ValueError:
            failures.append(f"unparsable output line: {line[:120]}")
            continue
        if "error" in result:
            failures.append(f"{result.get('url')}: {result['error']}")
        elif result.get("status") != 200:
            failures.append(f"{result.get('url')}: HTTP {result.get('status')}")
        else:
            ok += 1
    if ok + len(failures) < total:
        failures.append(f"{total - ok - len(failures)} URLs produced no output line")
    warcs = (
        [p for p in (archive / "warcs").rglob("*.warc.gz") if not p.name.startswith(".")]
        if (archive / "warcs").exists()
        else []
    )
    rows = 0
    index = archive / "index.sqlite3"
    if index.exists():
        db = sqlite3.connect(index)
        try:
            rows = db.execute("SELECT COUNT(*) FROM captures").fetchone()[0]
        finally:
            db.close()
    if rows != ok or (ok and not warcs):
        failures.append(f"{ok} successes reported but {len(warcs)} WARC files, {rows} catalogue rows")
    if child.exit_code != 0:
        failures.append(f"exit code {child.exit_code}")
        stderr_lines = stderr_path.read_text(errors="replace").strip().splitlines()
        failures += [f"stderr: {line[:200]}" for line in stderr_lines[-5:]]
    catalogue = sum(p.stat().st_size for p in archive.glob("index.sqlite3*")) if archive.exists() else 0
    run = Run("archiver", ok, total, child, sum(p.stat().st_size for p in warcs), failures)
    run.notes.append(
        f"archiver: {len(warcs)} rolling .warc.gz file(s), {rows} catalogue "
        f"rows, catalogue {catalogue / 1e6:.2f} MB (not in WARC bytes)"
    )
    return run


def wget_version(wget: str) -> str:
    lines = subprocess.run([wget, "--version"], capture_output=True, text=True).stdout.splitlines()
    return lines[0].rstrip(".") if lines else "wget (unknown version)"


def count_warc_responses(path: Path) -> tuple[int, Counter[int]]:
    """(response records, their HTTP status codes) in a record-per-member .warc.gz."""
    responses, statuses = 0, Counter[int]()
    expect_status = False
    with gzip.open(path, "rb") as handle:
        for line in handle:
            if line.startswith(b"WARC-Type: response"):
                responses += 1
                expect_status = True
            elif expect_status and line.startswith(b"HTTP/"):
                statuses[int(line.split()[1])] += 1
                expect_status = False
    return responses, statuses


def run_wget(wget: str, urls_file: Path, out_dir: Path, total: int) -> Run:
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = out_dir / "wget"
    argv = [
        wget,
        "-q",
        "-e",
        "robots=off",
        f"--input-file={urls_file}",
        f"--warc-file={prefix}",
        "-O",
        os.devnull,
    ]
    with open(out_dir / "wget.stdout.txt", "wb") as out, open(out_dir / "wget.stderr.txt", "wb") as err:
        child = run_child(argv, out, err)
    warc = out_dir / "wget.warc.gz"
    failures: list[str] = []
    responses, statuses = 0, Counter[int]()
    if warc.exists():
        try:
            responses, statuses = count_warc_responses(warc)
        except (OSError, EOFError, zlib.error) as exc:
            failures.append(f"cannot read {warc.name}: {exc}")
    else:
        failures.append(f"no WARC written at {warc}")
    ok = statuses.get(200, 0)
    if child.exit_code != 0:
        failures.append(f"exit code {child.exit_code}")
    if ok != total:
        failures.append(f"{ok}/{total} HTTP 200 responses in the WARC (statuses {dict(statuses)})")
    run = Run("wget", ok, total, child, warc.stat().st_size if warc.exists() else 0, failures)
    run.notes.append(f"wget: {responses} response records in one {warc.name}")
    return run


# -- report --------------------------------------------------------------------------------


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="archiver capture vs wget --warc-file: pages/s, ratio, peak RSS, bytes per capture."
    )
    parser.add_argument("--pages", type=int, default=200, help="article pages (default 200)")
    parser.add_argument("--size-kb", type=float, default=50, help="KB per page (default 50)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="archiver --concurrency (default 16, its default)"
    )
    parser.add_argument(
        "--latencies",
        default="0,0.05",
        help="server latencies in seconds, measured alternately (default 0,0.05)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tool per latency (median)")
    parser.add_argument("--latency", type=float, default=0.0, help=argparse.SUPPRESS)  # the server's own
    parser.add_argument(
        "--no-gzip",
        dest="gzip",
        action="store_false",
        help="serve identity bodies even to clients that accept gzip",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="write outputs (WARCs, archive, logs, urls.txt) to DIR and keep them",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)  # internal
    args = parser.parse_args(argv)
    try:
        args.latency_list = [float(x) for x in args.latencies.split(",") if x.strip()]
    except ValueError:
        parser.error("--latencies takes seconds separated by commas, e.g. 0,0.05")
    if args.pages < 1 or args.size_kb <= 0 or args.concurrency < 1 or args.rounds < 1:
        parser.error("--pages, --size-kb, --concurrency and --rounds must be positive")
    if not args.latency_list or min(args.latency_list) < 0:
        parser.error("--latencies must be >= 0")
    return args


GOALS = {0.0: 3.0, 0.05: 10.0}  # pages/s ratio to wget wanted at each latency
GOAL_BYTES = 1.15  # archiver's WARC bytes per capture, at most this many times wget's


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    size = int(args.size_kb * 1024)
    if args.serve:
        serve(args.pages, size, args.latency, args.gzip)
        return 0
    wget = shutil.which("wget")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            print(f"capture_bench: --keep {args.keep} is not empty; refusing to mix runs", file=sys.stderr)
            return 2
        out_dir, cleanup = args.keep.resolve(), None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="capture-bench-")
        out_dir = Path(cleanup.name)
    servers: dict[float, ServerProcess] = {}
    try:
        for latency in args.latency_list:
            servers[latency] = ServerProcess(args.pages, size, latency, args.gzip)
        info = next(iter(servers.values())).info
        print("capture benchmark: archiver capture vs wget --warc-file, side by side")
        print(
            f"  pages        {args.pages} x ~{args.size_kb:g} KB (mean "
            f"{info['identity_bytes'] / args.pages / 1024:.1f} KB identity, "
            f"{info['gzip_bytes'] / args.pages / 1024:.1f} KB gzip), "
            f"gzip {'when accepted' if args.gzip else 'off'}"
        )
        print(
            "  servers      ThreadingHTTPServer per latency "
            f"({', '.join(f'{x * 1000:g} ms' for x in servers)}), own processes, HTTP/1.1 keep-alive"
        )
        print(f"  archiver     {' '.join(archiver_command())} capture --concurrency {args.concurrency}")
        print(f"  wget         {wget_version(wget) if wget else 'NOT FOUND'} (sequential)")
        print(
            f"  rounds       {args.rounds} per latency, latencies alternating, tool order alternating;"
            " figures are medians"
        )
        print(
            f"  machine      {platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs, {platform.system()} {platform.release()}, "
            f"load average {_load()} (other work on the machine skews both tools)"
        )
        print()
        results: dict[float, list[tuple[Run, Run | None]]] = {latency: [] for latency in servers}
        failures: list[str] = []
        for round_no in range(args.rounds):
            for latency, server in servers.items():
                urls_file = out_dir / f"urls-{latency:g}.txt"
                urls_file.write_text("".join(f"{server.base}{path}\n" for path in server.info["paths"]))
                where = out_dir / f"round{round_no}-{latency:g}"
                where.mkdir(parents=True)
                order = ["archiver", "wget"] if round_no % 2 == 0 else ["wget", "archiver"]
                ours: Run | None = None
                theirs: Run | None = None
                for tool in order:
                    if tool == "archiver":
                        ours = run_archiver(urls_file, where, args.pages, args.concurrency)
                    elif wget:
                        theirs = run_wget(wget, urls_file, where / "wget", args.pages)
                assert ours is not None
                for run in (ours, theirs):
                    if run is not None:
                        failures += [f"{run.tool} at {latency * 1000:g} ms: {line}" for line in run.failures]
                results[latency].append((ours, theirs))
                if cleanup is not None:
                    shutil.rmtree(where, ignore_errors=True)
        return _report(results, failures, args.pages, wget is not None)
    except (RuntimeError, OSError) as exc:
        print(f"capture_bench: {exc}", file=sys.stderr)
        return 2
    finally:
        for server in servers.values():
            server.stop()
        if cleanup is not None:
            cleanup.cleanup()


def _report(
    results: dict[float, list[tuple[Run, Run | None]]], failures: list[str], pages: int, wget: bool
) -> int:
    """One line per latency (medians), then the goals."""
    header = (
        f"{'latency':>8}{'archiver p/s':>14}{'wget p/s':>10}{'ratio':>8}{'goal':>7}"
        f"{'RSS MB':>8}{'bytes/capture':>15}{'wget bytes':>12}{'bytes ratio':>13}"
    )
    print(header)
    print("-" * len(header))
    met = True
    for latency, runs in results.items():
        ours = median([a.pages_per_s for a, _ in runs])
        theirs = median([w.pages_per_s for _, w in runs if w]) if wget else 0.0
        ratio = ours / theirs if theirs else float("nan")
        goal = GOALS.get(round(latency, 3), GOAL_RATIO)
        rss = max(a.child.peak_rss_mb for a, _ in runs)
        ours_bytes = median([a.warc_bytes / max(a.pages_ok, 1) for a, _ in runs])
        their_bytes = median([w.warc_bytes / max(w.pages_ok, 1) for _, w in runs if w]) if wget else 0.0
        bytes_ratio = ours_bytes / their_bytes if their_bytes else float("nan")
        met = (
            met
            and (not wget or ratio >= goal)
            and rss < GOAL_RSS_MB
            and (not wget or bytes_ratio <= GOAL_BYTES)
        )
        print(
            f"{latency * 1000:>6g}ms{ours:>14.1f}{theirs:>10.1f}{ratio:>7.2f}x{goal:>6g}x"
            f"{rss:>8.1f}{ours_bytes:>15,.0f}{their_bytes:>12,.0f}{bytes_ratio:>12.2f}x"
        )
        each = ", ".join(
            f"{a.pages_per_s:.0f}/{w.pages_per_s:.0f}" if w else f"{a.pages_per_s:.0f}" for a, w in runs
        )
        print(f"{'':>8}  each round, archiver/wget pages/s: {each}")
    print()
    print(
        f"goals: pages/s >= {', '.join(f'{g:g}x wget at {x * 1000:g} ms' for x, g in GOALS.items())}; "
        f"peak RSS < {GOAL_RSS_MB:g} MB; WARC bytes per capture <= {GOAL_BYTES:g}x wget's: "
        f"{'ALL MET' if met and not failures else 'NOT ALL MET'}"
    )
    if failures:
        print(f"FAILURES ({len(failures)}):")
        for line in failures[:20]:
            print(f"  {line}")
        return 1
    print(f"all captures of {pages} pages succeeded in every round")
    return 0 if met else 3


if __name__ == "__main__":
    sys.exit(main())
