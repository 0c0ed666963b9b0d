"""URL checks and canonicalization (the catalogue key of an article)."""

from __future__ import annotations

import codecs
import functools
import os
import re
from urllib.parse import urljoin, urlsplit

from archiver.errors import ArchiverError

# Share and tracking parameters: they name who shared a story or which campaign led to it,
# never which story it is, so they stay out of the catalogue key (the one list; README).
TRACKING_PARAMS = frozenset(
    {
        # ad and social click ids
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "ttclid", "li_fat_id", "igshid", "igsh", "epik", "s_cid", "mkt_tok", "vero_id",
        # analytics and newsletter tools
        "_ga", "_gl", "mc_cid", "mc_eid", "_hsenc", "_hsmi", "oly_anon_id", "oly_enc_id",
        # newsrooms' own share and campaign tags
        "cmp", "intcmp", "cmpid", "xtor", "xtref", "ref", "ref_src", "ref_url", "refsrc", "mod",
        "ocid", "ncid", "smid", "smtyp", "mbid", "ito", "icid", "taid", "sr_share", "cid",
        "at_medium", "at_campaign",
        "guccounter", "guce_referrer", "guce_referrer_sig",
        "soc_src", "soc_trk", "wt.mc_id", "wt.mc_ev", "__twitter_impression", "fromshare",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "matomo_", "__hs", "hsa_", "oly_", "ns_", "wt.", "at_custom")
_HOST_ONLY = re.compile(
    r"(?:\[[0-9A-Fa-f:.]+\]|[^\s/?#:@\[\]]+\.[^\s/?#:@\[\]]+|localhost)(?::[0-9]*)?(?:[/?#]|$)"
)


def with_scheme(url: str) -> str:
    """`example.com/story` means https://example.com/story, as in curl and httpie; anything
    else (a scheme of its own, words with spaces) is left for check_url to judge."""
    url = url.strip()
    if "://" not in url and _HOST_ONLY.match(url):
        return "https://" + url
    return url


def check_url(url: str) -> str:
    """Return `url` stripped (https:// added when it has no scheme), or raise ArchiverError
    if it cannot be fetched over HTTP(S)."""
    url = with_scheme(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ArchiverError(f"invalid URL {url}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme + ":" if parts.scheme else "no scheme"
        raise ArchiverError(f"unsupported URL scheme ({shown}): {url}; only http and https")
    if re.search(r"\s\S*://", url):
        raise ArchiverError(f"two URLs on one line: {url}")
    if re.search(r"\s", url):
        raise ArchiverError(f"invalid URL (white space in it): {url}")
    if "\ufffd" in url:
        raise ArchiverError(f"invalid URL (bytes that are not UTF-8 text): {url}")
    try:
        port = parts.port
    except ValueError as exc:
        raise ArchiverError(f"invalid URL {url}: {exc}") from None
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        raise ArchiverError(f"invalid URL (no host): {url}")
    return url


def url_list(data: bytes) -> list[str]:
    """The URLs of a list file, one a line: blank lines and `#` comments skipped, a
    byte-order mark (UTF-8, UTF-16, UTF-32) honoured and dropped. A line that is not UTF-8
    stays in the list with U+FFFD, so it is reported as that line's error."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            text = data.decode(codec, "replace")
            break
    else:
        text = data.decode("utf-8", "replace")
    lines = (line.strip().lstrip("\ufeff").strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


@functools.lru_cache(maxsize=4096)  # a capture asks for the same URL's key several times
def canonicalize(url: str) -> str:
    """The catalogue key: lowercase scheme and host, no default port, no fragment,
    no tracking parameters, query parameters sorted."""
    from url_normalize import url_normalize
    from w3lib.url import canonicalize_url, url_query_cleaner

    url = with_scheme(url)
    normalized = url_normalize(url) or url
    query = urlsplit(normalized).query
    names = [pair.split("=", 1)[0] for pair in query.split("&") if pair]
    tracking = [name for name in names if _is_tracking(name)]
    if tracking:
        normalized = url_query_cleaner(normalized, tracking, remove=True, keep_fragments=True)
    return canonicalize_url(normalized, keep_blank_values=True)


def looks_like_path(target: str) -> bool:
    """A command-line target meant as a file, not a URL or a capture id: it has a slash or
    a WARC/WACZ ending."""
    if "://" in target:
        return False
    return "/" in target or os.sep in target or target.lower().endswith((".warc", ".warc.gz", ".wacz"))


_HEAD_CHARS = 512 * 1024  # how much of a page is searched for its canonical URL
_BODY = re.compile(r"<body[\s>/]", re.I)


def page_canonical(html: str, base: str) -> str | None:
    """The URL a page names as its own (the first `link rel=canonical`, else `og:url`, up to
    its body), resolved against `base`; None when there is none fetchable. Only the head is
    parsed (with lxml: a capture pays for this on every page)."""
    from lxml import etree
    from lxml import html as lxml_html

    head = html[:_HEAD_CHARS]
    body = _BODY.search(head)
    head = head[: body.start()] if body else head
    try:
        tree = lxml_html.document_fromstring(head)
    except (etree.ParserError, ValueError):
        return None
    found: dict[str, str] = {}
    for element in tree.iter("link", "meta"):
        if element.tag == "link" and "canonical" in (element.get("rel") or "").lower().split():
            found.setdefault("canonical", (element.get("href") or "").strip())
        elif (element.get("property") or element.get("name") or "").strip().lower() == "og:url":
            found.setdefault("og:url", (element.get("content") or "").strip())
    for kind in ("canonical", "og:url"):
        href = found.get(kind)
        if href:
            try:
                return check_url(urljoin(base, href))
            except (ArchiverError, ValueError):
                continue
    return None


def same_site(first: str, second: str) -> bool:
    """Whether two URLs are on one site: the same host, or the same registered domain
    (a guess without the public suffix list: two labels, three under e.g. co.uk)."""

    def site(url: str) -> str:
        host = (urlsplit(url).hostname or "").rstrip(".")
        labels = host.split(".")
        if host.replace(".", "").isdigit() or ":" in host or len(labels) < 3:
            return host
        under_country = len(labels[-1]) == 2 and len(labels[-2]) <= 3
        return ".".join(labels[-3:] if under_country else labels[-2:])

    return site(first) == site(second)
