"""Edit events: built from a diff of two captures (the `diff --json` shape plus when it was
detected, which watch found it, and both captures' evidence digests), appended to
`events.jsonl` in the archive (one line each, fsynced: `tail -f` follows it), published as
Atom feeds (all edits, per watch, per article), and pushed through Apprise URLs by a
notifier thread that retries with backoff and never holds up capturing."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import queue
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.archive.folder import Archive
from archiver.diff.model import ArticleDiff
from archiver.diff.select import GONE, Version
from archiver.errors import ArchiverError
from archiver.output.atom import entry_text, render_feed
from archiver.output.diffjson import to_json
from archiver.output.summary import max_severity

EVENTS_NAME = "events.jsonl"
FEEDS = "feeds"
FEED_ENTRIES = 100  # the newest events each Atom feed keeps
RANK = {"low": 0, "medium": 1, "high": 2}
NOTIFY_TRIES = 4
JSON_SCHEMES = ("json", "jsons", "form", "forms")  # webhooks: they carry the event JSON itself


def when(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def edit_event(
    archive: Archive, before: Version, after: Version, diff: ArticleDiff, detected_at: str, watch: str | None
) -> dict | None:
    """The event for one comparison: an edit, a page gone (404/410) or a body that vanished;
    None when there is nothing to report."""
    if after.info.get("status") in GONE and before.article.paragraphs:
        kind, severity = "gone", "high"
    elif diff.body_missing and not diff.no_body:
        kind, severity = "body_missing", "high"
    elif diff.has_edits:
        kind, severity = "edit", max_severity(diff) or "low"
    else:
        return None
    evidence = {}
    for side, version in (("before", before), ("after", after)):
        capture = archive.get(str(version.info["id"]))
        evidence[side] = {
            "id": version.info["id"],
            "captured_at": version.info["captured_at"],
            "payload_sha256": version.info["sha256"],
            "manifest_sha256": capture.manifest_sha256 if capture else None,
            "warc_sha256": capture.warc_sha256 if capture else None,
            "signed": bool(capture.signed) if capture else None,
        }
    return {
        "event": kind,
        "severity": severity,
        "detected_at": detected_at,
        "watch": watch,
        **to_json(diff, after.url, before.info, after.info),
        "evidence": evidence,
    }


def since_stamp(text: str) -> str:
    """`--since` as a WARC-Date prefix to compare with: a date or time (ISO 8601), or an age
    such as `7d` or `12h`; ArchiverError otherwise."""
    from archiver.watch.schedule import parse_duration

    try:
        moment = datetime.now(UTC).timestamp() - parse_duration(text)
        return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ArchiverError(f"--since {text!r}: give a date (2026-12-01), a time or an age (7d)") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S")


def at_least(event: dict, minimum: str) -> bool:
    return RANK[event["severity"]] >= RANK[minimum]


def append_event(root: Path, event: dict) -> None:
    """One line in events.jsonl, on disk before anyone is told (an event is never lost)."""
    line = json.dumps(event, ensure_ascii=False) + "\n"
    with open(Path(root) / EVENTS_NAME, "a", encoding="utf-8") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())


def read_events(root: Path) -> list[dict]:
    """Every event in events.jsonl (a torn last line, from a kill mid-write, is skipped)."""
    path = Path(root) / EVENTS_NAME
    if not path.exists():
        return []
    events = []
    with open(path, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict) and "event" in event:
                    events.append(event)
    return events


def article_feed_name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "watch"


def write_feeds(root: Path, events: list[dict]) -> list[Path]:
    """Rewrite the Atom feeds: feeds/edits.atom (every watch), feeds/watch/NAME.atom and
    feeds/article/HASH.atom (per article URL), each with its newest entries; each file is
    replaced whole, so a reader never sees half of one."""
    folder = Path(root) / FEEDS
    groups: dict[Path, tuple[str, list[dict]]] = {folder / "edits.atom": ("archiver: edits", events)}
    for event in events:
        if event.get("watch"):
            name = str(event["watch"])
            path = folder / "watch" / f"{_slug(name)}.atom"
            groups.setdefault(path, (f"archiver: edits in {name}", []))[1].append(event)
        url = str(event.get("url") or "")
        path = folder / "article" / f"{article_feed_name(url)}.atom"
        groups.setdefault(path, (f"archiver: edits of {url}", []))[1].append(event)
    written = []
    for path, (title, entries) in groups.items():
        newest = sorted(entries, key=lambda e: str(e.get("detected_at")), reverse=True)[:FEED_ENTRIES]
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temp.write_text(render_feed(newest, title, f"urn:archiver:feed:{path.relative_to(folder)}"))
        os.replace(temp, path)
        written.append(path)
    return written


class Notifier:
    """Sends events to Apprise URLs from a thread of its own: a failing endpoint is retried
    with backoff (`wait` cuts it short on stop) and never holds up capturing."""

    def __init__(
        self,
        wait: Callable[[float], bool],
        report: Callable[[str], None],
        backoff: float = 2.0,
    ) -> None:
        self._wait, self._report, self._backoff = wait, report, backoff
        self._jobs: queue.Queue[tuple[dict, str] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.sent = self.failed = 0

    def submit(self, event: dict, urls: list[str]) -> None:
        for url in dict.fromkeys(urls):
            self._jobs.put((event, url))
        if self._thread is None and urls:
            self._thread = threading.Thread(target=self._run, name="archiver-notify", daemon=True)
            self._thread.start()

    def close(self, timeout: float) -> None:
        """Let the queued notifications go out, for at most `timeout` seconds."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout)
            if self._thread.is_alive():  # one in flight, the rest queued before the end marker
                left = self._jobs.qsize()
                self._report(f"{left} notifications not sent (their endpoints are slow or failing)")

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            event, url = job
            for attempt in range(NOTIFY_TRIES):
                if _send(event, url):
                    self.sent += 1
                    break
                if attempt == NOTIFY_TRIES - 1 or self._wait(self._backoff * 2**attempt):
                    self.failed += 1
                    self._report(f"notification to {_redacted(url)} failed {attempt + 1} times; given up")
                    break


def check_notify_url(url: str) -> None:
    """ArchiverError unless Apprise can send to `url` (checked when given, not at the first edit)."""
    if not _apprise().add(url):
        raise ArchiverError(f"--notify {_redacted(url)}: not a notification URL Apprise knows")


def _redacted(url: str) -> str:
    """An Apprise URL without its secrets (tokens and passwords live in it)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '…'}/…"


def _apprise() -> Any:
    """An Apprise instance whose own logging is silenced: we say what failed, in one line."""
    import apprise

    logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)
    return apprise.Apprise()


def _send(event: dict, url: str) -> bool:
    notifier = _apprise()
    if not notifier.add(url):
        return False
    scheme = urlsplit(url).scheme.lower()
    body = json.dumps(event, ensure_ascii=False) if scheme in JSON_SCHEMES else entry_text(event)
    headline = (event.get("headline") or {}).get("after") or event.get("url")
    title = f"archiver: {event['severity']} {event['event']}: {headline}"
    try:
        return bool(notifier.notify(body=body, title=title[:250]))
    except Exception:  # an Apprise plugin failing in its own way: a failed delivery, retried
        return False
