"""A news site on 127.0.0.1 for the watch tests and benchmark: feeds, sitemaps and articles
that change between polls, with ETag/Last-Modified and 304s, a robots.txt, pages held until
released (a slow server), and a webhook receiver for Apprise json://. A manual clock too."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest

LAST_MODIFIED = "Wed, 02 Dec 2026 09:00:00 GMT"


class ManualClock:
    """A clock whose waits pass at once: a day of schedule in no time, never sleeping."""

    def __init__(self, start: float = 1_796_119_200.0) -> None:  # 2026-12-01T10:00Z, feeds' items 1 h old
        self.moment = start

    def now(self) -> float:
        return self.moment

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        self.moment += max(0.0, seconds)
        return stop.is_set()

    def advance(self, seconds: float) -> None:
        self.moment += seconds


@dataclass
class Page:
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    validators: bool = True
    headers: dict[str, str] = field(default_factory=dict)


def article_html(title: str, paragraphs: list[str], modified: str = "2026-12-02T09:00:00Z") -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{escape(title)} | The Loopback Ledger</title>
<meta property="og:title" content="{escape(title)}">
<meta property="article:published_time" content="2026-12-01T09:00:00Z">
<meta property="article:modified_time" content="{modified}">
<meta name="author" content="Dana Whitfield"></head>
<body><main><article><h1>{escape(title)}</h1>
<p class="byline">By Dana Whitfield</p>
{body}
</article></main></body></html>"""


def story(n: int, casualties: int = 25, quote: str = "We will rebuild the harbor") -> tuple[str, list[str]]:
    """A plausible article numbered n, with a number and a quote to edit."""
    return (
        f"Storm damages harbor wall in district {n}",
        [
            f"A storm overnight damaged the harbor wall in district {n}, officials said on Tuesday.",
            f"At least {casualties} boats were sunk at their moorings, according to the harbor master.",
            f'"{quote}," Mayor Elena Ruiz told reporters outside City Hall.',
            "Engineers will inspect the remaining sections of the wall later this week.",
            f"Residents of district {n} were asked to avoid the waterfront until further notice.",
        ],
    )


def rss(items: list[tuple[str, str]], title: str = "Loopback Ledger") -> str:
    entries = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(u)}</link>"
        f"<pubDate>Tue, 01 Dec 2026 09:00:00 GMT</pubDate></item>"
        for u, t in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{escape(title)}</title>'
        f"<link>http://example.invalid/</link><description>news</description>{entries}</channel></rss>"
    )


def sitemap(items: list[tuple[str, str]]) -> str:
    urls = "".join(
        f"<url><loc>{escape(u)}</loc><lastmod>{m}</lastmod><news:news><news:title>t</news:title>"
        "</news:news></url>"
        for u, m in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>'
    )


def sitemap_index(children: list[str]) -> str:
    entries = "".join(f"<sitemap><loc>{escape(c)}</loc></sitemap>" for c in children)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
    )


class Site:
    """The pages by path; `hits`, `not_modified` count requests; `held` paths wait for their
    event before answering; `log` keeps (method, path, headers) of every request."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: Counter[str] = Counter()
        self.not_modified: Counter[str] = Counter()
        self.held: dict[str, threading.Event] = {}
        self.log: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for event in self.held.values():
            event.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(self, path: str, text: str, content_type: str = "text/html; charset=utf-8", **kw: object) -> str:
        self.pages[path] = Page(text.encode(), content_type, **kw)  # type: ignore[arg-type]
        return self.url(path)

    def put_story(self, path: str, n: int, **kw: object) -> str:
        title, paragraphs = story(n, **kw)  # type: ignore[arg-type]
        return self.put(path, article_html(title, paragraphs))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                with site.lock:
                    site.hits[self.path] += 1
                    site.log.append(("GET", self.path, dict(self.headers.items())))
                held = site.held.get(self.path)
                if held is not None:
                    held.wait(30)
                page = site.pages.get(self.path)
                if page is None:
                    page = Page(b"<html><body><h1>Not found</h1></body></html>", status=404, validators=False)
                headers = dict(page.headers)
                if page.validators and page.status == 200:
                    etag = '"' + hashlib.sha256(page.body).hexdigest()[:16] + '"'
                    headers["ETag"] = etag
                    headers["Last-Modified"] = LAST_MODIFIED
                    if self.headers.get("If-None-Match") == etag:
                        with site.lock:
                            site.not_modified[self.path] += 1
                        self.send_response(304)
                        for name, value in headers.items():
                            self.send_header(name, value)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(page.body)))
                self.end_headers()
                self.wfile.write(page.body)

        return Handler


@pytest.fixture(name="site")
def site_fixture() -> Iterator[Site]:
    """The site, with a robots.txt that keeps crawlers out of /private/."""
    with Site() as served:
        served.put("/robots.txt", "User-agent: *\nDisallow: /private/\n", "text/plain")
        yield served


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps each POSTed JSON body; answers 500 to the
    first `failures` posts."""

    def __init__(self, failures: int = 0) -> None:
        self.bodies: list[dict] = []
        self.failures = failures
        self.posts = 0
        self.got = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts += 1
                if receiver.posts <= receiver.failures:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                receiver.bodies.append(json.loads(data))
                receiver.got.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
