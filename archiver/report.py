"""Render an ArticleDiff: JSON for machines, rich text for the terminal, HTML for people.

Capture infos are dicts {"id", "captured_at", "sha256", "status"?}. Page text is hostile
input: the HTML renderer escapes every string it did not write itself. Terminal lines are
printed with soft wrapping: rich never breaks a sentence, a [-...-]/{+...+} marker or a timeline
line; the terminal (or the reader's pager) wraps them.

When there is nothing to compare (the URL answers 404/410, or a capture has no article body:
paywall, consent wall, error page) the report is one line, ``status_line``, instead of the
headline, byline, date and per-sentence changes of a wall page.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from archiver.claims import split_sentences
from archiver.diff import ArticleDiff, Change, WordOp

if TYPE_CHECKING:
    from archiver.extract import Article

CaptureInfo = dict[str, Any]
GONE_STATUSES = frozenset({"404", "410"})
SUMMARY_ORDER = ("modified", "added", "removed", "moved")
SEVERITY_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "dim"}
FLAG_STYLE = {
    "number": "white on dark_orange3",
    "quote": "white on purple4",
    "attribution": "white on blue",
    "hedge": "black on yellow",
    "negation": "white on red",
    "entity": "white on dark_cyan",
    "correction": "white on dark_green",
}
WALL_NAMES = {
    "paywall": "paywall",
    "consent": "consent wall",
    "not_found": "page not found",
    "blocked": "access blocked",
}
MOVED_PREVIEW = 160
_BEFORE_OPS = frozenset({"equal", "delete"})
_AFTER_OPS = frozenset({"equal", "insert"})
_ALL_OPS = frozenset({"equal", "delete", "insert"})
# Terminal escapes, other control characters and bidi overrides page text could smuggle in.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


# --- shared wording --------------------------------------------------------------------


def _safe(value: object) -> str:
    """str(value) without control characters (page text and capture infos are untrusted)."""
    return _UNSAFE.sub("", str(value))


def summary_line(diff: ArticleDiff, after: CaptureInfo | None = None) -> str:
    """One line: "3 edits: 1 modified, 1 added, 1 removed", "no changes", or the status line
    when there was nothing to compare ("article body missing in later capture (paywall)")."""
    status = status_line(diff, after or {})
    if status:
        return status
    counts = diff.summary
    parts = ["headline"] if diff.headline.changed else []
    parts += [f"{counts[kind]} {kind}" for kind in SUMMARY_ORDER if counts[kind]]
    parts += ["byline"] if diff.byline else []
    parts += ["published date"] if diff.published else []
    total = len(diff.changes) + diff.headline.changed + bool(diff.byline) + bool(diff.published)
    if not total:
        return "no changes"
    return f"{total} edit{'s' if total != 1 else ''}: {', '.join(parts)}"


def status_line(diff: ArticleDiff, after: CaptureInfo) -> str | None:
    """The one line that is the whole report when there is nothing to compare, else None:
    "URL now answers 404: article gone", "article body missing in later capture (paywall)",
    "article body back (earlier capture had none: consent wall)"."""
    status = gone_status(after)
    if status and not diff.has_edits:
        return f"URL now answers {status}: article gone"
    wall = _safe(WALL_NAMES.get(diff.wall, diff.wall)) if diff.wall else ""
    if diff.body_missing:
        return "article body missing in later capture" + (f" ({wall})" if wall else "")
    if diff.body_restored:
        return "article body back (earlier capture had none" + (f": {wall})" if wall else ")")
    if diff.no_body and not diff.has_edits:
        return "no article body in either capture" + (f" ({wall})" if wall else "")
    return None


def gone_status(after: CaptureInfo) -> str | None:
    """The HTTP status when the later capture says the page is gone (404/410)."""
    status = str(after.get("status", ""))
    return status if status in GONE_STATUSES else None


def _notices(diff: ArticleDiff, after: CaptureInfo) -> list[str]:
    """Notices above a report of edits (a gone page whose diff still found some)."""
    return [f"URL now answers {status}"] if (status := gone_status(after)) else []


def _metadata(diff: ArticleDiff) -> list[tuple[str, str, str]]:
    """(label, was, now) rows for byline and date changes."""
    return [
        (label, _shown(value.before), _shown(value.after))
        for label, value in (
            ("Byline", diff.byline),
            ("Published", diff.published),
            ("Modified date (not counted as an edit)", diff.modified),
        )
        if value
    ]


def _shown(value: str | list[str] | None) -> str:
    text = ", ".join(value) if isinstance(value, list) else value
    return text or "(none)"


def _max_severity(diff: ArticleDiff) -> str | None:
    if diff.headline.changed:
        return "high"
    return diff.changes[0].severity if diff.changes else None


def _where(change: Change) -> str:
    """Paragraph position(s): "¶3", or "¶2 -> ¶7" when the change crosses paragraphs."""
    spans = [span.paragraph + 1 for span in (change.before_span, change.after_span) if span]
    return " -> ".join(f"¶{p}" for p in dict.fromkeys(spans))


# --- JSON ------------------------------------------------------------------------------


def to_json(diff: ArticleDiff, url: str, before: CaptureInfo, after: CaptureInfo) -> dict:
    """The machine-readable report (see README for the schema).

    Beyond the README's core: ``has_edits``; ``body_missing`` (the later capture has no article
    body), ``body_restored`` (the earlier one had none), ``no_body`` (neither has) and ``wall``
    (why: "paywall", "consent", "not_found", "blocked" or null) -- the headline, byline and
    dates are then not compared; ``status`` (the one-line report when there was nothing to
    compare, else null); ``byline`` and ``dates``; per change ``level``, ``paragraphs`` and
    ``words`` (see ``_change_json``).
    """
    return {
        "url": url,
        "before": _capture_json(before),
        "after": _capture_json(after),
        "headline": {
            "before": diff.headline.before,
            "after": diff.headline.after,
            "changed": diff.headline.changed,
            "flags": list(diff.headline.flags),
            "words": _words_json(diff.headline.words),
        },
        "changes": [_change_json(change) for change in diff.changes],
        "summary": diff.summary,
        "has_edits": diff.has_edits,
        "body_missing": diff.body_missing,
        "body_restored": diff.body_restored,
        "no_body": diff.no_body,
        "wall": diff.wall,
        "status": status_line(diff, after),
        "byline": _value_json(diff.byline),
        "dates": {"published": _value_json(diff.published), "modified": _value_json(diff.modified)},
    }


def _capture_json(info: CaptureInfo) -> dict:
    out = {key: str(info.get(key) or "") for key in ("id", "captured_at", "sha256")}
    return {**out, "status": info["status"]} if "status" in info else out


def _words_json(words: tuple[WordOp, ...]) -> list[list[str]]:
    return [[op, text] for op, text in words]


def _value_json(value: Any) -> dict | None:
    return None if value is None else {"before": value.before, "after": value.after}


def _change_json(change: Change) -> dict:
    """One change. ``paragraphs``: {"before", "after"}, the paragraph the change sits in on each
    side, numbered from 1 as the terminal and HTML reports show them (¶1 is the first
    paragraph), null on the side it is absent from; ``level``: "sentence" or "paragraph";
    ``words``: a word-level diff as [op, text], op in equal/delete/insert."""
    return {
        "kind": change.kind,
        "before": change.before,
        "after": change.after,
        "flags": list(change.flags),
        "severity": change.severity,
        "level": change.level,
        "paragraphs": {
            "before": change.before_span.paragraph + 1 if change.before_span else None,
            "after": change.after_span.paragraph + 1 if change.after_span else None,
        },
        "words": _words_json(change.words),
    }


# --- terminal --------------------------------------------------------------------------


def _plain(console: Console) -> bool:
    return console.no_color or console.color_system is None


def _word_text(words: tuple[WordOp, ...], plain: bool, keep: frozenset[str]) -> Text:
    """Words as rich Text: strike-red deletions, green insertions, or [-x-]{+y+} markers."""
    text = Text()
    for op, chunk in words:
        if op not in keep:
            continue
        if text:
            text.append(" ")
        chunk = _safe(chunk)
        if op == "equal":
            text.append(chunk)
        elif plain:
            text.append(f"[-{chunk}-]" if op == "delete" else f"{{+{chunk}+}}")
        else:
            text.append(chunk, style="strike red" if op == "delete" else "bold green")
    return text


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
    return Text(_safe(line))


def _print(console: Console, text: Text | str) -> None:
    """Print one line without markup/highlighting and without hard wrapping (rich would break
    sentences and markers at the console width when piped); plain strings are sanitized here."""
    if isinstance(text, str):
        text = Text(_safe(text))
    console.print(text, highlight=False, markup=False, emoji=False, soft_wrap=True)


def render_terminal(
    console: Console, diff: ArticleDiff, url: str, before: CaptureInfo, after: CaptureInfo
) -> None:
    """Print the report: header, notices, headline, changes (most severe first), summary; or
    the header and one status line when there was nothing to compare."""
    plain = _plain(console)
    _print(console, Text(_safe(url), style="" if plain else "bold underline"))
    _print(console, _capture_line("before", before))
    _print(console, _capture_line("after", after))
    status = status_line(diff, after)
    if status:
        _print(console, Text(status, style="" if plain or diff.body_restored else "bold red"))
        return
    for notice in _notices(diff, after):
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
    title.append_text(_severity_text("high", plain))
    title.append_text(_badges(headline.flags, plain))
    _print(console, title)
    _print(console, Text("  was: ") + _word_text(headline.words, plain, _BEFORE_OPS))
    _print(console, Text("  now: ") + _word_text(headline.words, plain, _AFTER_OPS))


def _render_metadata(console: Console, diff: ArticleDiff) -> None:
    for label, was, now in _metadata(diff):
        _print(console, f"{label}: {was} -> {now}")


def _render_change(console: Console, number: int, change: Change, plain: bool) -> None:
    title = Text(f"{number:>2}. ")
    title.append_text(_severity_text(change.severity, plain))
    kind = change.kind if change.level == "sentence" else f"{change.kind} paragraph"
    title.append(f" {kind}  {_where(change)}")
    title.append_text(_badges(change.flags, plain))
    _print(console, title)
    if change.kind == "moved":
        text = change.after or ""
        preview = text if len(text) <= MOVED_PREVIEW else text[:MOVED_PREVIEW].rstrip() + "…"
        _print(console, Text("    ") + Text(_safe(preview), style="" if plain else "italic"))
        return
    _print(console, Text("    ") + _word_text(change.words, plain, _ALL_OPS))


def render_timeline(
    console: Console, steps: list[tuple[CaptureInfo, CaptureInfo, ArticleDiff]], url: str
) -> None:
    """One line per consecutive pair of captures: what changed between them."""
    plain = _plain(console)
    _print(console, Text(_safe(f"Timeline  {url}"), style="" if plain else "bold"))
    for before, after, diff in steps:
        times = f"  {before.get('captured_at', '?')} -> {after.get('captured_at', '?')}  "
        line = Text(_safe(times))
        severity = _max_severity(diff)
        line.append_text(_severity_text(severity, plain) if severity else Text(" " * 6))
        status = status_line(diff, after)
        line.append(f"  {'; '.join([status] if status else [summary_line(diff), *_notices(diff, after)])}")
        line.append(_safe(f"  ({before.get('id', '')} -> {after.get('id', '')})"))
        _print(console, line)


# --- HTML ------------------------------------------------------------------------------

_CSS = """
body{font:16px/1.5 Georgia,serif;margin:0 auto;max-width:1200px;padding:1em;color:#222}
header{font-family:system-ui,sans-serif;font-size:14px;border-bottom:1px solid #ccc}
.url{word-break:break-all;font-weight:bold}
.notice{background:#fde2e1;border-left:4px solid #c00;padding:.3em .6em;font-family:sans-serif}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:2em}
@media (max-width:800px){.cols{grid-template-columns:1fr}}
.cols h2{font-size:1.4em;line-height:1.25}
.side{font-family:sans-serif;font-size:12px;text-transform:uppercase;color:#777}
del{background:#fdd;color:#900;text-decoration:line-through}
ins{background:#cfc;color:#060;text-decoration:none}
.s.removed{background:#fdd;text-decoration:line-through;text-decoration-color:#c66}
.s.added{background:#dfd}
.s.modified{background:#fff6cc}
.s.moved{outline:1px dashed #36c;background:#eef3ff}
p.moved{border-left:4px solid #36c;padding-left:.5em}
p.added{border-left:4px solid #393;padding-left:.5em}
p.removed{border-left:4px solid #c33;padding-left:.5em}
sup a{font:bold 11px sans-serif;color:#36c;text-decoration:none}
ol.changes{font-family:system-ui,sans-serif;font-size:15px;padding-left:1.5em}
ol.changes li{margin:.6em 0;padding:.4em;border-bottom:1px solid #eee}
.badge{display:inline-block;font-size:11px;padding:0 .5em;border-radius:3px;margin-right:.3em;
color:#fff;background:#666;text-transform:uppercase;letter-spacing:.03em}
.sev-high{background:#c00}.sev-medium{background:#d80}.sev-low{background:#999}
.f-number{background:#d2691e}.f-quote{background:#6a3d9a}.f-attribution{background:#1f5fbf}
.f-hedge{background:#b8a000}.f-negation{background:#b00}.f-entity{background:#08838a}
.f-correction{background:#2e7d32}
.kind{font-weight:bold;margin-right:.4em}.where a{color:#36c;font-size:12px}
.summary{font-family:sans-serif;font-weight:bold}
"""


def _esc(text: object) -> str:
    return html.escape(_safe(text), quote=True)


def _html_words(words: tuple[WordOp, ...], keep: frozenset[str]) -> str:
    tags = {"equal": "{}", "delete": "<del>{}</del>", "insert": "<ins>{}</ins>"}
    return " ".join(tags[op].format(_esc(chunk)) for op, chunk in words if op in keep)


def _badges_html(change_flags: tuple[str, ...], severity: str | None = None) -> str:
    badges = [f'<span class="badge sev-{severity}">{severity}</span>'] if severity else []
    badges += [f'<span class="badge f-{_esc(f)}">{_esc(f)}</span>' for f in change_flags]
    return "".join(badges)


def render_html(
    diff: ArticleDiff,
    url: str,
    before: CaptureInfo,
    after: CaptureInfo,
    before_article: Article,
    after_article: Article,
) -> str:
    """A self-contained page: both versions side by side with edits marked, and the list."""
    status = status_line(diff, after)
    notices = "".join(f'<p class="notice">{_esc(n)}</p>' for n in [status] if status)
    if not status:  # a list of edits: a gone notice (if any) above it, the summary line
        notices += "".join(f'<p class="notice">{_esc(n)}</p>' for n in _notices(diff, after))
        notices += f'<p class="summary">{_esc(summary_line(diff))}</p>{_metadata_html(diff)}'
    columns = (
        _column("before", before, before_article, diff, _BEFORE_OPS),
        _column("after", after, after_article, diff, _AFTER_OPS),
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Edits: {_esc(url)}</title><style>{_CSS}</style></head><body>"
        f"<header>{_header_html(url, before, after)}</header>{notices}"
        f"{_changes_html(diff)}"
        f'<div class="cols">{columns[0]}{columns[1]}</div></body></html>\n'
    )


def _header_html(url: str, before: CaptureInfo, after: CaptureInfo) -> str:
    link = _esc(url)
    if url.lower().startswith(("http://", "https://")):
        link = f'<a href="{_esc(url)}" rel="noreferrer noopener">{link}</a>'
    rows = "".join(
        f"<tr><th>{label}</th><td>{_esc(info.get('captured_at', ''))}</td>"
        f"<td>{_esc(info.get('id', ''))}</td><td><code>{_esc(info.get('sha256', ''))}</code>"
        "</td></tr>"
        for label, info in (("before", before), ("after", after))
    )
    return f'<p class="url">{link}</p><table>{rows}</table>'


def _metadata_html(diff: ArticleDiff) -> str:
    items = "".join(
        f"<li>{_esc(label)}: <del>{_esc(was)}</del> → <ins>{_esc(now)}</ins></li>"
        for label, was, now in _metadata(diff)
    )
    return f"<ul>{items}</ul>" if items else ""


def _changes_html(diff: ArticleDiff) -> str:
    headline = ""
    if diff.headline.changed:  # outside the numbered list: its numbers match the text's marks
        words = _html_words(diff.headline.words, _ALL_OPS)
        headline = (
            f'<div class="changes" id="headline">{_badges_html(diff.headline.flags, "high")}'
            f'<span class="kind">headline</span><div>{words}</div></div>'
        )
    items = []
    for number, change in enumerate(diff.changes, 1):
        kind = change.kind if change.level == "sentence" else f"{change.kind} paragraph"
        body = _esc(change.after) if change.kind == "moved" else _html_words(change.words, _ALL_OPS)
        links = " → ".join(
            f'<a href="#{side[0]}{span.sentences[0]}">{side} ¶{span.paragraph + 1}</a>'
            for side, span in (("before", change.before_span), ("after", change.after_span))
            if span
        )
        items.append(
            f'<li id="c{number}">{_badges_html(change.flags, change.severity)}'
            f'<span class="kind">{_esc(kind)}</span><span class="where">{links}</span>'
            f"<div>{body}</div></li>"
        )
    return headline + (f'<ol class="changes">{"".join(items)}</ol>' if items else "")


def _column(side: str, info: CaptureInfo, article: Article, diff: ArticleDiff, keep: frozenset[str]) -> str:
    marks: dict[int, tuple[int, Change]] = {}
    for number, change in enumerate(diff.changes, 1):
        span = change.before_span if side == "before" else change.after_span
        marks |= dict.fromkeys(span.sentences if span else (), (number, change))
    headline = _html_words(diff.headline.words, keep) if diff.headline.changed else None
    parts = [
        f'<section><div class="side">{side} · {_esc(info.get("captured_at", ""))}</div>',
        f"<h2>{headline or _esc(article.headline)}</h2>",
    ]
    if (side == "after" and diff.body_missing) or (side == "before" and diff.body_restored):
        wall = f" ({WALL_NAMES.get(diff.wall, diff.wall)})" if diff.wall else ""
        parts.append(f'<p class="notice">No article body in this capture{_esc(wall)}</p>')
    index = 0
    for p, paragraph in enumerate(article.paragraphs):
        sentences = split_sentences(paragraph)
        rendered = [_sentence_html(side, index + k, s, marks, keep) for k, s in enumerate(sentences)]
        mark = marks.get(index)
        level = f' class="{mark[1].kind}"' if mark and mark[1].level == "paragraph" else ""
        if sentences:
            parts.append(f'<p id="{side[0]}p{p}"{level}>{" ".join(rendered)}</p>')
        index += len(sentences)
    return "".join(parts) + "</section>"


def _sentence_html(
    side: str, index: int, text: str, marks: dict[int, tuple[int, Change]], keep: frozenset[str]
) -> str:
    anchor = f'id="{side[0]}{index}"'
    if index not in marks:
        return f"<span {anchor}>{_esc(text)}</span>"
    number, change = marks[index]
    body = _html_words(change.words, keep) if change.kind == "modified" else _esc(text)
    span = change.before_span if side == "before" else change.after_span
    ref = f'<sup><a href="#c{number}">{number}</a></sup>' if span and index == span.sentences[-1] else ""
    return f'<span {anchor} class="s {change.kind}">{body}{ref}</span>'
