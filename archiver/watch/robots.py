"""robots.txt, honoured by default (RFC 9309): fetched once per site per hour; a 4xx means
no rules, a server error or no answer means keep off the site until the next try."""

from __future__ import annotations

import threading
import urllib.robotparser
from dataclasses import replace
from urllib.parse import urlsplit

import urllib3

from archiver.capture.fetch import FetchOptions
from archiver.errors import ArchiverError
from archiver.watch.sources import conditional_get

AGENT = "archiver"  # the product token robots.txt groups are matched against
FRESH = 3600.0  # seconds a robots.txt is trusted
RETRY = 600.0  # seconds before a site whose robots.txt could not be read is tried again


class Robots:
    """Per-site rules, cached; `ignore` allows everything (and says so where it matters)."""

    def __init__(self, options: FetchOptions, ignore: bool = False) -> None:
        self.options = replace(options, max_size=1 << 20)  # RFC 9309 asks parsers for 500 KiB at least
        self.ignore = ignore
        self._rules: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}
        self._lock = threading.Lock()

    def _site(self, url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"

    def rules(
        self, session: urllib3.PoolManager, url: str, now: float
    ) -> urllib.robotparser.RobotFileParser | None:
        """The site's parsed robots.txt; None: unreachable, keep off for now."""
        site = self._site(url)
        with self._lock:
            cached = self._rules.get(site)
        if cached is not None and cached[0] > now:
            return cached[1]
        parser: urllib.robotparser.RobotFileParser | None = urllib.robotparser.RobotFileParser()
        assert parser is not None
        try:
            answer, _ = conditional_get(session, site + "/robots.txt", self.options, None, None)
        except ArchiverError:
            answer = None
        if answer is None or answer.status >= 500 or answer.status == 429:
            parser, until = None, now + RETRY
        else:
            text = answer.body.decode("utf-8", "replace") if answer.status == 200 else ""
            parser.parse(text.splitlines())
            until = now + FRESH
        with self._lock:
            self._rules[site] = (until, parser)
        return parser

    def allowed(self, session: urllib3.PoolManager, url: str, now: float) -> bool | None:
        """True: may fetch; False: disallowed; None: robots.txt unreachable (try later)."""
        if self.ignore:
            return True
        parser = self.rules(session, url, now)
        if parser is None:
            return None
        return parser.can_fetch(AGENT, url)

    def delay(self, session: urllib3.PoolManager, url: str, now: float) -> float:
        """The site's Crawl-delay, if it sets one (0 when ignored or absent)."""
        if self.ignore:
            return 0.0
        parser = self.rules(session, url, now)
        value = parser.crawl_delay(AGENT) if parser is not None else None
        return float(value) if value else 0.0
