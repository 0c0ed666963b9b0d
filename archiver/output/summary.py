"""The wording every diff report shares: the summary line, the one-line status when there
is nothing to compare, byline/date rows, where a change sits."""

from __future__ import annotations

from typing import Any

from archiver.diff.model import SEVERITIES, ArticleDiff, Change
from archiver.output.sanitize import clean

CaptureInfo = dict[str, Any]
GONE_STATUSES = frozenset({"404", "410"})
SUMMARY_ORDER = ("modified", "added", "removed", "moved")
SEVERITY_STYLE = {"high": "bold red", "medium": "bold yellow", "low": "dim"}
WALL_NAMES = {
    "paywall": "paywall",
    "consent": "consent wall",
    "not_found": "page not found",
    "blocked": "access blocked",
}


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
    wall = clean(WALL_NAMES.get(diff.wall, diff.wall)) if diff.wall else ""
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


def gone_notices(diff: ArticleDiff, after: CaptureInfo) -> list[str]:
    """Notices above a report of edits (a gone page whose diff still found some)."""
    return [f"URL now answers {status}"] if (status := gone_status(after)) else []


def metadata_rows(diff: ArticleDiff) -> list[tuple[str, str, str]]:
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


def max_severity(diff: ArticleDiff) -> str | None:
    """The most severe rating among the headline and the body changes (None: no change)."""
    ranks = [diff.headline.severity] if diff.headline.changed else []
    ranks += [diff.changes[0].severity] if diff.changes else []
    return min(ranks, key=SEVERITIES.index) if ranks else None


def paragraph_marks(change: Change) -> str:
    """Paragraph position(s): "¶3", or "¶2 -> ¶7" when the change crosses paragraphs."""
    spans = [span.paragraph + 1 for span in (change.before_span, change.after_span) if span]
    return " -> ".join(f"¶{p}" for p in dict.fromkeys(spans))
