"""The one sanitizer for untrusted text shown on a terminal: page text, URLs, WARC headers,
record ids, file names. A hostile page or WARC must not set the window title, clear the
screen, draw a fake verdict or reorder what is shown, so escape sequences (CSI, OSC, DCS...)
are removed whole, and every other control character and bidi override goes too."""

from __future__ import annotations

import re

# ESC-introduced sequences, whole: CSI (ESC [ ... final), OSC/DCS/SOS/PM/APC (ESC ] ... BEL or
# ST), and two-character escapes; and their 8-bit C1 forms.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# C0 and C1 controls (tab and newline kept only where asked), DEL, bidi embeddings,
# overrides and isolates, and the line/paragraph separators some terminals honour.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_LINE_BREAKS = re.compile(r"[\t\n\u2028\u2029]")


def clean(value: object, *, newlines: bool = False) -> str:
    """str(value) safe to print: no escape sequences, control characters or bidi controls.
    Tabs and line breaks become spaces unless `newlines` keeps them (multi-line page text)."""
    text = _SEQUENCES.sub("", str(value))
    if not newlines:
        text = _LINE_BREAKS.sub(" ", text)
    return _CONTROLS.sub("", text)
