"""Publisher churn inside the body: related-story boxes, "Read more:" links, prompts, ad
labels, credits, timestamps, reader comments; and headline/byline repeats at its top."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from archiver.article.blocks import Block
from archiver.article.html import squash
from archiver.article.metadata import author_names
from archiver.article.walls import is_paywall_prompt

_HEADING_MAX = 80  # longest text still read as a box heading ("More from ...")
_SHORT = 300  # labelled lines and prompts longer than this are read as prose
_LINK_ONLY = 0.8  # link share from which a short block is a link, not prose
_LINK_ONLY_MAX = 200
_LINKED = 0.5  # link share of a "Read:"-labelled line or of a box entry without list markup
_PROMO_LINK_SHARE = 0.15  # a sign-up/newsletter mention that links somewhere is a promo...
_PROMO_MAX = 250  # ... when it is this short
_TIMESTAMP_MAX = 100


_ALWAYS_LABELS = (  # "<label>:" drops the line whatever follows
    r"read (?:more|also|next)|also read|see also|related(?: \w+)?|recommended(?: \w+)?"
    r"|more (?:from|on|about) [^:|]{1,40}|further reading|don'?t miss|must[- ]reads?|gallery"
    r"|lesen sie (?:auch|mehr)|mehr zum thema|(?:à )?lire aussi|voir aussi"
    r"|le[ea] (?:también|más)|leia (?:também|mais)|veja também|saiba mais"
)
_LINK_LABELS = (  # "<label>" + a link: dropped when the link is most of the rest
    rf"{_ALWAYS_LABELS}|more|also(?: on \S+)?|watch|listen|video|photos|opinion|analysis"
    r"|explainer|latest|live|previously|click here|podcast|trending|sponsored|top stories"
    r"|read|lire|lesen|leer|leia|mehr|plus"
)
_SEPARATOR = r"\s*(?:[:|»›>–—-]|\.{3}|…)"
_LABEL = re.compile(rf"^\W{{0,3}}(?:{_ALWAYS_LABELS}){_SEPARATOR}", re.I)
_LINK_LABEL = re.compile(rf"^\W{{0,3}}(?:{_LINK_LABELS})(?:{_SEPARATOR}|\s)\s*(.*)$", re.I)
_BOX_HEADING = re.compile(
    rf"^\W{{0,3}}(?:{_ALWAYS_LABELS}"
    r"|more\b.{0,30}\b(?:from|on|about|in)\b.{0,40}|see more(?: \w+)?"
    r"|more (?:stories|news|coverage|articles|to (?:read|explore))"
    r"|you (?:may|might|could) (?:also )?(?:like|enjoy|be interested in)"
    r"|most (?:read|popular|viewed|shared)|top stories|trending(?: now)?|editor'?s picks"
    r"|popular (?:now|stories)|latest (?:news|stories)|what to read next|in other news"
    r"|sur le même sujet|noticias relacionadas|notícias relacionadas)\W{0,3}$",
    re.I,
)
_BOILERPLATE = re.compile(
    r"^\W*(?:advertisement|advertisment|ad|anzeige|werbung|publicité|publicidad|publicidade"
    r"|sponsored(?: content)?|(?:story|article) continues (?:below|after).{0,30}"
    r"|continue reading(?: the main story| below)?|scroll (?:down )?to continue.{0,20}"
    r"|skip (?:advertisement|ad)|copy link|link copied|print|e-?mail"
    r"|share(?: this)?(?: article| story| page| on \w+| via \w+)?"
    r"|like this (?:story|article)\?.{0,40}|click to (?:share|print|email).{0,40}"
    r"|follow us on .{0,40}|order reprints|today'?s paper"
    r"|(?:last )?updated(?: on| at)?|aktualisiert(?: am)?|veröffentlicht(?: am)?|mis à jour(?: le)?"
    r"|\d[\d,.]*k? ?(?:comments?|shares?|views?|reactions?)"
    r"|(?:comments?|shares?) \(?\d+\)?)\W*$",
    re.I,
)
_COMMENTS_START = re.compile(
    r"^\W*(?:(?:reader |user )?comments?|comentar(?:ios)?|kommentare?|commentaires?"
    r"|commenti|comentários|(?:leave|add|post|write) (?:a|your) (?:comment|reply)"
    r"|join the (?:conversation|discussion)|(?:show|view|load) comments)\W*(?:\(\d+\))?$",
    re.I,
)
_PROMPT = re.compile(
    r"^\W*(?:sign up|subscribe|register now|(?:get|receive) (?:our|the) [^.]{0,50}newsletter"
    r"|join (?:our|the) [^.]{0,40}(?:newsletter|mailing list)|enter your e-?mail|never miss"
    r"|click here to (?:get|download|subscribe|sign)|if you (?:enjoyed|liked) this"
    r"|this copy is for your personal|our standards\s*:|we want to hear what you think)",
    re.I,
)
_PROMO_WORDS = re.compile(r"newsletter|inbox|sign up|subscribe|download (?:our|the) app", re.I)
_CREDIT = re.compile(
    r"^\W*(?:(?:photo|image|picture|foto|bild|illustration)s?(?: credit)?\s*(?:by\b|:|©)"
    r"|credit\s*:|copyright\b|©|ⓒ|\(c\)\s|\(?photo by\b)|all rights reserved\W*$",
    re.I,
)
_SENTENCE = re.compile(r"[.!][\"'”’)\]]*$")
_LIST_ENTRY = re.compile(r"^\d{1,3}[.):] ")
_LABELLED_HEADLINE_MAX = 100  # "Related: <headline>" is short; longer labelled text may be prose
_BYLINE_REPEAT_MAX = 150  # a body paragraph longer than this is not a repeated byline
_TIMESTAMP = re.compile(
    r"^(?:(?:last )?updated|published|posted|first published|modified)\b.{0,60}\d.{0,40}$", re.I
)


# A metered paywall's counter, different on every visit: page furniture, not a paywall.
_METER = re.compile(
    r"\b(?:you have|you've got) (?:\d+|one|two|three|four|five) (?:more )?free (?:articles?|stories)"
    r"|\b\d+ (?:of \d+ )?free (?:articles?|stories) (?:left|remaining)\b"
    r"|\b(?:this is )?your (?:last|final) free (?:article|story)\b",
    re.IGNORECASE,
)


def _is_churn(block: Block) -> bool:
    """Publisher furniture: ad labels, share counts, "Read more:" links, prompts, credits."""
    text = block.text
    if _BOILERPLATE.match(text):
        return True
    if len(text) <= _LINK_ONLY_MAX and block.link_share >= _LINK_ONLY:
        return not (_SENTENCE.search(text) or _LIST_ENTRY.match(text))
    if len(text) > _SHORT:
        return False
    if _PROMPT.match(text) or _CREDIT.search(text) or _METER.search(text) or is_paywall_prompt(text):
        return True
    if _LABEL.match(text) and (
        block.link_share > 0 or len(text) <= _LABELLED_HEADLINE_MAX or not _SENTENCE.search(text)
    ):
        return True
    if len(text) <= _TIMESTAMP_MAX and _TIMESTAMP.match(text):
        return True
    label = _LINK_LABEL.match(text)
    if label and block.link_share * len(text) >= _LINKED * len(label.group(1)):
        return True
    promo = block.link_share >= _PROMO_LINK_SHARE and bool(_PROMO_WORDS.search(text))
    return promo and len(text) <= _PROMO_MAX


def filter_churn(blocks: list[Block]) -> list[Block]:
    """Drop churn blocks, related-story boxes (a box heading, then its list or links) and
    everything from a reader-comments heading on."""
    kept: list[Block] = []
    in_box, box_group = False, None
    for block in blocks:
        if kept and _COMMENTS_START.match(block.text):
            break  # reader comments run to the end of what trafilatura kept
        if len(block.text) <= _HEADING_MAX and _BOX_HEADING.match(block.text):
            in_box, box_group = True, None
            continue
        if in_box and block.group is not None and box_group in (None, block.group):
            box_group = block.group
            continue
        if in_box and box_group is None and block.link_share >= _LINKED:
            continue
        in_box = False
        if not _is_churn(block):
            kept.append(block)
    return kept


def drop_lead_repeats(paragraphs: list[str], headline: str, authors: list[str]) -> list[str]:
    """Remove the headline and the byline when the body repeats them at its top."""
    headline_key = squash(headline)
    author_keys = {squash(name) for name in authors}
    while paragraphs:
        first = paragraphs[0]
        byline = len(first) <= _BYLINE_REPEAT_MAX and author_keys
        names = {squash(name) for name in author_names([first])} if byline else set()
        if squash(first) != headline_key and not (names and names <= author_keys):
            break
        paragraphs = paragraphs[1:]
    top = _HEADLINE_REPEAT_WINDOW  # a kicker or dek may stand above a repeated headline
    return [p for i, p in enumerate(paragraphs) if i >= top or squash(p) != headline_key]


_HEADLINE_REPEAT_WINDOW = 4
