"""A captured HTTP body as text: Content-Encoding (gzip, deflate, br, stacked) undone, then
the charset applied — from the headers, else <meta>, else detection — never failing on bad
bytes. charset-normalizer and brotli are imported only when needed."""

from __future__ import annotations

import codecs
import logging
import re
import zlib
from collections.abc import Callable

from archiver.errors import ArchiverError

log = logging.getLogger(__name__)


_META_SCAN_BYTES = 8192  # how far into the body to look for <meta charset>
_DETECT_BYTES = 65536  # how much of an undeclared body charset detection reads
_MIN_HIGH_BYTES_TO_DETECT = 20  # fewer non-ASCII bytes than this: detection is a coin toss
_CHAOS_TIE = 0.05  # charset-normalizer guesses this close to the best count as equally good
_META_CHARSET = re.compile(rb"<meta\b[^>]{0,300}?charset\s*=\s*[\"']?\s*([\w:.+-]+)", re.I)
_GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# WHATWG decodes these labels with a superset; Python's strict originals lose characters.
_SUPERSETS = {
    "ascii": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "euc_kr": "cp949",
    "shift_jis": "cp932",
    "big5": "big5hkscs",
}
_LABEL_ALIASES = {
    "windows-874": "cp874",
    "x-sjis": "shift_jis",
    "x-gbk": "gbk",
    "x-mac-roman": "mac_roman",
    "unicode-1-1-utf-8": "utf-8",
}


def decode_html(body: bytes, headers: list[tuple[str, str]]) -> str:
    """Text of an HTTP response body: Content-Encoding undone, then the charset applied.

    Charset order: byte-order mark, Content-Type header, ``<meta charset>`` /
    ``<meta http-equiv>`` in the first 8 KB, charset-normalizer detection, UTF-8. A declared
    legacy charset loses to a body that is (nearly all) valid non-ASCII UTF-8, the common
    mislabelling. Never raises: undecodable bytes become U+FFFD.
    """
    data = _undo_content_encoding(body, _header_tokens(headers, "content-encoding"))
    return _to_text(data, _header_charset(headers))


def _header_values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.strip().lower() == name]


def _header_tokens(headers: list[tuple[str, str]], name: str) -> list[str]:
    """Comma-separated tokens of every ``name`` header, lower-cased, in order."""
    return [
        token.strip().lower()
        for value in _header_values(headers, name)
        for token in value.split(",")
        if token.strip()
    ]


def _header_charset(headers: list[tuple[str, str]]) -> str | None:
    for value in reversed(_header_values(headers, "content-type")):
        match = re.search(r"charset\s*=\s*[\"']?([\w:.+-]+)", value, re.I)
        if match:
            return match.group(1)
    return None


DECODED_LIMIT = 256 << 20  # bytes a body may decode to: ~5x --max-size's default, far above any page
_BROTLI_PIECE = 256  # compressed bytes fed at a time: brotli cannot cap one call's output


class DecodedTooLarge(ArchiverError):
    """A Content-Encoding that expands past DECODED_LIMIT (a decompression bomb, or no page)."""


def _too_large(coding: str) -> DecodedTooLarge:
    return DecodedTooLarge(
        f"the {coding}-encoded body decodes to more than {DECODED_LIMIT >> 20} MB; not decoded"
    )


class _Full(Exception):
    """A decoder reached its output limit; `data` is what it had decoded by then."""

    def __init__(self, data: bytes) -> None:
        self.data = data


class _Output:
    """Decoded pieces and their total, kept as a list: growing one buffer would copy it."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pieces: list[bytes] = []
        self.size = 0

    def add(self, piece: bytes) -> None:
        self.size += len(piece)
        self.pieces.append(piece)
        if self.size > self.limit:
            data, self.pieces = self.data(), []
            raise _Full(data[: self.limit])

    def room(self) -> int:
        return self.limit + 1 - self.size  # one byte more than allowed, to notice

    def data(self) -> bytes:
        return b"".join(self.pieces)


def _drain(inflater: zlib._Decompress, data: bytes, out: _Output) -> None:
    """Inflate `data` into `out`, never more than the limit (+1 to notice)."""
    while data and not inflater.eof:
        out.add(inflater.decompress(data, out.room()))
        data = inflater.unconsumed_tail


def _gunzip(data: bytes, limit: int) -> bytes:
    """gzip, with concatenated members and a truncated tail salvaged."""
    out = _Output(limit)
    while True:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        _drain(inflater, data, out)
        data = inflater.unused_data
        if not inflater.eof or not data.startswith(_GZIP_MAGIC):
            return out.data()


def _inflate(data: bytes, limit: int) -> bytes:
    """HTTP "deflate": zlib-wrapped as the RFC says, or raw as some servers send it."""
    try:
        out = _Output(limit)
        _drain(zlib.decompressobj(zlib.MAX_WBITS), data, out)
        return out.data()
    except zlib.error:
        out = _Output(limit)
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        _drain(inflater, data, out)
        if not inflater.eof:
            raise ValueError("raw deflate stream incomplete") from None
        return out.data()


def _unbrotli(data: bytes, limit: int) -> bytes:
    import brotli

    decompressor = brotli.Decompressor()
    out = _Output(limit)
    for start in range(0, len(data), _BROTLI_PIECE):
        out.add(decompressor.decompress(data[start : start + _BROTLI_PIECE]))
    return out.data()


def _identity(data: bytes, limit: int) -> bytes:
    return data


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": _gunzip,
    "x-gzip": _gunzip,
    "deflate": _inflate,
    "br": _unbrotli,
    "identity": _identity,
}


def _undo_content_encoding(body: bytes, codings: list[str], prefix: int | None = None) -> bytes:
    """Undo the codings, last applied first; the raw body if any step fails or is unknown.
    Each step stops at DECODED_LIMIT with DecodedTooLarge (one line for show and diff), or
    with `prefix` given, keeps just the first `prefix` bytes.

    An unlabelled body that starts with the gzip magic number is gunzipped too.
    """
    if not codings and body.startswith(_GZIP_MAGIC):
        codings = ["gzip"]
    data = body
    try:
        for coding in reversed(codings):
            try:
                data = _DECODERS[coding](data, prefix or DECODED_LIMIT)
            except _Full as full:
                if prefix is None:
                    raise _too_large(coding) from None
                data = full.data
    except DecodedTooLarge:
        raise
    except Exception:  # zlib.error, EOFError, brotli's own error class, unknown coding...
        log.debug("content-encoding %s failed, keeping raw body", codings)
        return body
    return data[:prefix] if prefix else data


def decoded_prefix(body: bytes, headers: list[tuple[str, str]], size: int) -> bytes:
    """The first `size` bytes of a body with its Content-Encoding undone (what a capture
    reads for the page's canonical URL: bounded whatever the payload expands to)."""
    return _undo_content_encoding(body, _header_tokens(headers, "content-encoding"), size)


def _codec(label: str | None, *, from_meta: bool = False) -> str | None:
    """Python codec for a charset label (WHATWG supersets applied), None if unusable."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    try:
        name = codecs.lookup(_LABEL_ALIASES.get(label, label)).name
        b"".decode(name)  # rejects bytes-to-bytes codecs such as hex or rot13
    except LookupError:
        return None
    if from_meta and name.startswith(("utf-16", "utf-32")):
        return "utf-8"  # a meta tag readable as ASCII cannot be UTF-16 (WHATWG)
    return _SUPERSETS.get(name, name)


def _utf8_text(data: bytes) -> str | None:
    """The body as UTF-8 if it is that, allowing a stray bad byte per 20 multi-byte characters."""
    text = data.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    absorbed = len(data) - len(text)  # bytes swallowed by multi-byte characters
    return text if bad == 0 or absorbed >= 20 * bad else None


def _detect(data: bytes) -> str | None:
    """Best charset guess for a body that is neither declared nor UTF-8."""
    sample = data[:_DETECT_BYTES]
    if len(sample) - len(sample.decode("ascii", "ignore")) < _MIN_HIGH_BYTES_TO_DETECT:
        return "cp1252"  # the web's legacy default; too little evidence for anything else
    from charset_normalizer import from_bytes

    results = from_bytes(sample)
    best = results.best()
    if best is None:
        return None
    near = {match.encoding for match in results if match.chaos <= best.chaos + _CHAOS_TIE}
    return "cp1252" if "cp1252" in near else best.encoding


def _to_text(data: bytes, header_label: str | None) -> str:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, "replace")
    declared = _codec(header_label)
    if declared is None:
        match = _META_CHARSET.search(data[:_META_SCAN_BYTES])
        declared = _codec(match.group(1).decode("ascii"), from_meta=True) if match else None
    if declared and declared.startswith(("utf-16", "utf-32")):
        return data.decode(declared, "replace")
    if data.isascii():
        return data.decode("ascii")
    text = _utf8_text(data)
    if text is not None:
        return text
    return data.decode(declared or _detect(data) or "utf-8", "replace")
