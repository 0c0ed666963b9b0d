"""`archiver demo`: the main job end to end, offline, on a bundled sample article."""

from __future__ import annotations

import http.server
import json
import random
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from rich.console import Console

from archiver.archive.folder import Archive
from archiver.capture.fetch import FetchOptions
from archiver.capture.save import capture_url
from archiver.diff.select import timeline
from archiver.errors import ExitStatus
from archiver.output.tables import capture_line, history_rows, history_table
from archiver.output.terminal import render_terminal, render_timeline
from archiver.urls import canonicalize

ARTICLE_PATH = "/2026/01/02/mayor-letter"
HEADLINES = [
    "Storm closes coastal road",
    "Council race tightens",
    "Ferry fares to rise",
    "School board names new chief",
    "Fishing season opens early",
    "Library extends hours",
]


def sample(version: int) -> str:
    """The bundled sample article, version 1 (original) or 2 (silently edited: version 1 with
    the replacements in samples/silent-edit.json)."""
    samples = resources.files("archiver").joinpath("samples")
    page = samples.joinpath("article-v1.html").read_text("utf-8")
    if version == 2:
        for old, new in json.loads(samples.joinpath("silent-edit.json").read_text("utf-8"))["replace"]:
            page = page.replace(old, new)
    return page


def with_churn(page: str, rng: random.Random) -> str:
    """Fill the page's volatile slots (ads, trending links, nonces, timestamps) afresh."""
    links = lambda: "".join(  # noqa: E731
        f'<li><a href="/story/{rng.randrange(10**6)}?ref=trending">{h}</a></li>'
        for h in rng.sample(HEADLINES, 3)
    )
    values = {
        "nonce": f"{rng.getrandbits(64):016x}",
        "generated": datetime.now(UTC).isoformat(),
        "modified": datetime.now(UTC).isoformat(),
        "trending": links(),
        "related": links(),
        "ad": rng.choice(["Harbor Cruises 20% off", "Visit Deep Cove", "Subscribe for $1"]),
        "comments": str(rng.randrange(50, 500)),
    }
    for key, value in values.items():
        page = page.replace("{{" + key + "}}", value)
    return page


@contextmanager
def serve(pages: dict[str, str]) -> Iterator[str]:
    """Serve `pages[ARTICLE_PATH]`-style mutable pages on 127.0.0.1; yields the base URL."""
    rng = random.Random()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path not in pages:
                self.send_error(404)
                return
            body = with_churn(pages[path], rng).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def run_demo(archive_dir: Path | None, console: Console) -> ExitStatus:
    """Capture the sample three times (original, same article with new page churn, edited),
    then show the history and what changed. Returns the exit code."""
    with tempfile.TemporaryDirectory(prefix="archiver-demo-") as scratch:
        root = archive_dir or Path(scratch) / "archives"
        archive = Archive(root)
        pages = {ARTICLE_PATH: sample(1)}
        with serve(pages) as base:
            url = f"{base}{ARTICLE_PATH}?utm_source=demo"
            console.print(f"[bold]archiver demo[/] — serving a sample article at {base}{ARTICLE_PATH}")
            console.print(f"archive: {root}{'' if archive_dir else ' (temporary)'}\n")
            steps = [
                ("1. the article as first published", 1),
                ("2. the same article later: new ads, trending links, timestamps", 1),
                ("3. the article after a silent edit", 2),
            ]
            for label, version in steps:
                pages[ARTICLE_PATH] = sample(version)
                console.print(label)
                capture_line(console, capture_url(archive, url, FetchOptions()).to_json())
        console.print()
        canonical = canonicalize(url)
        history_table(console, canonical, history_rows(archive.history(canonical)))
        pairs = timeline(archive, url)
        render_timeline(console, [(a.info, b.info, d) for a, b, d in pairs], canonical)
        again = (
            f"archiver diff --archive {root} '{canonical}'"
            if archive_dir
            else "run `archiver demo --archive DIR` to keep the archive and explore it"
        )
        console.print(f"\n[bold]What changed in the last capture[/] ({again})\n")
        before, after, diff = pairs[-1]
        render_terminal(console, diff, canonical, before.info, after.info)
        return ExitStatus.OK
