"""What counts as the article: the page's own paragraphs when trafilatura misses them, promo
modules that rotate another story through the article are not, nor are JSON-LD fragments
in the byline."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_extract import PARAGRAPHS, article_page, corpus_or_skip, load

from archiver.article.extract import extract_article
from archiver.diff.differ import diff_articles


@pytest.fixture(scope="module")
def corpus() -> Path:
    return corpus_or_skip()


@pytest.mark.parametrize("container", ['class="comments-body"', 'id="comments-wrapper"'])
def test_body_missed_by_trafilatura_comes_from_the_paragraph_container(container: str) -> None:
    """trafilatura drops a container named like a comment thread; the page plainly carries
    the article in it."""
    page = article_page().replace('class="article-body"', container)
    assert extract_article(page).paragraphs == PARAGRAPHS


def test_corpus_body_missed_by_trafilatura(corpus: Path) -> None:
    """Axios newsletter page: trafilatura keeps only the greeting above the story."""
    article, _ = load(corpus, "trafilatura/axios.com.future.html")
    body = " ".join(article.paragraphs)
    assert "A new breed of intelligent video surveillance is being installed" in body
    assert "to school districts and universities, in addition to banks" in body


def promo(quote: str, speaker: str, slug: str, name: str) -> str:
    """A box inside the article body showing a quote from another story, linking to it."""
    return (
        f'<div class="{name}"><blockquote><p>“{quote}”</p><footer>— {speaker}</footer></blockquote>'
        f'<p><a href="/news/{slug}">Read the story</a></p></div>'
    )


@pytest.mark.parametrize(
    "name", ["promo promo--quote", "story-recommendation", "recirc-module", "quoteRotator"]
)
def test_rotating_promo_module_is_churn(name: str) -> None:
    before = extract_article(
        article_page(
            middle=promo("We will not raise taxes on 40,000 families", "Gov. Lisa Park", "tax", name)
        )
    )
    after = extract_article(
        article_page(
            middle=promo("The hospital lost $3 million in one quarter", "CEO Mark Fine", "loss", name)
        )
    )
    assert before.paragraphs == PARAGRAPHS
    assert not diff_articles(before, after).has_edits


def test_wrapper_named_like_a_module_is_still_the_article() -> None:
    page = article_page().replace('class="article-body"', 'class="article-body has-newsletter-signup"')
    assert extract_article(page).paragraphs == PARAGRAPHS


PERSON = '{"@context": "https://schema.org", "@type": "Person", "name":"Alice Wu" }'


@pytest.mark.parametrize(
    ("byline", "head"),
    [
        (f'<script type="application/ld+json" class="author-schema">{PERSON}</script>', ""),
        (f'<div class="author-box"><script type="application/ld+json">{PERSON}</script>Alice Wu</div>', ""),
        ("", f"<meta name='author' content='{PERSON}'>"),
    ],
    ids=["ld-script-with-author-class", "ld-script-inside-byline", "json-in-meta-author"],
)
def test_json_ld_never_leaks_into_the_byline(byline: str, head: str) -> None:
    page = article_page(head=head).replace('<p class="byline">By Jane Doe</p>', byline)
    authors = extract_article(page).authors
    assert all(set(name) & set('{}":') == set() for name in authors)
    assert authors in ([], ["Alice Wu"])
    if "Alice Wu</div>" in byline or head:
        assert authors == ["Alice Wu"]
