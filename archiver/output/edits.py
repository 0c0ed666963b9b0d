"""The tables of `archiver edits` (the edits across the archive, most recent first) and
`archiver watch list` (the watched sources). Every cell from a page or URL is cleaned."""

from __future__ import annotations

from datetime import UTC, datetime

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from archiver.output.sanitize import clean
from archiver.output.summary import SEVERITY_STYLE
from archiver.output.tables import _fit_or_lines, readable
from archiver.output.watchlog import event_line


def edits_table(console: Console, events: list[dict]) -> None:
    table = Table(box=box.SIMPLE_HEAD)
    for name in (
        "captured (UTC)",
        "severity",
        "event",
        "headline",
        "what changed",
        "before → after",
        "article",
    ):
        table.add_column(name, no_wrap=name not in ("headline", "what changed"))
    lines = []
    for event in events:
        after = event.get("after") or {}
        before = event.get("before") or {}
        headline = event.get("headline") or {}
        title = (
            f"{headline.get('before')} → {headline.get('after')}"
            if headline.get("changed")
            else headline.get("after") or ""
        )
        why = [w for c in event.get("changes") or [] for w in c.get("why") or []]
        cells = (
            clean(str(after.get("captured_at", ""))[:19].replace("T", " ")),
            event["severity"],
            event["event"],
            clean(title),
            clean("; ".join(dict.fromkeys([event["status"]] if event.get("status") else why))[:200]),
            clean(f"{before.get('id')} → {after.get('id')}"),
            clean(readable(str(event.get("url") or ""))),
        )
        table.add_row(
            *(
                Text(cell, style=SEVERITY_STYLE[event["severity"]] if i == 1 else "")
                for i, cell in enumerate(cells)
            )
        )
        lines.append(Text(f"{cells[0]}  {event_line(event)}\n    captures {cells[5]}"))
    if not events:
        console.print(Text("No edits found."))
        return
    _fit_or_lines(console, f"Edits ({len(events)}), most recent first", table, lines)


def _when(stamp: int | None) -> str:
    if stamp is None:
        return "never"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M")


def sources_table(console: Console, sources: list[dict]) -> None:
    if not sources:
        console.print(Text("Nothing watched yet (archiver watch add FEED_OR_URL)."))
        return
    table = Table(box=box.SIMPLE_HEAD)
    for name in ("name", "kind", "articles", "checked (UTC)", "next poll (UTC)", "source", "last error"):
        table.add_column(name, no_wrap=name != "last error")
    lines = []
    for source in sources:
        cells = (
            clean(source["name"]),
            clean(source["kind"] or "?"),
            str(source["items"]),
            _when(source["checked_at"]),
            _when(source["next_at"]) if source["next_at"] else "now",
            clean(readable(source["url"])),
            clean(source["error"] or ""),
        )
        table.add_row(*(Text(cell) for cell in cells))
        lines.append(Text("  ".join(c for c in cells if c)))
    _fit_or_lines(console, "Watched sources", table, lines)
