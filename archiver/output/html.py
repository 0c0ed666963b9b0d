"""A diff (or a timeline of diffs) as one self-contained HTML page. Page text is hostile
input: every string this module did not write itself is escaped. Colour is never the only
signal: deletions are struck through, insertions underlined, severities and flags are words
explained in a legend, and the page reflows to a phone's width without scrolling sideways."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from archiver.article.claims import split_sentences
from archiver.diff.model import ArticleDiff, Change, WordOp
from archiver.output.sanitize import clean
from archiver.output.summary import (
    WALL_NAMES,
    CaptureInfo,
    gone_notices,
    max_severity,
    metadata_rows,
    status_line,
    summary_line,
)

if TYPE_CHECKING:
    from archiver.article.extract import Article


_BEFORE_OPS = frozenset({"equal", "delete"})
_AFTER_OPS = frozenset({"equal", "insert"})
_ALL_OPS = frozenset({"equal", "delete", "insert"})

_CSS = """
body{font:16px/1.5 Georgia,serif;margin:0 auto;max-width:1200px;padding:1em;color:#222;
overflow-wrap:anywhere;word-break:break-word}
header{font-family:system-ui,sans-serif;font-size:14px;border-bottom:1px solid #ccc}
header table{border-collapse:collapse;width:100%}header th,header td{text-align:left;padding:0 .4em 0 0}
code{word-break:break-all}
.url{word-break:break-all;font-weight:bold}
.notice{background:#fde2e1;border-left:4px solid #c00;padding:.3em .6em;font-family:sans-serif}
.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:2em}
@media (max-width:800px){.cols{grid-template-columns:minmax(0,1fr)}}
@media (max-width:600px){header table,header tbody,header tr,header th,header td{display:block}
header tr{margin-bottom:.4em}}
.cols h2{font-size:1.4em;line-height:1.25}
.side{font-family:sans-serif;font-size:12px;text-transform:uppercase;color:#777}
del{background:#fdd;color:#900;text-decoration:line-through}
ins{background:#cfc;color:#060;text-decoration:underline}
.s.removed{background:#fdd;text-decoration:line-through;text-decoration-color:#c66}
.s.added{background:#dfd;border-bottom:2px solid #393}
.s.modified{background:#fff6cc;border-bottom:1px dotted #a80}
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
.why{font-size:13px;color:#444;margin-top:.2em}.why b{font-weight:600}
details.legend{font-family:system-ui,sans-serif;font-size:14px;margin:.8em 0;padding:.4em .6em;
background:#f6f6f6;border-radius:4px}
details.legend dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.2em .8em;margin:.4em 0}
details.legend dd{margin:0}
table.timeline{border-collapse:collapse;width:100%;font-family:system-ui,sans-serif;font-size:14px}
table.timeline th,table.timeline td{border-bottom:1px solid #eee;padding:.3em .4em;text-align:left;
vertical-align:top}
@media (max-width:600px){table.timeline thead{display:none}
table.timeline tr,table.timeline td{display:block}table.timeline tr{border-bottom:2px solid #ccc}
table.timeline td::before{content:attr(data-label) ": ";font-weight:bold}}
"""

_SEVERITY_HELP = {
    "high": "a claim changed: a number or date, a quote's words, a negation, a reversal, who did"
    " what, a name swapped, a correction, the headline's meaning",
    "medium": "a hedge or attribution changed, or a claim was added, withdrawn or reworded",
    "low": "the wording only: case, punctuation, spelling, grammar, an acronym spelled out, a move",
}
_FLAG_HELP = {
    "number": "a number or date (compared by value: 14 = fourteen)",
    "quote": "the words inside quotation marks",
    "attribution": "who says it (said, according to, told)",
    "hedge": "how sure it is (allegedly, may, reportedly)",
    "negation": "not, never, denied, refused",
    "entity": "a named person, place or organisation",
    "correction": "a correction or update notice",
}


def esc(text: object) -> str:
    return html.escape(clean(text), quote=True)


def _html_words(words: tuple[WordOp, ...], keep: frozenset[str]) -> str:
    tags = {"equal": "{}", "delete": "<del>{}</del>", "insert": "<ins>{}</ins>"}
    return " ".join(tags[op].format(esc(chunk)) for op, chunk in words if op in keep)


def _badges_html(change_flags: tuple[str, ...], severity: str | None = None) -> str:
    badges = [f'<span class="badge sev-{severity}">{severity}</span>'] if severity else []
    badges += [f'<span class="badge f-{esc(f)}">{esc(f)}</span>' for f in change_flags]
    return "".join(badges)


def _why_html(why: tuple[str, ...]) -> str:
    """The evidence for a change's severity, under it."""
    return f'<div class="why"><b>why:</b> {esc("; ".join(why))}</div>' if why else ""


def _legend_html() -> str:
    """What the severities, flags, markers and "why" mean: the page explains itself."""
    severities = "".join(
        f"<dt>{_badges_html((), rank)}</dt><dd>{esc(text)}</dd>" for rank, text in _SEVERITY_HELP.items()
    )
    flags = "".join(
        f"<dt>{_badges_html((flag,))}</dt><dd>{esc(text)}</dd>" for flag, text in _FLAG_HELP.items()
    )
    marks = (
        "<dt><del>deleted</del> <ins>inserted</ins></dt><dd>words struck through were taken out,"
        " underlined words were put in</dd><dt><b>why:</b></dt><dd>the evidence for a change's"
        " severity: what changed in the claim (&quot;number 25 → 20&quot;, &quot;negation"
        " added&quot;) or why it is wording only (&quot;case&quot;, &quot;spelling&quot;)</dd>"
    )
    return (
        '<details class="legend"><summary>Legend: severity, flags, markers</summary>'
        f"<dl>{severities}{flags}{marks}</dl></details>"
    )


def page(title: str, body: str, css: str = "") -> str:
    """A whole page: no script may run (CSP), styles inline, nothing fetched."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}{css}</style></head><body>{body}</body></html>\n"
    )


def render_html(
    diff: ArticleDiff,
    url: str,
    before: CaptureInfo,
    after: CaptureInfo,
    before_article: Article,
    after_article: Article,
    warnings: list[str] | None = None,
) -> str:
    """A self-contained page: both versions side by side with edits marked, and the list;
    `warnings` (evidence failing verification) above everything."""
    doubts = "".join(f'<p class="notice">{esc(w)}</p>' for w in warnings or [])
    return page(
        f"Edits: {esc(url)}", doubts + diff_body(diff, url, (before, after), (before_article, after_article))
    )


def diff_body(
    diff: ArticleDiff, url: str, infos: tuple[CaptureInfo, CaptureInfo], articles: tuple[Article, Article]
) -> str:
    """The report's body: header, notices, legend, the numbered edits, the two columns."""
    (before, after), (before_article, after_article) = infos, articles
    status = status_line(diff, after)
    notices = "".join(f'<p class="notice">{esc(n)}</p>' for n in [status] if status)
    if not status:  # a list of edits: a gone notice (if any) above it, the summary line
        notices += "".join(f'<p class="notice">{esc(n)}</p>' for n in gone_notices(diff, after))
        notices += f'<p class="summary">{esc(summary_line(diff))}</p>{_metadata_html(diff)}'
    columns = (
        _column("before", before, before_article, diff, _BEFORE_OPS),
        _column("after", after, after_article, diff, _AFTER_OPS),
    )
    legend = _legend_html() if diff.changes or diff.headline.changed else ""
    return (
        f"<header>{_header_html(url, before, after)}</header>{notices}{legend}"
        f'{_changes_html(diff)}<div class="cols">{columns[0]}{columns[1]}</div>'
    )


def render_timeline_html(steps: list[tuple[CaptureInfo, CaptureInfo, ArticleDiff]], url: str) -> str:
    """A self-contained timeline page: one row per consecutive pair of captures (the triples
    ``render_timeline`` takes), with the most severe rating and why the worst edit got it."""
    rows = []
    for before, after, diff in steps:
        status = status_line(diff, after)
        what = status or "; ".join([summary_line(diff), *gone_notices(diff, after)])
        severity = max_severity(diff)
        cells = (
            ("From", esc(before.get("captured_at", "?")) + f"<br><code>{esc(before.get('id', ''))}</code>"),
            ("To", esc(after.get("captured_at", "?")) + f"<br><code>{esc(after.get('id', ''))}</code>"),
            ("Severity", _badges_html((), severity) if severity else "–"),
            ("What changed", esc(what)),
            ("Why", esc("; ".join(() if status else _worst_why(diff)) or "–")),
        )
        rows.append(
            "<tr>" + "".join(f'<td data-label="{label}">{cell}</td>' for label, cell in cells) + "</tr>"
        )
    head = "".join(f"<th>{label}</th>" for label in ("From", "To", "Severity", "What changed", "Why"))
    return page(
        f"Timeline: {esc(url)}",
        f'<header><h1 class="summary">Timeline</h1><p class="url">{_link(url)}</p></header>{_legend_html()}'
        f'<table class="timeline"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>',
    )


def _worst_why(diff: ArticleDiff) -> tuple[str, ...]:
    """The evidence of the most severe edit in a step (the headline's when it leads)."""
    if diff.headline.changed and (not diff.changes or diff.headline.severity == max_severity(diff)):
        return diff.headline.why
    return diff.changes[0].why if diff.changes else ()


def _link(url: str) -> str:
    """The URL, a link when it is http(s)."""
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{esc(url)}" rel="noreferrer noopener">{esc(url)}</a>'
    return esc(url)


def _header_html(url: str, before: CaptureInfo, after: CaptureInfo) -> str:
    link = _link(url)
    rows = "".join(
        f"<tr><th>{label}</th><td>{esc(info.get('captured_at', ''))}</td>"
        f"<td>{esc(info.get('id', ''))}</td><td><code>{esc(info.get('sha256', ''))}</code>"
        "</td></tr>"
        for label, info in (("before", before), ("after", after))
    )
    return f'<p class="url">{link}</p><table>{rows}</table>'


def _metadata_html(diff: ArticleDiff) -> str:
    items = "".join(
        f"<li>{esc(label)}: <del>{esc(was)}</del> → <ins>{esc(now)}</ins></li>"
        for label, was, now in metadata_rows(diff)
    )
    return f"<ul>{items}</ul>" if items else ""


def _changes_html(diff: ArticleDiff) -> str:
    headline = ""
    if diff.headline.changed:  # outside the numbered list: its numbers match the text's marks
        words = _html_words(diff.headline.words, _ALL_OPS)
        headline = (
            f'<div class="changes" id="headline">'
            f"{_badges_html(diff.headline.flags, diff.headline.severity)}"
            f'<span class="kind">headline</span><div>{words}</div>{_why_html(diff.headline.why)}</div>'
        )
    items = []
    for number, change in enumerate(diff.changes, 1):
        kind = change.kind if change.level == "sentence" else f"{change.kind} paragraph"
        body = esc(change.after) if change.kind == "moved" else _html_words(change.words, _ALL_OPS)
        links = " → ".join(
            f'<a href="#{side[0]}{span.sentences[0]}">{side} ¶{span.paragraph + 1}</a>'
            for side, span in (("before", change.before_span), ("after", change.after_span))
            if span
        )
        items.append(
            f'<li id="c{number}">{_badges_html(change.flags, change.severity)}'
            f'<span class="kind">{esc(kind)}</span><span class="where">{links}</span>'
            f"<div>{body}</div>{_why_html(change.why)}</li>"
        )
    return headline + (f'<ol class="changes">{"".join(items)}</ol>' if items else "")


def _column(side: str, info: CaptureInfo, article: Article, diff: ArticleDiff, keep: frozenset[str]) -> str:
    marks: dict[int, tuple[int, Change]] = {}
    for number, change in enumerate(diff.changes, 1):
        span = change.before_span if side == "before" else change.after_span
        marks |= dict.fromkeys(span.sentences if span else (), (number, change))
    headline = _html_words(diff.headline.words, keep) if diff.headline.changed else None
    label = "Before: the earlier capture" if side == "before" else "After: the later capture"
    parts = [
        f'<section><div class="side">{label} · {esc(info.get("captured_at", ""))}</div>',
        f"<h2>{headline or esc(article.headline)}</h2>",
    ]
    if (side == "after" and diff.body_missing) or (side == "before" and diff.body_restored):
        wall = f" ({WALL_NAMES.get(diff.wall, diff.wall)})" if diff.wall else ""
        parts.append(f'<p class="notice">No article body in this capture{esc(wall)}</p>')
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
        return f"<span {anchor}>{esc(text)}</span>"
    number, change = marks[index]
    span = change.before_span if side == "before" else change.after_span
    body = esc(text)
    if change.kind == "modified":  # sentences split or merged: the words once, on the first
        body = _html_words(change.words, keep) if not span or index == span.sentences[0] else ""
    ref = f'<sup><a href="#c{number}">{number}</a></sup>' if span and index == span.sentences[-1] else ""
    return f'<span {anchor} class="s {change.kind}">{body}{ref}</span>'
