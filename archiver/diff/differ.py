"""Compare two versions of one article: headline, byline, dates and the aligned body."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING

from archiver.article.claims import features, normalize
from archiver.diff.align import Aligner
from archiver.diff.classify import headline_change
from archiver.diff.lexicon import DATELINE_WORDS
from archiver.diff.model import ArticleDiff, Change, Sentence, TextChange, ValueChange, sentences_of

if TYPE_CHECKING:
    from archiver.article.extract import Article


TEASER_SHARE = 0.5  # a paywalled capture with at most this share of the other's text is a teaser
_STAMP_TOKEN = re.compile(r"[^\W\d_]+(?:\.[^\W\d_]+)*")


def diff_articles(before: Article, after: Article) -> ArticleDiff:
    """Compare two versions of one article.

    A capture without an article body (no paragraphs: consent wall, error page; or a paywall
    teaser, ``wall == "paywall"`` with at most TEASER_SHARE of the other capture's text) is not
    compared: the diff says the body went missing (or came back) and nothing else, since the
    headline, byline and dates of such a page are the wall's, not the article's.
    """
    old, new = sentences_of(before), sentences_of(after)
    lacks_before = _lacks_body(before, old, new)
    lacks_after = _lacks_body(after, new, old)
    walls = [side.wall for side, lacks in ((after, lacks_after), (before, lacks_before)) if lacks]
    diff = ArticleDiff(
        headline=TextChange(before.headline, after.headline, False, ()),
        changes=[],
        body_missing=lacks_after and not lacks_before,
        body_restored=lacks_before and not lacks_after,
        no_body=lacks_before and lacks_after,
        wall=next((wall for wall in walls if wall), None),
    )
    if lacks_before or lacks_after:
        if diff.wall or not diff.no_body:
            return diff
        # neither capture has a body and neither is a wall (a photo or video page): the
        # metadata is all there is to compare
    else:
        diff.changes = Aligner(before, after, old, new).run()
    stamps = [change for change in diff.changes if _dateline_change(change)]
    diff.changes = [change for change in diff.changes if change not in stamps]
    diff.headline = headline_change(before.headline, after.headline, (s.text for s in old + new))
    diff.byline = _byline(before.authors, after.authors)
    if not (before.published_guessed or after.published_guessed):
        diff.published = _date_change(before.published, after.published)
    diff.modified = _date_change(before.modified, after.modified) or _dateline_dates(stamps)
    return diff


def _is_dateline(text: str) -> bool:
    """A line that only dates the article ("Published 3 June 2024 10:00 | Updated 4 June"):
    dates or times, and no word but dateline words."""
    found = features(text)
    if not (found.numbers or found.dates):
        return False
    rest = normalize(text).casefold()
    for stamp in sorted((*found.numbers, *found.dates), key=len, reverse=True):
        rest = rest.replace(stamp, " ")
    return all(word in DATELINE_WORDS for word in _STAMP_TOKEN.findall(rest))


def _dateline_change(change: Change) -> bool:
    """A body change between datelines (a published and an updated time swapped, a new
    "Updated" time): a date change the page shows in its text, not an edit of the article."""
    sides = [text for text in (change.before, change.after) if text]
    return bool(sides) and all(_is_dateline(text) for text in sides)


def _dateline_dates(stamps: list[Change]) -> ValueChange | None:
    """The datelines that changed, as the informational modified-date change (a dateline
    that only moved changed no date)."""
    before = [c.before for c in stamps if c.before and c.kind != "moved"]
    after = [c.after for c in stamps if c.after and c.kind != "moved"]
    return ValueChange(before, after) if sorted(before) != sorted(after) else None


def holds_article(article: Article, reference: Article | None = None) -> bool:
    """Whether a capture holds the article's body: it has paragraphs, and is not a paywall
    teaser (a ``wall == "paywall"`` page with at most TEASER_SHARE of ``reference``'s text).
    The test ``diff_articles`` applies to each side (``body_missing``/``body_restored``)."""
    other = sentences_of(reference) if reference is not None else []
    return not _lacks_body(article, sentences_of(article), other)


def _lacks_body(article: Article, sentences: list[Sentence], other: list[Sentence]) -> bool:
    """No paragraphs, or a paywall teaser: a small share of the other capture's text. (With
    nothing to measure against, a paywalled page's text is taken for the article.)"""
    if not sentences:
        return True
    if article.wall != "paywall" or not other:
        return False
    return _length(sentences) <= TEASER_SHARE * _length(other)


def _length(sentences: list[Sentence]) -> int:
    return sum(len(s.key) for s in sentences)


def _byline(before: list[str], after: list[str]) -> ValueChange | None:
    def key(authors: list[str]) -> list[str]:
        names = (re.sub(r"^by\s+", "", normalize(a), flags=re.IGNORECASE) for a in authors)
        return sorted(n.casefold() for n in names if n)

    return None if key(before) == key(after) else ValueChange(list(before), list(after))


def _date_change(before: str | None, after: str | None) -> ValueChange | None:
    return None if _same_time(before, after) else ValueChange(before, after)


def _same_time(a: str | None, b: str | None) -> bool:
    """Equal as instants when both parse as ISO 8601 (date-only compares dates)."""
    if not a or not b:
        return not a and not b
    try:
        x, y = datetime.fromisoformat(a.strip()), datetime.fromisoformat(b.strip())
    except ValueError:
        return normalize(a) == normalize(b)
    if len(a.strip()) <= 10 or len(b.strip()) <= 10:
        return x.date() == y.date()
    if (x.tzinfo is None) != (y.tzinfo is None):
        return x.replace(tzinfo=None) == y.replace(tzinfo=None)
    return x == y
