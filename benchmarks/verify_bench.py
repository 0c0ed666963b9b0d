"""Speed of `archiver verify` against the practical limit, `gzip -dc FILES | sha256sum`.

What is measured
----------------
* An archive of at least ``--size-mb`` (200) MB of capture files on disk is built by real
  captures: a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 serves seeded article pages of about
  ``--page-kb`` (400) KB of HTML (markup, navigation, paragraphs of words, an inline JSON
  blob; they compress about 3-4x, like real news pages), and ``archiver.capture.save.capture_url``
  captures them with 4 threads, so the WARC files, catalogue and chain are exactly what
  ``archiver capture`` makes. ``--keep DIR`` keeps (and on later runs reuses) the archive.
* Both contestants read the same files, warmed into the page cache first (``cat > /dev/null``)
  so neither pays for the disk: the limit is ``find warcs -name '*.warc.gz' -print0 | xargs -0
  gzip -dc | sha256sum`` (one decompressor feeding one hasher, two processes in a pipe), and
  ``archiver verify --archive DIR --json`` as a child process (interpreter start-up included),
  which checks every gzip member, recomputes every block and payload digest, checks every
  catalogue row, the chain and the signatures.
* Each is run ``--repeat`` (3) times; the best time of each is reported. MB/s is compressed
  megabytes on disk (10^6 bytes) per second for both. The goal: verify at least 0.8 of the
  limit's MB/s.
* Scale (``--scale 1000,4000``): archives of that many small captures (~``--scale-kb`` 8 KB
  pages), each made by one ``archiver capture -i`` run (so its captures share rolling WARC
  files), then ``archiver verify`` and ``archiver export`` (all captures, a WACZ) timed on
  each. Both must grow linearly: time per capture at the largest size within 20 % of the
  smallest's.

Usage: ``.venv/bin/python benchmarks/verify_bench.py [--size-mb 200] [--page-kb 400]
[--repeat 3] [--scale 1000,4000] [--scale-kb 8] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.archive.folder import Archive  # noqa: E402
from archiver.capture.fetch import FetchOptions, new_session  # noqa: E402
from archiver.capture.save import capture_url  # noqa: E402

GOAL_RATIO = 0.8
GOAL_LINEAR = 1.2  # time per capture at the largest scale over the smallest's, at most
SEED = 1729
VOCABULARY = (
    "council budget schools roads housing debate members revenue property taxes grants "
    "residents hearing mayor libraries parks transit critics forecasts analyst downturn "
    "proposal vote spokesperson office investigators evidence witnesses court ruling "
    "hospital minister election campaign company shares market prices energy climate "
    "weather storm flooding police inquiry report"
)
WORDS = VOCABULARY.split(" ")


def article(number: int, size: int) -> bytes:
    """A seeded news page of about `size` bytes."""
    rng = random.Random(SEED * 1_000_003 + number)
    parts = [
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>Story {number}</title>"
        "<link rel=stylesheet href=/site.css></head><body><header><nav>"
        + "".join(f"<a class=nav-link href=/section/{s}>{s}</a>" for s in WORDS[:12])
        + f"</nav></header><main><article><h1>Story {number}: {' '.join(rng.sample(WORDS, 6))}"
        "</h1><p class=byline>By A. Reporter</p>"
    ]
    data = {"id": number, "tags": rng.sample(WORDS, 8), "scores": [rng.random() for _ in range(40)]}
    parts.append(f"<script type=application/ld+json>{json.dumps(data)}</script>")
    length = sum(map(len, parts))
    while length < size:
        words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(40, 120)))
        paragraph = f"<p class=story-body data-n={rng.randint(0, 10**9)}>{words.capitalize()}.</p>\n"
        parts.append(paragraph)
        length += len(paragraph)
    parts.append("</article></main><footer>Copyright</footer></body></html>")
    return "".join(parts).encode()


def serve(page_kb: int) -> tuple[ThreadingHTTPServer, str]:
    """Serve /story/N on a free loopback port from a background thread."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = article(int(self.path.rsplit("/", 1)[-1]), page_kb * 1024)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def warc_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in (root / "warcs").rglob("*.warc.gz"))


def build(root: Path, size_mb: int, page_kb: int) -> None:
    """Capture pages until the archive's WARC files reach `size_mb` MB."""
    server, base = serve(page_kb)
    local = threading.local()

    def work(number: int) -> None:
        if not hasattr(local, "archive"):
            local.archive, local.session = Archive(root), new_session()
        capture_url(local.archive, f"{base}/story/{number}", FetchOptions(), local.session)

    Archive(root).close()
    number, started = len(list((root / "warcs").rglob("*.warc.gz"))), time.time()
    with ThreadPoolExecutor(4) as pool:
        while warc_bytes(root) < size_mb * 10**6:
            list(pool.map(work, range(number, number + 40)))
            number += 40
            print(f"  built {warc_bytes(root) / 1e6:.0f} MB", end="\r", file=sys.stderr)
    server.shutdown()
    print(f"  built {warc_bytes(root) / 1e6:.0f} MB in {time.time() - started:.0f} s", file=sys.stderr)


def timed(command: str, cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    seconds, done, _ = measured(command, cwd)
    return seconds, done


def measured(command: str, cwd: Path) -> tuple[float, subprocess.CompletedProcess, float]:
    """Run a shell command: wall seconds, its outcome, and the peak RSS in MB of the largest
    process it ran (wait4's ru_maxrss, which covers the shell's children)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(["bash", "-o", "pipefail", "-c", command], cwd=cwd, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = (out.read().decode(errors="replace"), err.read().decode(errors="replace"))
    done = subprocess.CompletedProcess(command, child.returncode, text[0], text[1])
    return seconds, done, usage.ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--page-kb", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", default="1000,4000", help="capture counts for the linearity check")
    parser.add_argument("--scale-kb", type=int, default=8)
    parser.add_argument("--keep", type=Path, help="archive folder to keep and reuse")
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="verify-bench-"))
    try:
        existing = warc_bytes(root) if (root / "warcs").is_dir() else 0
        if existing < args.size_mb * 10**6:
            build(root, args.size_mb, args.page_kb)
        speed = measure(root, args.repeat)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    counts = [int(x) for x in args.scale.split(",") if x.strip()]
    linear = scale(counts, args.scale_kb) if counts else 0
    return speed or linear


def scale(counts: list[int], page_kb: int) -> int:
    """verify and export time at each archive size; 0 when both grow linearly."""
    server, base = serve(page_kb)
    archiver = Path(sys.executable).parent / "archiver"
    rows = []
    try:
        for count in counts:
            work = Path(tempfile.mkdtemp(prefix="verify-scale-"))
            try:
                urls = work / "urls.txt"
                urls.write_text("".join(f"{base}/story/{n}\n" for n in range(count)))
                made, done = timed(
                    f"{archiver} capture --archive archive -i urls.txt --json > /dev/null", work
                )
                if done.returncode:
                    raise SystemExit(f"capture failed: {done.stderr[-2000:]}")
                verified, done, verify_rss = measured(f"{archiver} verify --archive archive --json", work)
                if done.returncode:
                    raise SystemExit(f"verify failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
                exported, done, export_rss = measured(
                    f"{archiver} export --archive archive -o all.wacz >/dev/null", work
                )
                if done.returncode:
                    raise SystemExit(f"export failed: {done.stderr[-2000:]}")
                files = len(list((work / "archive" / "warcs").rglob("*.warc.gz")))
                rows.append((count, files, made, verified, exported, verify_rss, export_rss))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        server.shutdown()
    print()
    print(
        f"{'captures':>9}{'files':>7}{'capture s':>11}{'verify s':>10}{'ms/capture':>12}"
        f"{'RSS MB':>8}{'export s':>10}{'ms/capture':>12}{'RSS MB':>8}"
    )
    for count, files, made, verified, exported, verify_rss, export_rss in rows:
        print(
            f"{count:>9}{files:>7}{made:>11.2f}{verified:>10.2f}{verified / count * 1000:>12.2f}"
            f"{verify_rss:>8.0f}{exported:>10.2f}{exported / count * 1000:>12.2f}{export_rss:>8.0f}"
        )
    first, last = rows[0], rows[-1]
    growth = {name: (last[i] / last[0]) / (first[i] / first[0]) for name, i in (("verify", 3), ("export", 4))}
    ok = all(value <= GOAL_LINEAR for value in growth.values())
    print(
        "time per capture, largest over smallest: "
        + ", ".join(f"{name} {value:.2f}" for name, value in growth.items())
        + f"  (goal <= {GOAL_LINEAR}: {'met' if ok else 'NOT met'})"
    )
    return 0 if ok else 1


def measure(root: Path, repeat: int) -> int:
    files = sorted((root / "warcs").rglob("*.warc.gz"))
    total = sum(p.stat().st_size for p in files)
    subprocess.run(
        ["bash", "-c", "find warcs -name '*.warc.gz' -print0 | xargs -0 cat > /dev/null"],
        cwd=root,
        check=True,
    )
    limit_command = "find warcs -name '*.warc.gz' -print0 | xargs -0 gzip -dc | sha256sum"
    archiver = Path(sys.executable).parent / "archiver"
    verify_command = f"{archiver} verify --archive . --json"
    limit_times, verify_times = [], []
    for _ in range(repeat):
        seconds, done = timed(limit_command, root)
        if done.returncode:
            raise SystemExit(f"limit command failed: {done.stderr}")
        limit_times.append(seconds)
        seconds, done = timed(verify_command, root)
        report = json.loads(done.stdout)
        if done.returncode or not report["ok"]:
            raise SystemExit(f"verify failed ({done.returncode}): {done.stdout[-2000:]} {done.stderr}")
        verify_times.append(seconds)
    limit_rate = total / 1e6 / min(limit_times)
    verify_rate = total / 1e6 / min(verify_times)
    ratio = verify_rate / limit_rate
    checks = {c["check"]: c["checked"] for c in report["checks"]}
    print(
        f"archive: {len(files)} capture files, {total / 1e6:.1f} MB on disk, "
        f"{checks.get('digests', 0)} records, {os.cpu_count()} CPUs"
    )
    print(f"gzip -dc | sha256sum : {min(limit_times):6.2f} s  {limit_rate:7.1f} MB/s  (the limit)")
    print(f"archiver verify      : {min(verify_times):6.2f} s  {verify_rate:7.1f} MB/s")
    print(
        f"ratio verify/limit   : {ratio:.2f}  (goal >= {GOAL_RATIO}: "
        f"{'met' if ratio >= GOAL_RATIO else 'NOT met'})"
    )
    return 0 if ratio >= GOAL_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
