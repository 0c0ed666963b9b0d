"""Pages that stand in front of the article: paywall prompts, consent, 404 and bot-check
pages."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lxml.html import HtmlElement

from archiver.article.html import BLOCK_TAGS, clean

_NO_ARTICLE_TITLE = re.compile(
    r"^\W*(?:error\W*)?404\b|page not found|not found\W*$|we value your privacy|before you continue"
    r"|cookies?\b|consent|access denied|are you a (?:robot|human)|just a moment|attention required"
    r"|checking (?:your|the) browser|security check|one more step|pardon our interruption"
    r"|project shield|ddos|captcha|verif(?:y|ying|ication)\b.{0,20}\b(?:human|browser|robot)",
    re.I,
)
# (wall, what its text says), most telling first: the first kind with a hit names the page. A
# bot check asks for cookies and JavaScript too, so its own phrases come before consent's.
_NO_ARTICLE_KINDS = (
    (
        "blocked",
        r"checking (?:if the site connection is secure|(?:your|the) browser)"
        r"|verif(?:y|ying) (?:that )?you(?: are|'re) (?:a )?(?:human|not a (?:robot|bot))"
        r"|are you a (?:robot|human)|captcha|ddos(?:[- ]guard| protection)|project shield"
        r"|security of your connection|ray id|incident id|press (?:&|and) hold"
        r"|unusual (?:traffic|activity)|pardon our interruption|automated (?:access|requests?)",
    ),
    ("consent", r"cookies?|consent|privacy (?:settings|preferences)|accept all"),
    (
        "not_found",
        r"404|page not found|(?:cannot|can't|could ?not|couldn't) be found"
        r"|no longer (?:available|exists)|does(?:n't| not) exist",
    ),
    ("blocked", r"enable javascript|javascript is (?:disabled|required)|access denied"),
    ("paywall", r"subscribe to (?:continue|read)"),
)
_NO_ARTICLE_TEXT = re.compile(
    r"\b(?:" + "|".join(f"(?P<k{n}>{pattern})" for n, (_, pattern) in enumerate(_NO_ARTICLE_KINDS)) + r")\b",
    re.I,
)
NO_ARTICLE_MAX_CHARS = 1500


def no_article(paragraphs: list[str], headline: str) -> str | None:
    """The kind of a short page about cookies, 404s or robots rather than news ("consent",
    "not_found", "blocked", "paywall"): its title says so and its text agrees, or its text hits
    three distinct such phrases. None for a page that may be an article."""
    text = " ".join(paragraphs)
    if len(text) > NO_ARTICLE_MAX_CHARS:
        return None
    matches = list(_NO_ARTICLE_TEXT.finditer(text))
    hits = {match.group().casefold() for match in matches}
    if not (len(hits) >= 3 or (hits and _NO_ARTICLE_TITLE.search(headline))):
        return None
    found = {int(name[1:]) for match in matches for name, value in match.groupdict().items() if value}
    return _NO_ARTICLE_KINDS[min(found)][0]


# paywall ------------------------------------------------------------------------

# What a paywall says where the article stops (lower case). Each phrase opens a short line of
# its own (or a sentence in one): "Subscribe to continue reading", "Already a subscriber? Log in".
# Not here: prompts full articles carry too (NYT's "Continue reading the main story" skip links,
# "You have 3 free articles remaining", "Exklusiv für Abonnenten" badges, newsletter sign-ups).
_PAYWALL_PHRASES = (
    # English
    r"subscribe (?:now |today )?(?:to|and) (?:continue|keep) reading"
    r"|subscribe (?:now |today )?to (?:read|unlock|access)\b(?! more)"
    r"|(?:sign|log) ?in (?:now )?to (?:read|continue|keep reading)"
    r"|(?:register|create (?:a |an |your )?(?:free )?account|sign up)(?: for free| now| today)?"
    r" to (?:continue|keep) reading"
    r"|to (?:continue|keep) reading(?: this (?:article|story))?\s*[,:]"
    r"|continue reading (?:your article |this article |this story )?with (?:a|an|your)\b"
    r"|to read the (?:full|whole|entire) (?:story|article)|to read the rest of (?:this|the) (?:story|article)"
    r"|(?:this|the rest of this) (?:article|story|content|post) is (?:only )?(?:available )?"
    r"(?:exclusively )?(?:for|to|reserved for) (?:paying |our )?(?:subscribers|members)"
    r"|(?:this is )?an? (?:subscriber|member|premium)s?[- ]only (?:article|story|content)"
    r"|already (?:a |an )?(?:subscriber|member)\s*\?"
    r"|you(?:'ve| have) (?:reached|used up|hit) (?:your|the)\b.{0,30}?\b(?:limit|free (?:articles|stories))"
    # German
    r"|(?:jetzt )?weiterlesen mit\b|(?:jetzt )?(?:abonnieren|abo abschließen|testen) und weiterlesen"
    r"|(?:dieser|der) (?:artikel|beitrag|inhalt) ist (?:nur |exklusiv )?für \S*abonnent"
    r"|(?:(?:sie|du) (?:haben|sind|hast|bist) )?(?:schon|bereits) (?:ein |einen )?\S*abo"
    r"(?:nnent(?:in)?|nnement)?\s*\?|wählen sie ihren zugang"
    r"|um (?:den|diesen) (?:ganzen |vollständigen )?(?:artikel|beitrag) (?:weiter |vollständig )?zu lesen"
    # French, Spanish, Portuguese, Italian, Dutch
    r"|(?:cet article|la suite|ce contenu|l'article) est réservée? aux abonnés"
    r"|il vous reste \d+ ?% de cet article à lire|pour lire la suite|déjà abonné\s*\?"
    r"|(?:este|el|esta) (?:artículo|contenido|noticia) es (?:exclusiv[oa] )?para (?:suscriptores|socios)"
    r"|suscríbete para (?:seguir|continuar) leyendo|para (?:seguir|continuar) leyendo"
    r"|ya eres (?:suscriptor|socio)\s*\?"
    r"|assine para (?:continuar|ler)|(?:este|esse) conteúdo é exclusivo para assinantes"
    r"|já é assinante\s*\?|para continuar lendo"
    r"|per continuare a leggere|sei già abbonato\s*\?|(?:contenuto|articolo) riservato agli abbonati"
    r"|(?:dit artikel|deze inhoud) is (?:alleen |exclusief )?voor abonnees|al abonnee\s*\?"
)
# Every phrase above contains one of these (lower case): text with none is not checked further.
_PAYWALL_WORDS = (
    "continue reading",
    "keep reading",
    "to read",
    "to unlock",
    "to access",
    "to continue",
    "subscriber",
    "for members",
    "to members",
    "members only",
    "members-only",
    "member-only",
    "member only",
    "premium-only",
    "premium only",
    "already a",
    "ve reached",
    "have reached",
    "ve used up",
    "have used up",
    "ve hit",
    "have hit",
    "weiterlesen",
    "abonnent",
    "schon ",
    "bereits ",
    "zu lesen",
    "à lire",
    "la suite",
    "abonné",
    "suscri",
    "socio",
    "leyendo",
    "assine",
    "assinante",
    "lendo",
    "leggere",
    "abbonat",
    "abonnee",
)
_PAYWALL_KEYWORD = re.compile("|".join(map(re.escape, _PAYWALL_WORDS)))  # literals: fast in re
_PAYWALL_WINDOW = 150  # characters either side of a keyword in which to look for a phrase
_PAYWALL_ANY = re.compile(_PAYWALL_PHRASES)  # for lower-case text: faster than re.I
_PAYWALL_START = re.compile(rf"^\W{{0,3}}(?:{_PAYWALL_PHRASES})", re.I)
_PAYWALL_LINE = re.compile(rf"(?:^|(?<=[.!?…])\s+)\W{{0,3}}(?:{_PAYWALL_PHRASES})", re.I)
_PAYWALL_LINE_MAX = 300  # a longer line is prose that may quote a paywall, not the wall itself
# Not looked at: scripts and styles (pruned already but for JSON-LD), site navigation and footers.
_NOT_SHOWN = frozenset(("script", "template", "noscript", "nav", "footer", "menu", "select"))


def is_paywall_prompt(text: str, *, anywhere: bool = False) -> bool:
    """A short text that opens with a paywall prompt (``anywhere``: or has a sentence that does)."""
    if len(text) > _PAYWALL_LINE_MAX:
        return False
    if not _PAYWALL_KEYWORD.search(text.lower()):
        return False
    return bool((_PAYWALL_LINE if anywhere else _PAYWALL_START).search(text))


def _paywall_phrase_in(text: str) -> bool:
    """Whether lower-case ``text`` has a paywall phrase anywhere (looked for near keywords only:
    one regex over a whole page would cost milliseconds)."""
    return any(
        _PAYWALL_ANY.search(text, max(0, hit.start() - _PAYWALL_WINDOW), hit.end() + _PAYWALL_WINDOW)
        for hit in _PAYWALL_KEYWORD.finditer(text)
    )


def has_paywall(tree: HtmlElement) -> bool:
    """Whether the page (scripts and styles pruned) shows a paywall prompt on a line of its own."""
    from lxml import etree

    if not _paywall_phrase_in(etree.tostring(tree, method="text", encoding="unicode").lower()):
        return False  # the common case, decided without walking the tree
    pieces: list[str] = []
    walker = etree.iterwalk(tree, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _NOT_SHOWN:
                walker.skip_subtree()
                pieces.append("\n")
                continue
            if tag in BLOCK_TAGS:
                pieces.append("\n")
            pieces.append(element.text or "")
        else:
            if tag in BLOCK_TAGS:
                pieces.append("\n")
            if element is not tree:
                pieces.append(element.tail or "")
    lines = "".join(pieces).split("\n")
    return any(
        is_paywall_prompt(clean(line), anywhere=True)
        for line in lines
        if line and len(line) < 4 * _PAYWALL_LINE_MAX  # cheap: long raw lines are prose
    )
