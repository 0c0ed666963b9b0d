"""WARC digest values (`algorithm:value`) in the encodings writers use: hex (archiver, wget),
base32 (Heritrix, warcprox: SHA-1) and base64."""

from __future__ import annotations

import base64
import binascii

DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64, "md5": 16}


def parse_digest(value: str) -> tuple[str, bytes] | None:
    """`algorithm:value` (hex, base32 or base64) as (hashlib name, raw bytes); None if unknown."""
    label, _, text = value.strip().partition(":")
    algorithm = label.lower().replace("-", "")
    size = DIGEST_SIZES.get(algorithm)
    if size is None or not text:
        return None
    for decode in (bytes.fromhex, _b32decode, _b64decode):
        try:
            raw = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == size:
            return algorithm, raw
    return None


def _b32decode(text: str) -> bytes:
    return base64.b32decode(text.upper() + "=" * (-len(text) % 8))


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4), validate=True)
