"""URL checks and canonicalization (the catalogue key of an article)."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from archiver.errors import ArchiverError

TRACKING_PARAMS = (
    "fbclid",
    "gclid",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "ocid",
    "cmpid",
    "ncid",
    "smid",
    "mbid",
    "ito",
    "at_medium",
    "at_campaign",
    "taid",
    "sr_share",
    "cid",
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__hs", "hsa_", "oly_")


def check_url(url: str) -> str:
    """Return `url` stripped, or raise ArchiverError if it cannot be fetched over HTTP(S)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ArchiverError(f"invalid URL {url}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        shown = parts.scheme + ":" if parts.scheme else "no scheme"
        raise ArchiverError(f"unsupported URL scheme ({shown}): {url}; only http and https")
    try:
        port = parts.port
    except ValueError as exc:
        raise ArchiverError(f"invalid URL {url}: {exc}") from None
    if not parts.hostname or (port is not None and not 0 < port < 65536):
        raise ArchiverError(f"invalid URL (no host): {url}")
    return url


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """The catalogue key: lowercase scheme and host, no default port, no fragment,
    no tracking parameters, query parameters sorted."""
    from url_normalize import url_normalize
    from w3lib.url import canonicalize_url, url_query_cleaner

    normalized = url_normalize(url.strip()) or url.strip()
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
