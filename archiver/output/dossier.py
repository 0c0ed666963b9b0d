"""The evidence page `archiver report` writes: one self-contained, printable HTML page with
the edits side by side (the diff report's body) and, after them, what a court or a
fact-checker needs to trust it: every digest, the signatures and the key's fingerprint, the
capture times, the verification result and the commands to check it all independently."""

from __future__ import annotations

from typing import TYPE_CHECKING

from archiver.diff.model import ArticleDiff
from archiver.evidence.dossier import CaptureEvidence, Dossier
from archiver.output.html import diff_body, esc, page
from archiver.output.summary import CaptureInfo

if TYPE_CHECKING:
    from archiver.article.extract import Article

_PRINT_CSS = """
.evidence{font-family:system-ui,sans-serif;font-size:14px;margin-top:2em;border-top:2px solid #222}
.evidence table{border-collapse:collapse;width:100%}.evidence td,.evidence th{text-align:left;
vertical-align:top;padding:.2em .5em .2em 0;border-bottom:1px solid #ddd}
.verdict{font-weight:bold;padding:.4em .6em}.ok{background:#e3f4e1}.bad{background:#fde2e1}
pre{white-space:pre-wrap;word-break:break-all;background:#f4f4f4;padding:.6em}
@media print{body{max-width:none;font-size:11pt}.legend{display:block}a{color:inherit;text-decoration:none}
.evidence{break-before:page}tr,li,pre{break-inside:avoid}}
"""


def render_dossier(
    dossier: Dossier,
    diff: ArticleDiff,
    before: CaptureInfo,
    after: CaptureInfo,
    before_article: Article,
    after_article: Article,
) -> str:
    body = diff_body(diff, dossier.url, (before, after), (before_article, after_article)).replace(
        '<details class="legend">', '<details class="legend" open>'
    )
    return page(
        f"Evidence: {esc(dossier.url)}", f"<h1>Evidence of edits</h1>{body}{_evidence(dossier)}", _PRINT_CSS
    )


def _evidence(d: Dossier) -> str:
    verdict = (
        '<p class="verdict ok">Both captures verify: gzip members, record digests, manifests, '
        "chain and signatures.</p>"
        if d.verified
        else f'<p class="verdict bad">Verification found {len(d.problems)} problem(s): this '
        "evidence does not hold as it is.</p>"
    )
    problems = "".join(f"<li>{esc(p)}</li>" for p in d.problems)
    notes = "".join(f"<li>{esc(n)}</li>" for n in d.notes)
    key = (
        f"<p>Key trusted: <code>{esc(d.key_fingerprint)}</code> ({esc(d.key_source)}). "
        "A signature proves who made a capture and when they say they made it; it cannot "
        "prove what the server sent beyond the archivist's word. Confirm the fingerprint "
        "with the archivist out of band.</p>"
        if d.key_fingerprint
        else "<p>No archive key: the captures are not signed, so nothing ties them to the archivist.</p>"
    )
    head = (
        f"<p>Chain head at the time of this report: <code>{esc(d.chain_head)}</code></p>"
        if d.chain_head
        else ""
    )
    commands = esc("\n".join(d.commands))
    return (
        f'<section class="evidence"><h2>Evidence</h2>{verdict}'
        f"{f'<ul>{problems}</ul>' if problems else ''}{key}{head}"
        f"{_capture_table('Earlier capture', d.before)}{_capture_table('Later capture', d.after)}"
        f"{f'<h3>Notes</h3><ul>{notes}</ul>' if notes else ''}"
        f"<h3>Check it yourself</h3><pre>{commands}</pre></section>"
    )


def _capture_table(title: str, side: CaptureEvidence) -> str:
    c = side.capture
    rows = [
        ("capture", c.id),
        ("sequence in the chain", str(c.seq)),
        ("captured (UTC)", c.captured_at),
        ("URL requested", c.url),
        ("URL answered", f"{c.final_url} (HTTP {c.status})"),
        ("WARC file", c.warc_path),
        ("file SHA-256", c.warc_sha256 or ""),
        ("payload SHA-256", c.payload_sha256),
        ("manifest SHA-256", c.manifest_sha256),
        ("previous manifest", c.prev_manifest_sha256 or "(first of the chain)"),
        ("signed", "yes" if c.signed else "no"),
    ]
    rows += [
        (f"record {n}: {r.get('type')}", f"{r.get('id')} block {r.get('block_digest')}")
        for n, r in enumerate(side.records, 1)
    ]
    cells = "".join(
        f"<tr><th>{esc(label)}</th><td><code>{esc(value)}</code></td></tr>" for label, value in rows
    )
    return f"<h3>{esc(title)}</h3><table>{cells}</table>"
