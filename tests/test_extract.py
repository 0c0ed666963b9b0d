"""archiver.article.extract: decoding captured bodies and pulling the article out of real pages."""

from __future__ import annotations

import codecs
import gzip
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest

from archiver.article.decode import decode_html
from archiver.article.extract import Article, extract_article, extract_response

TEXT = "Café au lait, naïve façade — “quoted” résumé, déjà vu. Straße, Grüße, schön, Ærø."
HTML = f"<html><head><title>t</title></head><body><p>{TEXT}</p></body></html>"

PARAGRAPHS = [
    "The city council voted 7 to 2 on Tuesday to approve a $48 million plan to rebuild the aging"
    " Main Street bridge, ending a debate that has lasted more than three years.",
    "Council member Ana Ruiz, who sponsored the measure, said the vote was overdue. “We have"
    " patched this bridge for a decade, and the patches are failing,” she said.",
    "Residents can read more about the plan on the city's website, where the full engineering"
    " report was published last month.",
    "Construction is expected to begin next spring and to last about 18 months, according to the"
    " city's public works department, which will close one lane at a time.",
    "Opponents argued that the cost could rise further. Two council members said they would have"
    " preferred a cheaper repair that might extend the bridge's life by ten years.",
    "The state has promised to cover roughly a third of the cost through a transportation grant,"
    " officials said, though the grant has not yet been formally awarded.",
]


def article_page(
    middle: str = "",
    head: str = "",
    title: str = "Bridge plan | Springfield Gazette",
    h1: str = "Council approves $48 million bridge plan",
    tail: str = "",
) -> str:
    """A news page: logo h1 in the header, the article h1, byline, body with `middle` in it."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:3]) + middle
    body += "".join(f"<p>{p}</p>" for p in PARAGRAPHS[3:]) + tail
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title>"
        '<meta property="og:site_name" content="Springfield Gazette">'
        f"{head}</head><body>"
        '<header><h1 class="logo"><a href="/">Springfield Gazette</a></h1>'
        '<nav><a href="/news">News</a> <a href="/sport">Sport</a></nav></header>'
        f'<main><article><h1>{h1}</h1><p class="byline">By Jane Doe</p>'
        f'<div class="article-body">{body}</div></article></main>'
        "<footer><p>© 2024 Springfield Gazette</p></footer></body></html>"
    )


# --------------------------------------------------------------------------- charsets


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        (HTML.encode("cp1252"), [("Content-Type", "text/html; charset=windows-1252")], TEXT),
        (HTML.encode("cp1252"), [("content-type", "text/html; charset=ISO-8859-1")], TEXT),
        (HTML.encode("cp1252"), [("CONTENT-TYPE", 'text/html; charset="latin1"')], TEXT),
        (HTML.encode("utf-8"), [("Content-Type", "text/html; charset=utf-8")], TEXT),
    ],
    ids=["cp1252", "latin1-label-is-cp1252", "header-name-case", "utf8"],
)
def test_charset_from_header(body: bytes, headers: list[tuple[str, str]], expected: str) -> None:
    assert expected in decode_html(body, headers)


def test_header_charset_beats_meta() -> None:
    body = ('<meta charset="utf-8">' + HTML).encode("cp1252")
    assert TEXT in decode_html(body, [("Content-Type", "text/html; charset=windows-1252")])


@pytest.mark.parametrize(
    ("markup", "codec", "text"),
    [
        ('<meta charset="windows-1251">', "cp1251", "Правительство объявило о новых мерах"),
        ("<meta charset='shift_jis'>", "shift_jis", "日本語のニュース記事です"),
        (
            '<meta http-equiv="Content-Type" content="text/html; charset=GB2312">',
            "gb2312",
            "中国新闻报道内容",
        ),
        (
            '<meta http-equiv="content-type" content="text/html;charset=iso-8859-15">',
            "iso8859-15",
            "Le prix est de 20 € à Besançon",
        ),
    ],
)
def test_charset_from_meta(markup: str, codec: str, text: str) -> None:
    body = f"<html><head>{markup}<title>x</title></head><body><p>{text}</p></body></html>"
    assert f"<p>{text}</p>" in decode_html(body.encode(codec), [("Content-Type", "text/html")])


def test_undeclared_cp1252_is_detected() -> None:
    text = (
        "Le gouvernement français a annoncé jeudi une série de mesures destinées à soutenir les"
        " agriculteurs touchés par la sécheresse. « Nous serons aux côtés de ceux qui souffrent »,"
        " a déclaré le ministre, qui s’est rendu dans la région — les élus réclament davantage."
    )
    assert text in decode_html(f"<p>{text}</p>".encode("cp1252"), [])


def test_undeclared_latin1_with_few_accents_falls_back_to_cp1252() -> None:
    assert decode_html("<p>Zoë’s café</p>".encode("cp1252"), []) == "<p>Zoë’s café</p>"


def test_undeclared_cyrillic_is_detected() -> None:
    text = "Пример текста на русском языке, достаточно длинный для уверенного определения."
    assert text in decode_html(f"<p>{text}</p>".encode("cp1251"), [])


def test_valid_utf8_beats_a_wrong_legacy_label() -> None:
    body = '<meta charset="gb2312"><p>DeepMind新电脑已可利用记忆自学 — café</p>'.encode()
    assert "DeepMind新电脑已可利用记忆自学 — café" in decode_html(body, [])


def test_byte_order_mark_wins() -> None:
    body = codecs.BOM_UTF16_LE + HTML.encode("utf-16-le")
    assert TEXT in decode_html(body, [("Content-Type", "text/html; charset=windows-1252")])


def test_bad_bytes_become_replacement_characters() -> None:
    body = b"<p>caf\xc3\xa9 \xff\xfe\xc3 end</p>"
    text = decode_html(body, [("Content-Type", "text/html; charset=utf-8")])
    assert text.startswith("<p>café ") and text.endswith(" end</p>") and "\ufffd" in text


@pytest.mark.parametrize("label", ["bogus", "rot13", "hex", ""])
def test_unusable_charset_label_is_ignored(label: str) -> None:
    body = HTML.encode("utf-8")
    assert TEXT in decode_html(body, [("Content-Type", f"text/html; charset={label}")])


def test_garbage_bytes_never_raise() -> None:
    for seed in range(20):
        body = os.urandom(2000 + seed)
        assert isinstance(decode_html(body, [("Content-Encoding", "gzip, br")]), str)
        assert isinstance(decode_html(body, [("Content-Type", "text/html; charset=utf-16")]), str)
    assert decode_html(b"", []) == ""


# --------------------------------------------------------------------------- content encodings


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


@pytest.mark.parametrize(
    ("encode", "headers"),
    [
        (gzip.compress, [("Content-Encoding", "gzip")]),
        (gzip.compress, [("content-encoding", "x-gzip")]),
        (brotli.compress, [("Content-Encoding", "br")]),
        (zlib.compress, [("Content-Encoding", "deflate")]),
        (raw_deflate, [("Content-Encoding", "deflate")]),
        (lambda b: brotli.compress(gzip.compress(b)), [("Content-Encoding", "gzip, br")]),
        (
            lambda b: brotli.compress(gzip.compress(b)),
            [("Content-Encoding", "gzip"), ("Content-Encoding", "br")],
        ),
        (lambda b: gzip.compress(b[:100]) + gzip.compress(b[100:]), [("Content-Encoding", "gzip")]),
        (gzip.compress, []),  # unlabelled, recognised by its magic number
        (lambda b: b, [("Content-Encoding", "identity")]),
    ],
    ids=[
        "gzip",
        "x-gzip",
        "br",
        "deflate-zlib",
        "deflate-raw",
        "gzip+br",
        "two-headers",
        "gzip-members",
        "gzip-sniffed",
        "identity",
    ],
)
def test_content_encoding(encode: Callable[[bytes], bytes], headers: list[tuple[str, str]]) -> None:
    headers = [*headers, ("Content-Type", "text/html; charset=utf-8")]
    assert decode_html(encode(HTML.encode()), headers) == HTML


@pytest.mark.parametrize("coding", ["gzip", "br", "deflate", "zstd"])
def test_undecodable_body_falls_back_to_raw_bytes(coding: str) -> None:
    # a body already decoded by the client while the header still claims an encoding
    assert decode_html(HTML.encode(), [("Content-Encoding", coding)]) == HTML


def test_truncated_gzip_keeps_what_arrived() -> None:
    compressed = gzip.compress((HTML * 50).encode())
    text = decode_html(compressed[: len(compressed) // 2], [("Content-Encoding", "gzip")])
    assert text.startswith("<html><head><title>t</title>")


# --------------------------------------------------------------------------- headline


@pytest.mark.parametrize(
    "title",
    [
        "Council approves $48 million bridge plan | Springfield Gazette",
        "Council approves $48 million bridge plan - Springfield Gazette",
        "Council approves $48 million bridge plan — Springfield Gazette",
        "Council approves $48 million bridge plan :: Springfield Gazette",
        "Council approves $48 million bridge plan | News | Springfield Gazette",
        "Springfield Gazette | Council approves $48 million bridge plan",
        "Council approves $48 million bridge plan | Local politics",  # after " | ": never a headline
    ],
)
def test_title_site_suffix_is_stripped(title: str) -> None:
    page = article_page(title=title, h1="")
    assert extract_article(page, "https://gazette.example/a").headline == (
        "Council approves $48 million bridge plan"
    )


@pytest.mark.parametrize(
    ("title", "url", "headline"),
    [
        ("Storm hits the coast - CNN", "https://edition.cnn.com/2024/storm", "Storm hits the coast"),
        ("BBC - Storm hits the coast", "https://www.bbc.co.uk/news/1", "Storm hits the coast"),
        ("Time to act on climate | TIME", "https://time.com/1", "Time to act on climate"),
    ],
)
def test_site_name_known_from_the_url(title: str, url: str, headline: str) -> None:
    page = f"<html><head><title>{title}</title></head><body><p>{PARAGRAPHS[0]}</p></body></html>"
    assert extract_article(page, url).headline == headline


def test_dash_inside_a_headline_is_kept() -> None:
    title = "Brexit - what happens next"
    assert extract_article(article_page(title=title, h1="")).headline == title


def test_h1_confirmed_by_og_title_wins_over_logo_h1() -> None:
    head = '<meta property="og:title" content="Council approves $48 million bridge plan">'
    page = article_page(head=head, title="Bridge vote - Springfield Gazette")
    assert extract_article(page).headline == "Council approves $48 million bridge plan"


def test_kicker_inside_h1_is_dropped() -> None:
    h1 = '<span class="article-kicker">Infrastructure</span><span class="sr-only">: </span>Bridge plan wins'
    head = '<meta property="og:title" content="Infrastructure: Bridge plan wins">'
    assert extract_article(article_page(h1=h1, head=head)).headline == "Bridge plan wins"


def test_section_name_h1_loses_to_og_title() -> None:
    head = '<meta property="og:title" content="Council approves $48 million bridge plan">'
    assert extract_article(article_page(h1="Politics", head=head)).headline == (
        "Council approves $48 million bridge plan"
    )


# --------------------------------------------------------------------------- metadata


def test_metadata_from_json_ld_graph() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": "#site", "name": "Springfield Gazette"},
            {"@type": "Person", "@id": "#jane", "name": "Jane Doe"},
            {
                "@type": "NewsArticle",
                "headline": "Council approves $48 million bridge plan",
                "author": [{"@id": "#jane"}, {"@type": "Person", "name": "By John Roe"}],
                "datePublished": "2024-03-05T09:30:00-05:00",
                "dateModified": "2024-03-06T10:00:00Z",
            },
        ],
    }
    head = f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    article = extract_article(article_page(head=head))
    assert article.authors == ["Jane Doe", "John Roe"]
    assert article.published == "2024-03-05T09:30:00-05:00"
    assert article.modified == "2024-03-06T10:00:00+00:00"


def test_json_ld_in_cdata_and_with_context_object() -> None:
    ld = json.dumps(
        {"@context": {"@vocab": "http://schema.org"}, "@type": "NewsArticle", "datePublished": "2024-12-06"}
    )
    head = f'<script type="application/ld+json">//<![CDATA[\n{ld}\n//]]></script>'
    assert extract_article(article_page(head=head)).published == "2024-12-06"


def test_metadata_from_meta_tags() -> None:
    head = (
        '<meta name="author" content="By Jane Doe and John Roe">'
        '<meta property="article:published_time" content="2024-03-05T09:30:00Z">'
        '<meta property="article:modified_time" content="Tue, 05 Mar 2024 15:00:00 GMT">'
        '<meta property="og:url" content="https://gazette.example/og">'
        '<link rel="canonical" href="/news/bridge-plan">'
    )
    article = extract_article(article_page(head=head), "https://gazette.example/news/bridge?x=1")
    assert article.authors == ["Jane Doe", "John Roe"]
    assert article.published == "2024-03-05T09:30:00+00:00"
    assert article.modified == "2024-03-05T15:00:00+00:00"
    assert article.canonical_url == "https://gazette.example/news/bridge-plan"


def test_byline_markup_and_og_url() -> None:
    head = '<meta property="og:url" content="https://gazette.example/og">'
    article = extract_article(article_page(head=head))
    assert article.authors == ["Jane Doe"]
    assert article.canonical_url == "https://gazette.example/og"


def test_author_lists_are_split_and_site_names_dropped() -> None:
    head = '<meta name="author" content="Dana Ford, Chien-Ming Wang, and Tom Watkins, Springfield Gazette">'
    assert extract_article(article_page(head=head)).authors == ["Dana Ford", "Chien-Ming Wang", "Tom Watkins"]


def test_placeholder_dates_are_ignored() -> None:
    head = '<meta property="article:published_time" content="0001-01-01T00:00:00Z">'
    assert extract_article(article_page(head=head)).published is None


# --------------------------------------------------------------------------- body and churn


def test_body_paragraphs_in_order_without_headline_or_byline() -> None:
    article = extract_article(article_page())
    assert article.paragraphs == PARAGRAPHS


CHURN = {
    "read-more": '<p>Read more: <a href="/news/budget">Mayor unveils new budget proposal</a></p>',
    "read-more-caps": '<p>READ MORE: <a href="/x">Bridge closures planned for summer</a></p>',
    "related-box": '<div class="box"><h3>Related stories</h3><ul><li><a href="/a">School board'
    ' race heats up</a></li><li><a href="/b">New park opens downtown</a></li></ul></div>',
    "more-from": '<h2>More from Springfield Gazette</h2><p><a href="/c">Zoo welcomes a baby'
    ' giraffe</a></p><p><a href="/d">Storm knocks out power</a></p>',
    "teaser-box": '<h3>Most read</h3><ul><li><a href="/a">School board race heats up</a> Candidates'
    ' clash over budget cuts.</li><li><a href="/b">New park opens</a> Families flock to the'
    " riverside lawns.</li></ul>",
    "see-also": '<p>See also: <a href="/e">Timeline of the bridge debate</a></p>',
    "also-read": '<p>Also read: <a href="/f">How the vote unfolded</a></p>',
    "you-may-like": '<h3>You may also like</h3><ul><li><a href="/g">Ten best parks</a></li></ul>',
    "advertisement": "<p>Advertisement</p><p>Story continues below advertisement</p>",
    "newsletter": "<p>Sign up for our Morning Briefing newsletter to get the news in your inbox.</p>",
    "newsletter-link": '<p>[Get the day\'s top stories: <a href="/nl">subscribe to our newsletter</a>.]</p>',
    "share-count": "<p>12 comments</p><p>Share this article</p>",
    "credit": "<p>Photo: Getty Images</p>",
    "linked-headline": '<p><a href="/h">Police release name of crash victim</a></p>',
    "metered-paywall": "<p>You have <strong>3 free articles</strong> remaining.</p>",
}


@pytest.mark.parametrize("name", list(CHURN))
def test_churn_inside_the_body_is_dropped(name: str) -> None:
    article = extract_article(article_page(CHURN[name]), "https://gazette.example/news/bridge")
    assert article.paragraphs == PARAGRAPHS


def test_all_churn_at_once_is_dropped() -> None:
    article = extract_article(article_page("".join(CHURN.values())))
    assert article.paragraphs == PARAGRAPHS


def test_real_sentences_about_reading_more_are_kept() -> None:
    keep = [
        'Read more about the ruling in <a href="/ruling">our explainer</a>, which covers the dissent'
        " and what the court's decision means for tenants across the state.",
        "Related: the council also approved new bike lanes on Elm Street and a study of parking"
        " fees downtown, two measures that drew little debate on Tuesday night.",
        '<a href="https://court.example/report.pdf">The report found that 40 percent of the city'
        "'s bridges need repairs within five years.</a>",
    ]
    middle = "".join(f"<p>{p}</p>" for p in keep)
    paragraphs = extract_article(article_page(middle)).paragraphs
    assert len(paragraphs) == len(PARAGRAPHS) + 3
    assert paragraphs[3].startswith("Read more about the ruling in our explainer, which")
    assert paragraphs[4].startswith("Related: the council also approved new bike lanes")
    assert paragraphs[5].startswith("The report found that 40 percent")


def test_reader_comments_are_cut_off() -> None:
    tail = "<h3>Comments</h3><p>Great news, finally!</p><p>What a waste of money.</p>"
    assert extract_article(article_page(tail=tail)).paragraphs == PARAGRAPHS


def test_lists_tables_and_quotes_become_paragraphs() -> None:
    middle = (
        "<ul><li>First point, with detail.</li><li>Second point.</li></ul>"
        "<blockquote><p>We will build it.</p></blockquote>"
        "<table><tr><th>Year</th><th>Cost</th></tr><tr><td>2024</td><td>$48m</td></tr></table>"
    )
    paragraphs = extract_article(article_page(middle)).paragraphs
    assert paragraphs[3:8] == [
        "First point, with detail.",
        "Second point.",
        "We will build it.",
        "Year | Cost",
        "2024 | $48m",
    ]


def test_standfirst_missed_by_the_body_is_restored() -> None:
    dek = "The $48 million plan ends a three-year fight over the crumbling Main Street crossing."
    head = f'<meta name="description" content="{dek}">'
    page = article_page(head=head).replace(
        '<p class="byline">', f'<header><p class="article-dek">{dek}</p></header><p class="byline">'
    )
    assert extract_article(page).paragraphs == [dek, *PARAGRAPHS]


def test_script_rendered_page_falls_back_to_json_ld_body() -> None:
    ld = {"@type": "NewsArticle", "headline": "Bridge plan", "articleBody": "\n\n".join(PARAGRAPHS)}
    page = (
        "<html><head><title>Bridge plan</title>"
        f'<script type="application/ld+json">{json.dumps(ld)}</script></head>'
        '<body><h1>Bridge plan</h1><div id="app">Loading…</div></body></html>'
    )
    assert extract_article(page).paragraphs == PARAGRAPHS


# --------------------------------------------------------------------------- never crash


@pytest.mark.parametrize(
    "html",
    [
        "",
        "   \n ",
        "just some words, no markup at all",
        '{"json": [1, 2, 3]}',
        "<html></html>",
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>',
        "<p>\x00\x01 control \ud800 characters</p>",
        "<html><body><nav>x</nav>\x0b\x1f tail<p>a\x0bb<br>c</p><script>s</script>\x1ftail</body></html>",
        "<" * 5000,
    ],
)
def test_odd_input_does_not_crash(html: str) -> None:
    assert isinstance(extract_article(html), Article)


def test_binary_garbage_gives_an_empty_article() -> None:
    for seed in range(10):
        body = os.urandom(5000 + seed)
        assert extract_response(body, [("Content-Type", "text/html")]) == Article()


@pytest.mark.parametrize(
    ("page", "headline"),
    [
        (
            "<html><head><title>Before you continue</title></head><body><div class='consent'>"
            "<h1>We value your privacy</h1><p>We and our 842 partners use cookies and similar"
            " technologies to store and access information on your device, to personalise ads and"
            " content, and to measure audiences.</p><p>You can accept all cookies or manage your"
            " privacy settings at any time.</p><button>Accept all</button></div></body></html>",
            "We value your privacy",
        ),
        (
            "<html><head><title>Page not found | Springfield Gazette</title></head><body><nav>"
            "<a href='/'>Home</a></nav><h1>Page not found</h1><p>Sorry, the page you were looking"
            " for does not exist or has been moved. Try our search.</p></body></html>",
            "Page not found",
        ),
    ],
    ids=["consent-wall", "404"],
)
def test_page_without_article_has_no_paragraphs(page: str, headline: str) -> None:
    article = extract_article(page)
    assert article.headline == headline
    assert article.paragraphs == []
    assert article.wall == ("consent" if "privacy" in headline else "not_found")


def teaser_page(prompt: str) -> str:
    """The article page as a paywall serves it: headline, the first sentence, a prompt."""
    page = article_page()
    start = page.index('<div class="article-body">') + len('<div class="article-body">')
    lede = PARAGRAPHS[0].split(", ending")[0] + "."
    return page[:start] + f"<p>{lede}</p>{prompt}" + page[page.index("</div></article>") :]


PAYWALL_PROMPTS = {
    "subscribe": '<div class="paywall"><h3>Subscribe to continue reading</h3>'
    '<p>Unlimited access for $1 a week.</p><a href="/subscribe">Subscribe</a></div>',
    "sign-in": "<div><p>Sign in to read</p></div>",
    "sign-in-button": '<div class="gate"><button>Sign in to read</button></div>',
    "for-subscribers": "<p>This article is for subscribers only.</p>",
    "already": '<p>Already a subscriber? <a href="/login">Log in</a></p>',
    "to-continue": '<p>To continue reading, <a href="/s">subscribe</a> or <a href="/l">log in</a>.</p>',
    "limit": "<p>You've reached your limit of free articles this month.</p>",
    "wsj": "<div>To Read the Full Story</div><div>Subscribe</div>",
    "german": "<div><strong>Jetzt weiterlesen mit</strong> <span>SZ Plus</span></div>",
    "german-abo": "<p>Dieser Artikel ist nur für Abonnenten.</p><p>Sie haben bereits ein Abo? Anmelden</p>",
    "french": "<p>Il vous reste 80% de cet article à lire.</p><p>Déjà abonné ? Se connecter</p>",
    "spanish": "<p>Suscríbete para seguir leyendo</p>",
}


@pytest.mark.parametrize("name", list(PAYWALL_PROMPTS))
def test_paywall_teaser_is_marked(name: str) -> None:
    article = extract_article(teaser_page(PAYWALL_PROMPTS[name]), "https://gazette.example/news/bridge")
    assert article.wall == "paywall"
    assert "rebuild the aging Main Street bridge" in " ".join(article.paragraphs)
    assert not any(p.lower().startswith(("subscribe", "sign in", "to continue")) for p in article.paragraphs)


@pytest.mark.parametrize(
    "middle",
    [
        "<p>The newspaper said readers who hit the limit are told to subscribe to continue reading,"
        " a policy the council criticised.</p>",
        "<p>Subscribe to our newsletter to get the news in your inbox.</p>",
        '<p><a href="#story-continues">Continue reading the main story</a></p>'
        "<p>You have 3 free articles remaining.</p>",
        '<p>Already subscribed to our newsletter? <a href="/prefs">Manage it</a></p>',
        "<p>Council member Ana Ruiz said the plan was for members of the public to read first.</p>",
    ],
    ids=["prose", "newsletter", "nyt-furniture", "newsletter-login", "members"],
)
def test_article_that_mentions_subscribing_is_not_a_paywall(middle: str) -> None:
    article = extract_article(article_page(middle), "https://gazette.example/news/bridge")
    assert article.wall is None
    assert article.paragraphs[:3] == PARAGRAPHS[:3] and article.paragraphs[-3:] == PARAGRAPHS[3:]


def test_extract_response_decodes_then_extracts() -> None:
    body = gzip.compress(article_page().encode("cp1252", errors="ignore"))
    headers = [("Content-Encoding", "gzip"), ("Content-Type", "text/html; charset=windows-1252")]
    article = extract_response(body, headers, "https://gazette.example/news/bridge")
    assert article.headline == "Council approves $48 million bridge plan"
    assert article.paragraphs[1] == PARAGRAPHS[1]


def test_article_round_trips_through_dict() -> None:
    article = extract_article(article_page())
    assert Article.from_dict(json.loads(json.dumps(article.to_dict()))) == article


# --------------------------------------------------------------------------- real pages


def corpus_dir() -> Path:
    env = os.environ.get("ARCHIVER_CORPUS")
    return Path(env) if env else Path(__file__).parents[1].parent / "shared" / "corpus"


def corpus_or_skip() -> Path:
    path = corpus_dir()
    if not (path / "manifest.json").is_file():
        pytest.skip(f"shared corpus not found at {path} (set ARCHIVER_CORPUS to point at it)")
    return path


@pytest.fixture(scope="module")
def corpus() -> Path:
    return corpus_or_skip()


def load(corpus: Path, page: str) -> tuple[Article, dict]:
    html_path = corpus / page
    truth = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
    return extract_response(html_path.read_bytes(), [("Content-Type", "text/html")], truth["url"]), truth


@pytest.mark.parametrize(
    "page",
    [
        "trafilatura/taz.de.siemens.html",  # kicker only in og:title
        "trafilatura/tagesschau.de.rheinmetall.html",  # kicker span inside the h1
        "trafilatura/www.zeit.de__0a12df42d176.html",  # kicker + hidden ": " inside the h1
        "trafilatura/edition.cnn.com-royal.html",  # h1 longer than og:title and <title>
        "trafilatura/www.nzz.ch__d42c68f1b0f4.html",  # h1 differs from every title tag
        "newspaper4k/spanish_article.html",  # site link inside the h1
        "readability/msn.html",  # logo h1 before the article h1
        "readability/nytimes-1.html",
        "readability/aktualne.html",
    ],
)
def test_corpus_headline(corpus: Path, page: str) -> None:
    article, truth = load(corpus, page)
    assert article.headline == truth["title"]


@pytest.mark.parametrize(
    "page",
    [
        "trafilatura/theatlantic.com.disasters.html",
        "trafilatura/wien.orf.at__0a6291ebbce4.html",
        "trafilatura/reuters.com.parasite.html",
        "trafilatura/netzpolitik.org.abmahnungen.html",
    ],
)
def test_corpus_snippets(corpus: Path, page: str) -> None:
    article, truth = load(corpus, page)
    body = " ".join(article.paragraphs)
    for snippet in truth["text_snippets_present"]:
        assert snippet in body
    for snippet in truth["text_snippets_absent"]:
        assert snippet not in body


def test_corpus_related_links_are_dropped(corpus: Path) -> None:
    article, _ = load(corpus, "newspaper4k/time_001.html")
    body = "\n".join(article.paragraphs)
    assert "Read more:" not in body and "More Must-Reads" not in body
    assert "Inside Gaza’s Hospitals" not in body  # an item of the must-reads box
    assert "Hansen" in body


@pytest.mark.parametrize(
    "page",
    [
        "readability/nytimes-2.html",  # "Continue reading the main story" skip links
        "newsdiffs/nyt_2018-05-16_mueller-trump-indictment.html",  # "You have 3 free articles"
        "trafilatura/taz.de.siemens.html",  # German
        "trafilatura/netzpolitik.org.abmahnungen.html",  # "weiterlesen" teaser links
        "newspaper4k/wired_001.html",  # "Continue reading »" in a script
        "aeb/www.latimes.com__8634d1211c3f2b73.html",  # isAccessibleForFree: false
    ],
)
def test_corpus_full_articles_are_not_paywalls(corpus: Path, page: str) -> None:
    article, _ = load(corpus, page)
    assert article.wall is None and sum(map(len, article.paragraphs)) > 1500


@pytest.mark.parametrize(
    "page",
    [
        "aeb/www.wsj.com__042bb7b5fedab6ea.html",  # "To Read the Full Story"
        "trafilatura/www.zeit.de__0a12df42d176.html",  # "Sie sind bereits Digital-Abonnent?"
    ],
)
def test_corpus_paywall_teaser(corpus: Path, page: str) -> None:
    article, _ = load(corpus, page)
    assert article.wall == "paywall" and article.paragraphs


def test_corpus_authors_and_dates(corpus: Path) -> None:
    article, truth = load(corpus, "newspaper4k/cnn_article.html")
    assert article.authors == truth["authors"]
    article, truth = load(corpus, "readability/aktualne.html")
    assert truth["date"] == "2021-11-01T10:52:50+0100"
    assert article.published == "2021-11-01T10:52:50+01:00"
    assert article.authors == truth["authors"]
