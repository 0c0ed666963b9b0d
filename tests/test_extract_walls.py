"""Pages in front of the article: anti-bot interstitials are walls ("blocked") in either
direction, and a paywalled capture whose JSON-LD still holds the whole text is the article."""

from __future__ import annotations

import json

import pytest
from test_extract import PARAGRAPHS, PAYWALL_PROMPTS, article_page, teaser_page

from archiver.article.extract import extract_article
from archiver.diff.differ import diff_articles

URL = "https://www.gazette.example/news/bridge"

BOT_CHECKS = {
    # Cloudflare's managed challenge as served today.
    "cloudflare": "<!DOCTYPE html><html lang='en-US'><head><title>Just a moment...</title>"
    '<meta name="robots" content="noindex,nofollow"><meta http-equiv="refresh" content="390">'
    "</head><body class='no-js'><div class='main-wrapper' role='main'><div class='main-content'>"
    "<noscript><div id='challenge-error-title'><div class='h2'><span id='challenge-error-text'>"
    "Enable JavaScript and cookies to continue</span></div></div></noscript>"
    "<h1 class='zone-name-title h1'>www.gazette.example</h1><h2 class='h2' id='challenge-running'>"
    "Verifying you are human. This may take a few seconds.</h2><div id='challenge-stage'></div>"
    "<div id='challenge-body-text' class='core-msg spacer'>www.gazette.example needs to review the"
    " security of your connection before proceeding.</div></div></div><script>window._cf_chl_opt="
    "{cType: 'managed', cNounce: '41029'};</script><div class='footer' role='contentinfo'>"
    "<div class='ray-id'>Ray ID: <code>8a2f3c9d1e7b4a61</code></div><div id='footer-text'>"
    "Performance &amp; security by <a href='https://www.cloudflare.com'>Cloudflare</a></div>"
    "</div></body></html>",
    # Cloudflare's older "I'm under attack" page: the message is in a heading and a link.
    "cloudflare-iuam": "<!DOCTYPE HTML><html lang='en-US'><head><meta charset='UTF-8'>"
    "<title>Just a moment...</title></head><body><table width='100%' height='100%'><tr>"
    "<td align='center'><div class='cf-browser-verification cf-im-under-attack'><noscript>"
    "<h1 data-translate='turn_on_js'>Please turn JavaScript on and reload the page.</h1></noscript>"
    "<div id='cf-content' style='display:none'><h1><span data-translate='checking_browser'>Checking"
    " your browser before accessing</span> gazette.example.</h1><p>This process is automatic. Your"
    " browser will redirect to your requested content shortly.</p><p>Please allow up to 5"
    " seconds&hellip;</p></div><form id='challenge-form' action='/news/bridge?__cf_chl_jschl_tk__=x'"
    " method='POST'><input type='hidden' name='r' value='y'></form></div><div class='attribution'>"
    "<a href='https://www.cloudflare.com/5xx-error-landing/'>DDoS protection by Cloudflare</a><br>"
    "Ray ID: 5f1b2c3d4e5f6a7b</div></td></tr></table></body></html>",
    # Google Project Shield's interstitial.
    "project-shield": "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Checking your"
    " browser</title></head><body><div class='container'><img src='/__shield/logo.svg'"
    " alt='Project Shield'><h1>Checking your browser before accessing the site</h1><p>This"
    " website is protected by Project Shield, a free service from Google that defends news and"
    " human rights sites against DDoS attacks.</p><p>Your browser will be redirected"
    " automatically. If nothing happens, please enable JavaScript and cookies and reload the"
    " page.</p><div id='challenge'></div></div><script src='/__shield/challenge.js'></script>"
    "</body></html>",
}


@pytest.mark.parametrize("name", list(BOT_CHECKS))
def test_bot_check_is_a_wall(name: str) -> None:
    article = extract_article(BOT_CHECKS[name], URL)
    assert (article.wall, article.paragraphs) == ("blocked", [])


@pytest.mark.parametrize("name", list(BOT_CHECKS))
def test_bot_check_is_one_line_in_either_direction(name: str) -> None:
    story = extract_article(article_page(), URL)
    wall = extract_article(BOT_CHECKS[name], URL)
    missing, restored = diff_articles(story, wall), diff_articles(wall, story)
    assert missing.body_missing and missing.wall == "blocked" and not missing.changes
    assert restored.body_restored and restored.wall == "blocked" and not restored.changes
    assert not (missing.has_edits or restored.has_edits)


def test_article_about_captchas_is_not_a_wall() -> None:
    middle = (
        "<p>Residents who tried to book a slot were asked to solve a captcha, to prove they were"
        " not a robot, and many said they could not get through.</p>"
    )
    assert extract_article(article_page(middle), URL).wall is None


def _with_ld_body(page: str, separator: str) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Council approves $48 million bridge plan",
        "articleBody": separator.join(PARAGRAPHS),
    }
    return page.replace("</head>", f'<script type="application/ld+json">{json.dumps(ld)}</script></head>')


@pytest.mark.parametrize("separator", ["\n\n", " "], ids=["paragraphs", "one-string"])
def test_paywalled_page_with_the_full_text_in_json_ld_is_the_article(separator: str) -> None:
    """`show` and `diff` agree: the later capture holds the article, unchanged."""
    before = extract_article(_with_ld_body(article_page(), separator), URL)
    after = extract_article(_with_ld_body(teaser_page(PAYWALL_PROMPTS["subscribe"]), separator), URL)
    assert after.wall is None
    assert " ".join(after.paragraphs) == " ".join(PARAGRAPHS)
    diff = diff_articles(before, after)
    assert not diff.has_edits and not diff.body_missing


def test_paywalled_page_whose_json_ld_holds_the_teaser_only_stays_a_paywall() -> None:
    page = teaser_page(PAYWALL_PROMPTS["subscribe"])
    ld = {"@type": "NewsArticle", "headline": "Bridge", "articleBody": PARAGRAPHS[0][:120]}
    page = page.replace("</head>", f'<script type="application/ld+json">{json.dumps(ld)}</script></head>')
    assert extract_article(page, URL).wall == "paywall"


def test_short_article_with_a_cookie_banner_is_not_a_wall() -> None:
    """The whole page is read for bot checks only: a brief story's page with a consent banner
    is still the story."""
    banner = (
        '<div id="cmp-banner"><p>We use cookies to improve your experience.</p>'
        "<a href='/privacy'>Privacy settings</a> <a href='/consent'>Manage consent</a>"
        " <a href='#'>Accept all</a></div>"
    )
    page = (
        "<html><head><title>Bridge closed</title></head><body>"
        f"<article><h1>Main Street bridge closed</h1><p>{PARAGRAPHS[0]}</p><p>{PARAGRAPHS[3]}</p>"
        f"</article>{banner}</body></html>"
    )
    article = extract_article(page, URL)
    assert article.wall is None and article.paragraphs == [PARAGRAPHS[0], PARAGRAPHS[3]]
