"""A diff as JSON, for scripts (the shape README documents)."""

from __future__ import annotations

from typing import Any

from archiver.diff.model import ArticleDiff, Change, WordOp
from archiver.output.summary import CaptureInfo, status_line


def to_json(diff: ArticleDiff, url: str, before: CaptureInfo, after: CaptureInfo) -> dict:
    """The machine-readable report (see README for the schema).

    Beyond the README's core: ``has_edits``; ``body_missing`` (the later capture has no article
    body), ``body_restored`` (the earlier one had none), ``no_body`` (neither has) and ``wall``
    (why: "paywall", "consent", "not_found", "blocked" or null) -- the headline, byline and
    dates are then not compared; ``status`` (the one-line report when there was nothing to
    compare, else null); ``byline`` and ``dates``; per change (and for the headline)
    ``meaning`` and ``why``, per change ``level``, ``paragraphs`` and ``words`` (see
    ``_change_json``); the headline's ``severity`` (null when it did not change).
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
            "severity": diff.headline.severity if diff.headline.changed else None,
            "meaning": diff.headline.meaning,
            "why": list(diff.headline.why),
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
    ``words``: a word-level diff as [op, text], op in equal/delete/insert; ``meaning``:
    "changed" when the edit changed what the article claims, else "unchanged"; ``why``: the
    evidence for that and for the severity ("number 25 → 20", "case", "claim withdrawn")."""
    return {
        "kind": change.kind,
        "before": change.before,
        "after": change.after,
        "flags": list(change.flags),
        "severity": change.severity,
        "meaning": change.meaning,
        "why": list(change.why),
        "level": change.level,
        "paragraphs": {
            "before": change.before_span.paragraph + 1 if change.before_span else None,
            "after": change.after_span.paragraph + 1 if change.after_span else None,
        },
        "words": _words_json(change.words),
    }
