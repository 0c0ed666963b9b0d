"""What `watch run` prints: one line per capture, event or problem (or one JSON object per
line with --json), safe to print from several threads. Everything from a page, a feed or a
URL goes through the one sanitizer (`emit`, `say`)."""

from __future__ import annotations

import threading

from archiver.output.console import emit, emit_json, say
from archiver.output.sanitize import clean

MAX_WHY = 3  # reasons shown on an event's line; the rest are counted


def event_line(event: dict) -> str:
    """`HIGH   edit    Headline → New headline: number 25 → 20; quote's words changed  URL`."""
    headline = event.get("headline") or {}
    if headline.get("changed"):
        title = f"{headline.get('before')} → {headline.get('after')}"
    else:
        title = headline.get("after") or headline.get("before") or ""
    why = list(headline.get("why") or []) if headline.get("changed") else []
    for change in event.get("changes") or []:
        why += [w for w in change.get("why") or [] if w not in why]
    if event.get("status"):
        why.insert(0, event["status"])
    shown = "; ".join(why[:MAX_WHY]) + (f" (+{len(why) - MAX_WHY} more)" if len(why) > MAX_WHY else "")
    return clean(
        f"{event['severity'].upper():<6} {event['event']:<12} {title}: {shown or 'edited'}"
        f"  {event.get('url')}"
    )


class WatchLog:
    """The watcher's voice: stdout lines (or JSON lines), problems also on stderr."""

    def __init__(self, as_json: bool, quiet: bool = False) -> None:
        self.as_json, self.quiet = as_json, quiet
        self._lock = threading.Lock()

    def _out(self, kind: str, line: str, data: dict) -> None:
        if self.quiet:
            return
        with self._lock:
            if self.as_json:
                emit_json({"kind": kind, **data})
            else:
                emit(line)

    def capture(self, url: str, capture_id: str, status: int, what: str, title: str | None) -> None:
        """A capture made: `what` is new, changed, unchanged or gone."""
        shown = f" {title}" if title else ""
        self._out(
            "capture",
            f"captured {what:<9} {status} {url} -> {capture_id}{shown}",
            {"url": url, "id": capture_id, "status": status, "what": what, "title": title},
        )

    def event(self, event: dict) -> None:
        self._out("event", event_line(event), {"event": event})

    def note(self, message: str, **data: object) -> None:
        self._out("note", f"note: {message}", {"message": message, **data})

    def problem(self, message: str, **data: object) -> None:
        """A source or article that failed: said on stderr (and as JSON with --json)."""
        with self._lock:
            if self.as_json and not self.quiet:
                emit_json({"kind": "error", "message": message, **data})
        say("error", message)

    def round(self, stats: dict) -> None:
        parts = ", ".join(f"{value} {name}" for name, value in stats.items() if value)
        self._out("round", f"round done: {parts or 'nothing due'}", {"stats": stats})
