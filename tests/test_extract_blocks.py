"""Paragraph boundaries: text is never glued across a block or a line break (layout tables,
a fallback's <div>, <br> lines), subheads are paragraphs whatever their markup, and control
characters in the HTML never cost the article."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html
from test_extract import article_page, corpus_or_skip, load

from archiver.article.blocks import blocks_of
from archiver.article.decode import decode_html
from archiver.article.extract import extract_article
from archiver.diff.differ import diff_articles


@pytest.fixture(scope="module")
def corpus() -> Path:
    return corpus_or_skip()


NYT = "aeb/www.nytimes.com__702d1da63b8e064c.html"  # human-annotated body, one paragraph a line


def truth_paragraphs(corpus: Path, page: str) -> list[str]:
    truth = json.loads((corpus / page).with_suffix(".json").read_text(encoding="utf-8"))
    return [" ".join(line.split()) for line in truth["main_text"].splitlines() if line.strip()]


def table_layout_page(headline: str, paragraphs: list[str], *, br: bool) -> str:
    """An older page: navigation and story in the cells of one table, the byline a bare text
    run after the headline, paragraphs as unclosed <p> or as <br><br> runs."""
    joiner = "<br><br>" if br else "<p>"
    story = joiner.join(paragraphs)
    return (
        f"<html><head><title>{headline}</title></head><body><table width=760><tr>"
        '<td width=140><a href="/">Home</a><br><a href="/world">World</a></td>'
        f"<td><font size=5><b>{headline}</b></font><br>By Jo Reporter, Staff Writer"
        f"<p>{story}</td></tr></table></body></html>"
    )


@pytest.mark.parametrize("br", [False, True], ids=["unclosed-p", "br-br"])
def test_table_layout_paragraphs_are_not_glued(corpus: Path, br: bool) -> None:
    paragraphs = truth_paragraphs(corpus, NYT)[:12]
    article = extract_article(table_layout_page("Trade war talks stall", paragraphs, br=br))
    assert article.paragraphs[-len(paragraphs) :] == paragraphs
    assert not any("Staff Writer" in p and len(p) > 60 for p in article.paragraphs)


def test_paragraphs_inside_a_container_block_stay_apart() -> None:
    """trafilatura's fallback hands back HTML (a <div> of <p>s), and its own output nests
    paragraphs in cells and quotes: each paragraph is a block of its own."""
    div = lxml_html.fragment_fromstring(
        "<div><p>Mr. Joyce's message.</p>That he has gone<p>4 a.m. ET</p><p>Is the 'war on"
        " Christmas' over?</p></div>"
    )
    quote = etree.fromstring("<quote><p>First quoted line.</p><p>Second quoted line.</p></quote>")
    assert [b.text for b in blocks_of(div)] == [
        "Mr. Joyce's message.",
        "That he has gone",
        "4 a.m. ET",
        "Is the 'war on Christmas' over?",
    ]
    assert [b.text for b in blocks_of(quote)] == ["First quoted line.", "Second quoted line."]


def test_line_breaks_end_a_paragraph() -> None:
    middle = "<p>Tour dates:<br>June 9 – West Palm Beach, FL<br>June 10 – Tampa, FL</p>"
    paragraphs = extract_article(article_page(middle=middle)).paragraphs
    assert paragraphs[3:6] == ["Tour dates:", "June 9 – West Palm Beach, FL", "June 10 – Tampa, FL"]


LEFT = "The council met on Tuesday and decided to rebuild the bridge after years of debate."
RIGHT = "That decision will cost the city more than it had planned for in its budget."


@pytest.mark.parametrize(
    ("furniture", "apart"),
    [
        ('<aside><a href="/x">Related story</a></aside>', True),
        ('<nav><a href="/x">Home</a></nav>', True),
        ("<iframe src='/embed'></iframe>", False),
        ("<button>Share</button>", False),
    ],
    ids=["aside", "nav", "iframe", "button"],
)
def test_pruned_furniture_does_not_glue_the_text_around_it(furniture: str, apart: bool) -> None:
    paragraphs = extract_article(article_page(middle=f"<p>{LEFT}{furniture}{RIGHT}</p>")).paragraphs
    assert paragraphs[3:5] == [LEFT, RIGHT] if apart else paragraphs[3] == f"{LEFT} {RIGHT}"


def test_line_break_in_the_headline_is_a_space() -> None:
    article = extract_article(article_page(h1="Council approves<br>$48 million bridge plan"))
    assert article.headline == "Council approves $48 million bridge plan"


def test_corpus_a_link_around_a_block_counts_as_a_link(corpus: Path) -> None:
    """A "related" box whose entries are headings wrapped in links is link text, not prose."""
    article, _ = load(corpus, "aeb/www.billboard.com__9cb8224b660f36c9.html")
    assert "A half century on, The Doobie Brothers are still smoking." in article.paragraphs
    assert not any("Jonas Brothers Added" in p for p in article.paragraphs)
    assert "June 17 -- Bridgestone Arena, Nashville, TN" in article.paragraphs  # one tour date a line


# --------------------------------------------------------------------------- subheads

SUBHEAD = "What happens next"


@pytest.mark.parametrize(
    "markup",
    [
        f"<h3>{SUBHEAD}</h3>",
        f"<p>{SUBHEAD}</p>",
        f"<p><strong>{SUBHEAD}</strong></p>",
        f'<h2 id="next"><a href="#next">{SUBHEAD}</a></h2>',  # a table-of-contents anchor
    ],
    ids=["h3", "p", "p-strong", "anchor-h2"],
)
def test_subhead_is_a_paragraph_whatever_its_markup(markup: str) -> None:
    h3 = extract_article(article_page(middle=f"<h3>{SUBHEAD}</h3>"))
    other = extract_article(article_page(middle=markup))
    assert SUBHEAD in other.paragraphs
    assert not diff_articles(h3, other).has_edits


@pytest.mark.parametrize(
    "page",
    [
        "aeb/www.cbsnews.com__7a664e40d256470f.html",
        "readability/lemonde-1.html",
        "readability/nytimes-3.html",
    ],
)
def test_corpus_subheads_moving_from_h3_to_p_are_not_edits(corpus: Path, page: str) -> None:
    html = decode_html((corpus / page).read_bytes(), [("Content-Type", "text/html")])
    before = extract_article(html)
    tree = lxml_html.document_fromstring(html.encode())
    moved = 0
    for heading in tree.iter("h2", "h3"):
        if " ".join(heading.text_content().split()) in before.paragraphs:
            heading.tag, moved = "p", moved + 1
    after = extract_article(etree.tostring(tree, encoding="unicode"))
    assert moved >= 3
    assert after.paragraphs == before.paragraphs
    assert not diff_articles(before, after).has_edits


# --------------------------------------------------------------------------- control characters


@pytest.mark.parametrize("char", ["\f", "\v", "\x01", "\x1b", "\x7f", "\x00"])
def test_control_characters_do_not_cost_the_article(corpus: Path, char: str) -> None:
    """One invisible form feed in both captures used to make the page unparsable: the diff
    said "no article body" and missed the edit."""
    html = decode_html((corpus / NYT).read_bytes(), [("Content-Type", "text/html")])
    clean_article = extract_article(html)
    sentence = clean_article.paragraphs[2]
    dirty = html.replace(sentence[-20:], sentence[-20:] + char, 1)
    before = extract_article(dirty)
    after = extract_article(dirty.replace(sentence[-30:], sentence[-30:].replace(" ", " not ", 1)))
    assert before.paragraphs == clean_article.paragraphs
    diff = diff_articles(before, after)
    assert not diff.no_body and diff.changes
