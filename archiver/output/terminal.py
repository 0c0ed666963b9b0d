"""A diff in the terminal with rich: soft-wrapped lines, so rich never breaks a sentence,
a [-...-]/{+...+} marker or a timeline line (the terminal or the pager wraps them). Colour is
never the only signal: deletions and insertions keep their markers in colour too, severity
and flags are words, and each change says why it got its severity."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from archiver.diff.model import ArticleDiff, Change, WordOp
from archiver.output.sanitize import clean
from archiver.output.summary import (
    SEVERITY_STYLE,
    CaptureInfo,
    gone_notices,
    max_severity,
    metadata_rows,
    paragraph_marks,
    status_line,
    summary_line,
)

FLAG_STYLE = {
    "number": "white on dark_orange3",
    "quote": "white on purple4",
    "attribution": "white on blue",
    "hedge": "black on yellow",
    "negation": "white on red",
    "entity": "white on dark_cyan",
    "correction": "white on dark_green",
}
MOVED_PREVIEW = 160
_BEFORE_OPS = frozenset({"equal", "delete"})
_AFTER_OPS = frozenset({"equal", "insert"})
_ALL_OPS = frozenset({"equal", "delete", "insert"})


def _plain(console: Console) -> bool:
    return console.no_color or console.color_system is None


def _word_text(words: tuple[WordOp, ...], plain: bool, keep: frozenset[str]) -> Text:
    """Words as rich Text: [-x-]{+y+} markers, struck-through red and bold green in colour."""
    text = Text()
    for op, chunk in words:
        if op not in keep:
            continue
        if text:
            text.append(" ")
        chunk = clean(chunk)
        if op == "equal":
            text.append(chunk)
        else:
            marked = f"[-{chunk}-]" if op == "delete" else f"{{+{chunk}+}}"
            text.append(marked, style="" if plain else "strike red" if op == "delete" else "bold green")
    return text


def _why_line(why: tuple[str, ...]) -> Text:
    """The evidence behind a change's severity ("why: number 3 → 5; claim withdrawn")."""
    return Text(clean(f"    why: {'; '.join(why)}")) if why else Text()


def _badges(flags: tuple[str, ...], plain: bool) -> Text:
    text = Text()
    for flag in flags:
        text.append(" ")
        text.append(f"[{flag}]" if plain else f" {flag} ", style="" if plain else FLAG_STYLE[flag])
    return text


def _severity_text(severity: str, plain: bool) -> Text:
    return Text(severity.upper().ljust(6), style="" if plain else SEVERITY_STYLE[severity])


def _capture_line(label: str, info: CaptureInfo) -> Text:
    digest = str(info.get("sha256") or "")[:12] or "-"
    line = f"  {label:<6} {info.get('captured_at', '?')}  {info.get('id', '')}  {digest}"
    return Text(clean(line))


def _print(console: Console, text: Text | str) -> None:
    """Print one line without markup/highlighting and without hard wrapping (rich would break
    sentences and markers at the console width when piped); plain strings are sanitized here."""
    if isinstance(text, str):
        text = Text(clean(text))
    console.print(text, highlight=False, markup=False, emoji=False, soft_wrap=True)


def render_terminal(
    console: Console, diff: ArticleDiff, url: str, before: CaptureInfo, after: CaptureInfo
) -> None:
    """Print the report: header, notices, headline, changes (most severe first), summary; or
    the header and one status line when there was nothing to compare."""
    plain = _plain(console)
    _print(console, Text(clean(url), style="" if plain else "bold underline"))
    _print(console, _capture_line("before", before))
    _print(console, _capture_line("after", after))
    status = status_line(diff, after)
    if status:
        _print(console, Text(status, style="" if plain or diff.body_restored else "bold red"))
        return
    for notice in gone_notices(diff, after):
        _print(console, Text(notice, style="" if plain else "bold red"))
    _render_headline(console, diff, plain)
    _render_metadata(console, diff)
    for number, change in enumerate(diff.changes, 1):
        _render_change(console, number, change, plain)
    _print(console, Text(summary_line(diff), style="" if plain else "bold"))


def _render_headline(console: Console, diff: ArticleDiff, plain: bool) -> None:
    headline = diff.headline
    if not headline.changed:
        _print(console, f"Headline: {headline.after}")
        return
    title = Text("Headline changed ")
    title.append_text(_severity_text(headline.severity, plain))
    title.append_text(_badges(headline.flags, plain))
    _print(console, title)
    _print(console, Text("  was: ") + _word_text(headline.words, plain, _BEFORE_OPS))
    _print(console, Text("  now: ") + _word_text(headline.words, plain, _AFTER_OPS))
    if headline.why:
        _print(console, _why_line(headline.why))


def _render_metadata(console: Console, diff: ArticleDiff) -> None:
    for label, was, now in metadata_rows(diff):
        _print(console, f"{label}: {was} -> {now}")


def _render_change(console: Console, number: int, change: Change, plain: bool) -> None:
    title = Text(f"{number:>2}. ")
    title.append_text(_severity_text(change.severity, plain))
    kind = change.kind if change.level == "sentence" else f"{change.kind} paragraph"
    title.append(f" {kind}  {paragraph_marks(change)}")
    title.append_text(_badges(change.flags, plain))
    _print(console, title)
    if change.kind == "moved":
        text = change.after or ""
        preview = text if len(text) <= MOVED_PREVIEW else text[:MOVED_PREVIEW].rstrip() + "…"
        _print(console, Text("    ") + Text(clean(preview), style="" if plain else "italic"))
        return
    _print(console, Text("    ") + _word_text(change.words, plain, _ALL_OPS))
    if change.why:
        _print(console, _why_line(change.why))


def render_timeline(
    console: Console, steps: list[tuple[CaptureInfo, CaptureInfo, ArticleDiff]], url: str
) -> None:
    """One line per consecutive pair of captures: what changed between them."""
    plain = _plain(console)
    _print(console, Text(clean(f"Timeline  {url}"), style="" if plain else "bold"))
    for before, after, diff in steps:
        times = f"  {before.get('captured_at', '?')} -> {after.get('captured_at', '?')}  "
        line = Text(clean(times))
        severity = max_severity(diff)
        line.append_text(_severity_text(severity, plain) if severity else Text(" " * 6))
        status = status_line(diff, after)
        line.append(
            f"  {'; '.join([status] if status else [summary_line(diff), *gone_notices(diff, after)])}"
        )
        line.append(clean(f"  ({before.get('id', '')} -> {after.get('id', '')})"))
        _print(console, line)
