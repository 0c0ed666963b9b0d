"""JSON shape, terminal rendering (plain and colour) and the self-contained HTML page."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace

from rich.console import Console

from archiver.article.extract import Article
from archiver.diff.differ import diff_articles
from archiver.diff.model import ArticleDiff
from archiver.output.diffjson import to_json
from archiver.output.html import render_html, render_timeline_html
from archiver.output.terminal import render_terminal, render_timeline

URL = "https://news.example/world/putin-letter"
BEFORE_INFO = {"id": "cap-1", "captured_at": "2024-01-01T10:00:00Z", "sha256": "a" * 64}
AFTER_INFO = {"id": "cap-2", "captured_at": "2024-01-02T10:00:00Z", "sha256": "b" * 64}
OLD = Article(
    headline="Putin sends letter to Trump",
    authors=["Jane Doe"],
    paragraphs=[
        "The Kremlin said the letter arrived on Monday. It ran to 3 pages.",
        "Officials in Washington have not commented on the letter.",
        "The White House declined to say whether a reply was planned.",
    ],
)
NEW = replace(
    OLD,
    headline="Putin reportedly sends letter to Trump",
    paragraphs=[
        "The Kremlin said the letter arrived on Monday. It ran to 5 pages.",
        "The White House declined to say whether a reply was planned.",
        "Correction: An earlier version of this article misstated the length of the letter.",
    ],
)
KINDS = {"modified", "added", "removed", "moved"}
FLAGS = {"number", "quote", "attribution", "hedge", "negation", "entity", "correction"}


def diff() -> ArticleDiff:
    return diff_articles(OLD, NEW)


def plain_console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=200, no_color=True), out


def test_json_has_exactly_the_contracted_shape() -> None:
    report = to_json(diff(), URL, BEFORE_INFO, {**AFTER_INFO, "status": 200})
    json.dumps(report)  # serializable as is
    assert {"url", "before", "after", "headline", "changes", "summary"} <= report.keys()
    assert report["url"] == URL
    assert report["before"] == BEFORE_INFO
    assert report["after"] == {**AFTER_INFO, "status": 200}
    headline = report["headline"]
    assert {k: headline[k] for k in ("before", "after", "changed")} == {
        "before": OLD.headline,
        "after": NEW.headline,
        "changed": True,
    }
    assert report["summary"] == {"added": 1, "removed": 1, "modified": 1, "moved": 0}
    for change in report["changes"]:
        assert {"kind", "before", "after", "flags", "severity"} <= change.keys()
        assert change["kind"] in KINDS and set(change["flags"]) <= FLAGS
        assert change["severity"] in {"high", "medium", "low"}
        assert all(isinstance(change[k], str | None) for k in ("before", "after"))
    first = report["changes"][0]
    assert first == {
        **first,
        "kind": "modified",
        "before": "It ran to 3 pages.",
        "after": "It ran to 5 pages.",
        "flags": ["number"],
        "severity": "high",
    }
    removed = next(c for c in report["changes"] if c["kind"] == "removed")
    assert removed["after"] is None and removed["before"].startswith("Officials in Washington")


def test_terminal_plain_text_uses_markers() -> None:
    console, out = plain_console()
    render_terminal(console, diff(), URL, BEFORE_INFO, AFTER_INFO)
    text = out.getvalue()
    assert "\x1b[" not in text
    assert URL in text and "2024-01-02T10:00:00Z" in text and "bbbbbbbbbbbb" in text
    assert "now: Putin {+reportedly+} sends letter to Trump" in text
    assert "It ran to [-3-] {+5+} pages." in text
    assert "[-Officials in Washington have not commented on the letter.-]" in text
    assert "[number]" in text and "[correction]" in text and "HIGH" in text
    assert text.rstrip().endswith("4 edits: headline, 1 modified, 1 added, 1 removed")
    assert text.index("[number]") < text.index("[-Officials")  # most severe first


def test_terminal_colour_keeps_the_markers_too() -> None:
    """Colour is never the only signal (issue 9): styled deletions and insertions keep their
    [-...-]/{+...+} markers (before issue 9 colour replaced them)."""
    out = io.StringIO()
    console = Console(file=out, width=200, force_terminal=True, color_system="truecolor")
    render_terminal(console, diff(), URL, BEFORE_INFO, AFTER_INFO)
    text = out.getvalue()
    assert "\x1b[9" in text  # strike-through deletions
    assert "[-3-]" in text and "{+5+}" in text  # each marker inside its word's style
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "It ran to [-3-] {+5+} pages." in plain


def render(diff: ArticleDiff, after: dict = AFTER_INFO, width: int = 200) -> list[str]:
    console, out = plain_console()
    console.width = width
    render_terminal(console, diff, URL, BEFORE_INFO, after)
    return out.getvalue().rstrip("\n").split("\n")


def test_gone_url_is_one_line() -> None:
    """A 404 is one line: not a notice, "body missing" and "nothing left to compare", and not
    "Headline: <old headline>" as if it were unchanged."""
    gone = replace(OLD, paragraphs=[])
    lines = render(diff_articles(OLD, gone), {**AFTER_INFO, "status": 404})
    assert lines[3:] == ["URL now answers 404: article gone"]
    assert URL in lines[0] and "cap-2" in lines[2]
    report = to_json(diff_articles(OLD, gone), URL, BEFORE_INFO, {**AFTER_INFO, "status": 410})
    assert report["status"] == "URL now answers 410: article gone"
    assert report["body_missing"] is True and report["has_edits"] is False


WALL_PAGE = Article(  # what a consent wall at the article's URL extracts to
    headline="Before you continue to Daily Planet",
    authors=[],
    published="2024-03-01",
    wall="consent",
)


def test_later_wall_is_one_line_without_headline_byline_or_date_changes() -> None:
    diff = diff_articles(OLD, WALL_PAGE)
    assert diff.body_missing and diff.wall == "consent"
    assert not diff.has_edits and not diff.headline.changed
    assert diff.byline is None and diff.published is None and diff.changes == []
    lines = render(diff)
    assert lines[3:] == ["article body missing in later capture (consent wall)"]
    report = to_json(diff, URL, BEFORE_INFO, AFTER_INFO)
    assert report["headline"]["changed"] is False and report["byline"] is None
    assert (report["body_missing"], report["wall"]) == (True, "consent")
    assert report["status"] == "article body missing in later capture (consent wall)"


def test_earlier_wall_is_one_line_and_not_an_edit() -> None:
    teaser = replace(OLD, authors=[], paragraphs=OLD.paragraphs[:1], wall="paywall")
    longer = replace(OLD, paragraphs=[*OLD.paragraphs, *NEW.paragraphs[2:]] * 2)
    diff = diff_articles(teaser, longer)
    assert diff.body_restored and not diff.body_missing and not diff.has_edits
    assert render(diff)[3:] == ["article body back (earlier capture had none: paywall)"]
    assert to_json(diff, URL, BEFORE_INFO, AFTER_INFO)["body_restored"] is True


def test_timeline_one_line_per_step() -> None:
    console, out = plain_console()
    steps = [
        (BEFORE_INFO, AFTER_INFO, diff()),
        (AFTER_INFO, {**AFTER_INFO, "id": "cap-3", "status": 410}, diff_articles(NEW, Article())),
        ({**AFTER_INFO, "id": "cap-4"}, {**AFTER_INFO, "id": "cap-5"}, diff_articles(NEW, WALL_PAGE)),
    ]
    render_timeline(console, steps, URL)
    lines = out.getvalue().rstrip("\n").split("\n")
    assert len(lines) == 4 and URL in lines[0]
    assert "4 edits: headline, 1 modified, 1 added, 1 removed" in lines[1] and "HIGH" in lines[1]
    assert "URL now answers 410: article gone" in lines[2] and "(cap-2 -> cap-3)" in lines[2]
    assert "article body missing in later capture (consent wall)" in lines[3]
    assert "no changes" not in lines[2] + lines[3]


def test_narrow_console_never_breaks_a_line() -> None:
    """Piped output is read by scripts and grep: rich must not hard-wrap a sentence, a
    [-...-]/{+...+} marker or a timeline line at the console width."""
    long_old = replace(OLD, paragraphs=[p * 3 for p in OLD.paragraphs])
    long_new = replace(NEW, paragraphs=[p * 3 for p in NEW.paragraphs])
    narrow = render(diff_articles(long_old, long_new), width=30)
    assert narrow == render(diff_articles(long_old, long_new))
    assert any(len(line) > 200 for line in narrow)
    for line in narrow:
        assert line.count("[-") == line.count("-]") and line.count("{+") == line.count("+}")
    console, out = plain_console()
    console.width = 30
    render_timeline(console, [(BEFORE_INFO, AFTER_INFO, diff())], URL)
    lines = out.getvalue().rstrip("\n").split("\n")
    assert len(lines) == 2 and "(cap-1 -> cap-2)" in lines[1]


def test_json_paragraph_numbers_are_one_based_like_the_terminal() -> None:
    report = to_json(diff(), URL, BEFORE_INFO, AFTER_INFO)
    modified = next(c for c in report["changes"] if c["kind"] == "modified")
    removed = next(c for c in report["changes"] if c["kind"] == "removed")
    added = next(c for c in report["changes"] if c["kind"] == "added")
    assert modified["paragraphs"] == {"before": 1, "after": 1}  # "It ran to 3 pages." in ¶1
    assert removed["paragraphs"] == {"before": 2, "after": None}
    assert added["paragraphs"] == {"before": None, "after": 3}
    text = "\n".join(render(diff()))
    assert "modified  ¶1" in text and "removed  ¶2" in text and "added  ¶3" in text


def test_html_escapes_hostile_text_and_is_self_contained() -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    before = replace(OLD, headline=f"Title {evil}", paragraphs=[*OLD.paragraphs, f"Text {evil}."])
    after = replace(NEW, headline=f"New title {evil}", paragraphs=[*NEW.paragraphs, f"More {evil}."])
    page = render_html(
        diff_articles(before, after), f'{URL}?q="><script>', BEFORE_INFO, AFTER_INFO, before, after
    )
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page.lower()
    assert "<img" not in page and re.search(r"<[^>]*\ssrc=", page) is None
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "&lt;script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_html_shows_both_versions_with_edits_marked() -> None:
    page = render_html(diff(), URL, BEFORE_INFO, AFTER_INFO, OLD, NEW)
    assert "<del>3</del>" in page and "<ins>5</ins>" in page
    assert "<ins>reportedly</ins>" in page
    assert 'class="s removed"' in page and 'class="s added"' in page
    assert page.count("<section>") == 2
    assert 'class="badge f-correction"' in page and 'class="badge sev-high"' in page


def test_html_marks_in_the_text_match_the_numbered_list() -> None:
    """With a headline change, the list's item N is still change N, the one marked N."""
    page = render_html(diff(), URL, BEFORE_INFO, AFTER_INFO, OLD, NEW)
    listed = re.search(r'<ol class="changes">(.*?)</ol>', page, re.S).group(1)
    items = re.findall(r'<li id="c(\d+)"', listed)
    assert items == [str(n) for n in range(1, len(diff().changes) + 1)]
    assert 'id="headline"' not in listed  # shown above the list, unnumbered
    for number in re.findall(r'<sup><a href="#c(\d+)">(\d+)</a></sup>', page):
        assert number[0] == number[1] and number[0] in items


def test_terminal_strips_escape_sequences_from_page_text() -> None:
    console, out = plain_console()
    hostile = replace(NEW, headline="Pwned \x1b[2J\x1b]0;title\x07 \u202eheadline")
    render_terminal(console, diff_articles(OLD, hostile), URL, BEFORE_INFO, AFTER_INFO)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert re.search(r"\{\+Pwned +headline\+\}", text) and "[2J" not in text  # whole sequences go


def test_json_says_per_change_whether_a_claim_changed_and_why() -> None:
    report = to_json(diff(), URL, BEFORE_INFO, AFTER_INFO)
    for change in report["changes"]:
        assert change["meaning"] in {"changed", "unchanged"} and isinstance(change["why"], list)
        assert all(isinstance(w, str) and w for w in change["why"])
    first = report["changes"][0]
    assert (first["meaning"], first["why"]) == ("changed", ["number 3 → 5"])
    removed = next(c for c in report["changes"] if c["kind"] == "removed")
    assert removed["why"][0] == "claim withdrawn"
    headline = report["headline"]
    assert (headline["severity"], headline["meaning"]) == ("high", "changed")
    assert "hedge added: reportedly" in headline["why"]
    unchanged = to_json(diff_articles(OLD, OLD), URL, BEFORE_INFO, AFTER_INFO)["headline"]
    assert (unchanged["severity"], unchanged["meaning"], unchanged["why"]) == (None, "unchanged", [])


def test_terminal_shows_why_under_each_change() -> None:
    lines = render(diff())
    number = lines.index("    It ran to [-3-] {+5+} pages.")
    assert lines[number + 1] == "    why: number 3 → 5"
    assert "    why: hedge added: reportedly" in lines
    assert any(line.startswith("    why: claim withdrawn") for line in lines)


def test_terminal_why_is_sanitized() -> None:
    hostile = replace(NEW, paragraphs=[*NEW.paragraphs[:2], "It ran to 9 \x1b]0;pwn\x07pages."])
    text = "\n".join(render(diff_articles(OLD, hostile)))
    assert "\x1b" not in text and "\x07" not in text


def test_html_has_a_legend_why_and_reflows_on_a_phone() -> None:
    page = render_html(diff(), URL, BEFORE_INFO, AFTER_INFO, OLD, NEW)
    legend = re.search(r'<details class="legend">(.*?)</details>', page, re.S).group(1)
    for word in ("high", "medium", "low", *FLAGS, "why:", "<del>", "<ins>"):
        assert word in legend
    assert '<div class="why"><b>why:</b> number 3 → 5</div>' in page
    assert "Before: the earlier capture" in page and "After: the later capture" in page
    assert "overflow-wrap:anywhere" in page and "minmax(0,1fr)" in page  # long words wrap
    assert "@media (max-width:800px)" in page and 'name="viewport"' in page
    assert "ins{background:#cfc;color:#060;text-decoration:underline}" in page  # not colour only


def test_html_timeline_page() -> None:
    steps = [
        (BEFORE_INFO, AFTER_INFO, diff()),
        (AFTER_INFO, {**AFTER_INFO, "id": "cap-3", "status": 410}, diff_articles(NEW, Article())),
        ({**AFTER_INFO, "id": "cap-4"}, {**AFTER_INFO, "id": "cap-5"}, diff_articles(NEW, WALL_PAGE)),
    ]
    evil = f'{URL}?q="><script>alert(1)</script>'
    page = render_timeline_html(steps, evil)
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    rows = re.findall(r"<tr><td.*?</tr>", page, re.S)
    assert len(rows) == 3
    assert 'data-label="Severity"><span class="badge sev-high">high</span>' in rows[0]
    assert "4 edits: headline, 1 modified, 1 added, 1 removed" in rows[0]
    assert "hedge added: reportedly" in rows[0]  # the headline leads: its why
    assert "cap-1" in rows[0] and "cap-2" in rows[0]
    assert "URL now answers 410: article gone" in rows[1] and "cap-3" in rows[1]
    assert "article body missing in later capture (consent wall)" in rows[2]
    assert '<details class="legend">' in page and "<th>Why</th>" in page
    assert "table.timeline td::before{content:attr(data-label)" in page  # rows stack on a phone


def test_html_shows_a_merged_sentence_once() -> None:
    """A punctuation edit merging two sentences is one change: its words are shown once, on
    the first sentence it covers, not repeated on each."""
    before = replace(
        OLD, paragraphs=["The Kremlin said the letter arrived. It ran to 3 pages.", *OLD.paragraphs[1:]]
    )
    after = replace(
        OLD, paragraphs=["The Kremlin said the letter arrived, and it ran to 3 pages.", *OLD.paragraphs[1:]]
    )
    merged = diff_articles(before, after)
    assert [c.why[0] for c in merged.changes] == ["sentences merged"]
    page = render_html(merged, URL, BEFORE_INFO, AFTER_INFO, before, after)
    before_column = page[page.index("Before: the earlier capture") : page.index("After: the later capture")]
    assert before_column.count("pages.") == 1 and before_column.count('class="s modified"') == 2
