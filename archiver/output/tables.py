"""Terminal and JSON views of the catalogue: capture results, history, article list."""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING
from urllib.parse import unquote

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from archiver.output.sanitize import clean
from archiver.record import Capture

if TYPE_CHECKING:
    from archiver.article.extract import Article


def short(digest: str) -> str:
    return digest[:12]


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def readable(url: str) -> str:
    """A canonical URL as people write it: percent-escapes of non-ASCII text decoded
    ("caf%C3%A9" shows as "café"); the value in JSON output stays canonical."""
    return re.sub(r"(?:%[89A-Fa-f][0-9A-Fa-f])+", lambda m: unquote(m.group()), url)


def capture_line(console: Console, result: dict) -> None:
    """One line per captured URL."""
    state = {None: "new", True: "unchanged", False: "changed"}[result["unchanged"]]
    style = "green" if result["status"] < 400 else "yellow"
    line = Text.assemble(
        (str(result["status"]), style),
        f" {clean(result['url'])} -> ",
        (clean(result["id"]), "bold"),
        f" {human_size(result['bytes'])} sha256:{short(result['payload_sha256'])} {state}",
        " (revisit)" if result["revisit"] else "",
        f" ({clean(result['note'])})" if result.get("note") else "",
    )
    console.print(line, highlight=False, soft_wrap=True)


def history_rows(captures: list[Capture]) -> list[dict]:
    """A capture history with a changed/unchanged verdict against the previous capture."""
    rows, previous = [], None
    for capture in captures:
        change = (
            "first"
            if previous is None
            else ("unchanged" if previous.payload_sha256 == capture.payload_sha256 else "changed")
        )
        rows.append(
            {
                "id": capture.id,
                "captured_at": capture.captured_at,
                "status": capture.status,
                "bytes": capture.bytes,
                "payload_sha256": capture.payload_sha256,
                "revisit": capture.revisit,
                "change": change,
                "final_url": capture.final_url,
                "url": capture.url,
            }
        )
        previous = capture
    return rows


def _fit_or_lines(console: Console, title: str, table: Table, lines: list[Text]) -> None:
    """A table when it fits the terminal; else one soft-wrapped line per row, which the
    terminal wraps without losing a character: ids and URLs get copied, never cut to "…"."""
    console.print(Text(title, style="bold"), soft_wrap=True)
    if Measurement.get(console, console.options.update_width(1 << 16), table).maximum <= console.width:
        console.print(table)
        return
    for line in lines:
        console.print(line, soft_wrap=True)


def history_table(console: Console, url: str, rows: list[dict]) -> None:
    """Every capture of an article, with the URL it was fetched from (a short link, an AMP
    page, a copy) since the page's own canonical URL joins them into one story."""
    table = Table(box=box.SIMPLE_HEAD)
    names = ("captured (UTC)", "id", "status", "size", "sha256", "vs previous", "fetched URL")
    for name in names:
        table.add_column(name, no_wrap=True)
    lines = []
    for row in rows:
        cells = (
            clean(row["captured_at"][:19].replace("T", " ")),
            clean(row["id"]),
            str(row["status"]),
            human_size(row["bytes"]),
            clean(short(row["payload_sha256"])),
            row["change"],
            clean(readable(row["url"])),
        )
        table.add_row(*(Text(cell) for cell in cells))
        lines.append(Text("  ".join(cells[:6]) + "\n    fetched " + cells[6]))
    _fit_or_lines(console, f"Captures of {clean(readable(url))}", table, lines)


def articles_table(console: Console, rows: list[sqlite3.Row]) -> None:
    table = Table(box=box.SIMPLE_HEAD)
    for name in ("article", "captures", "versions", "last capture (UTC)"):
        table.add_column(name, no_wrap=True)
    lines = []
    for row in rows:
        cells = (clean(readable(row["canonical_url"])), str(row["captures"]), str(row["versions"]))
        table.add_row(*(Text(cell) for cell in cells), Text(clean(row["last"])))
        lines.append(Text(f"{cells[0]}  {cells[1]} captures, {cells[2]} versions, last {clean(row['last'])}"))
    _fit_or_lines(console, "Archived articles", table, lines)


def show_article(console: Console, article: Article, info: dict) -> None:
    """The extracted article, as the diff sees it (page text is printed as text, not markup)."""
    console.print(Text(clean(article.headline) or "(no headline)", style="bold"), soft_wrap=True)
    facts = [
        ("capture", f"{info['id']}  {info['captured_at']}  HTTP {info['status']}"),
        ("authors", ", ".join(article.authors) or "-"),
        ("published", article.published or "-"),
        ("modified", article.modified or "-"),
        ("canonical", article.canonical_url or "-"),
    ]
    if article.wall:
        facts.append(("page", f"{article.wall.replace('_', ' ')} (not the article)"))
    for label, value in facts:
        console.print(Text.assemble((f"{label:>9}: ", "dim"), clean(value)), soft_wrap=True)
    console.print()
    if not article.paragraphs:
        console.print("(no article body found)")
    for paragraph in article.paragraphs:
        console.print(Text(clean(paragraph)), soft_wrap=True)
        console.print()
