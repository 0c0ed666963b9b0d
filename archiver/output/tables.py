"""Terminal and JSON views of the catalogue: capture results, history, article list."""

from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import unquote

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from archiver.article.extract import Article
from archiver.output.sanitize import clean
from archiver.record import Capture


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


def print_json_line(data: object) -> None:
    print(json.dumps(data, ensure_ascii=False), flush=True)


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
            }
        )
        previous = capture
    return rows


def history_table(console: Console, url: str, rows: list[dict]) -> None:
    table = Table(
        title=Text(f"Captures of {clean(readable(url))}"), title_justify="left", box=box.SIMPLE_HEAD
    )
    for name in ("captured (UTC)", "id", "status", "size", "sha256", "vs previous"):
        table.add_column(name, no_wrap=True)
    for row in rows:
        table.add_row(
            Text(clean(row["captured_at"][:19].replace("T", " "))),
            Text(clean(row["id"])),
            str(row["status"]),
            human_size(row["bytes"]),
            Text(clean(short(row["payload_sha256"]))),
            row["change"],
        )
    console.print(table)


def articles_table(console: Console, rows: list[sqlite3.Row]) -> None:
    table = Table(title="Archived articles", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("article", "captures", "versions", "last capture (UTC)"):
        table.add_column(name)
    for row in rows:
        table.add_row(
            Text(clean(readable(row["canonical_url"]))),
            str(row["captures"]),
            str(row["versions"]),
            Text(clean(row["last"])),
        )
    console.print(table)


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
