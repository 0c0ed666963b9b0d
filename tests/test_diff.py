"""Sentence alignment and edit classification on a realistic article."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.article.claims import split_sentences
from archiver.article.extract import Article
from archiver.diff.classify import severity
from archiver.diff.differ import diff_articles, holds_article
from archiver.diff.model import SEVERITIES, ArticleDiff, Change, word_diff

SEED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "seed-article.txt"
FALLBACK_HEADLINE = "Putin Sends New Year’s Letter to Donald Trump – Here’s What It Said"
FALLBACK_BODY = [
    "Despite the fact that Kremlin-connected operatives sought to help Donald Trump win the 2016"
    " election, things have not exactly been rosy between the United States and Russia,"
    " especially over the last several months.",
    "Whether it’s the sparking of what appears to be a new arms race, or other military tensions,"
    " both Russia and the United States seem to be further apart on many crucial issues than"
    " they have ever been during the Trump presidency. This, however, did not stop Vladimir"
    " Putin from sending a warm greeting to President Trump this holiday season.",
    "While the United States has not issued any information regarding the letter that Mr. Putin"
    " sent the president, the Kremlin was happy to do just that.",
    "According to the Kremlin, the letter stated that Moscow was ready for discussions regarding"
    " a number of issues. The Kremlin said that “Putin stressed that relations are the most"
    " important factor for providing strategic stability and international security,” and that"
    " “he confirmed that Russia is open for dialogue with the USA on the most wide-ranging"
    " agenda.”",
    "In addition to the warm letter sent to Mr. Trump this holiday season, Putin also sent"
    " letters to the leaders of China, Japan, Syria and Britain.",
    "There is little doubt that Russia has been one of the biggest instigators on the planet over"
    " the last two years, allegedly interfering in both the Brexit vote as well as the 2016"
    " presidential election. Russia, however, continues to deny their involvement in both"
    " matters, and instead acts as if they want friendly relations with those whom they have"
    " attacked in the past.",
    "There has been no word from the White House on whether President Trump wrote his own letter"
    " to Mr. Putin prior to or in response to this recent letter.",
]
REMOVED = (
    " This, however, did not stop Vladimir Putin from sending a warm greeting to President Trump"
    " this holiday season."
)
MOVED_SENTENCE = (
    " Russia, however, continues to deny their involvement in both matters, and instead acts as"
    " if they want friendly relations with those whom they have attacked in the past."
)


def seed_article() -> Article:
    """The shared seed article (body paragraphs only), or an inline copy of it."""
    if not SEED.exists():
        return Article(headline=FALLBACK_HEADLINE, authors=["Staff"], paragraphs=FALLBACK_BODY)
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    headline = lines[1]
    body = lines[lines.index(headline, 2) + 1 :]
    paragraphs = [line for line in body if len(line) > 60 and not line.startswith("©")]
    return Article(headline=headline, authors=["Staff"], paragraphs=paragraphs)


BASE = seed_article()


def edited(old: str, new: str, article: Article = BASE) -> Article:
    """The article with one substring replaced (which must occur exactly once)."""
    text = "\n".join(article.paragraphs)
    assert text.count(old) == 1, old
    return replace(article, paragraphs=text.replace(old, new).split("\n"))


def only_change(diff: ArticleDiff) -> Change:
    assert len(diff.changes) == 1, [(c.kind, c.before, c.after) for c in diff.changes]
    return diff.changes[0]


def test_seed_material_is_the_expected_article() -> None:
    assert len(BASE.paragraphs) == 7
    assert sum(len(split_sentences(p)) for p in BASE.paragraphs) == 10


def test_cosmetic_only_differences_are_not_edits() -> None:
    cosmetic = replace(
        BASE,
        headline=BASE.headline.replace("’", "'").replace(" – ", " &mdash; "),
        modified="2030-01-01T00:00:00Z",  # a modified-date bump alone is not an edit
        paragraphs=[
            p.replace("“", '"')
            .replace("”", '"')
            .replace("’", "&#8217;")
            .replace("Mr. ", "Mr.\u00a0")
            .replace(", ", ",  ")
            .replace("wide-ranging", "wide\u2011ranging")
            for p in BASE.paragraphs
        ],
    )
    # a paragraph split at a sentence boundary is layout, not an edit
    first, second = split_sentences(cosmetic.paragraphs[5])
    cosmetic.paragraphs[5:6] = [first, second]
    diff = diff_articles(BASE, cosmetic)
    assert diff.changes == []
    assert not diff.headline.changed
    assert not diff.has_edits
    assert diff.summary == {"added": 0, "removed": 0, "modified": 0, "moved": 0}
    assert diff.modified is not None


@pytest.mark.parametrize(
    ("old", "new", "flag", "rank"),
    [
        ("win the 2016 election", "win the 2020 election", "number", "high"),
        ("over the last two years", "over the last three years", "number", "high"),
        ("Russia is open for dialogue", "Russia is ready for dialogue", "quote", "high"),
        ("the Kremlin was happy", "the Kremlin was reportedly happy", "hedge", "medium"),
        ("Moscow was ready", "Moscow was not ready", "negation", "high"),
        ("The Kremlin said that", "The Kremlin claimed that", "attribution", "medium"),
        ("China, Japan, Syria and Britain", "China, Japan, Iran and Britain", "entity", "high"),
        ("the biggest instigators", "the most active instigators", None, "low"),
    ],
)
def test_single_rewording_is_one_modified_change_with_the_right_flag(
    old: str, new: str, flag: str | None, rank: str
) -> None:
    diff = diff_articles(BASE, edited(old, new))
    change = only_change(diff)
    assert change.kind == "modified"
    assert list(change.flags) == ([flag] if flag else [])
    assert change.severity == rank
    assert old in change.before and new in change.after
    assert any(op == "insert" for op, _ in change.words)
    assert diff.has_edits and not diff.headline.changed


def test_headline_reworded() -> None:
    diff = diff_articles(BASE, replace(BASE, headline="Putin Sends Letter to Trump"))
    assert diff.headline.changed
    assert ("delete", "New Year’s") in diff.headline.words
    assert diff.changes == [] and diff.has_edits


def test_sentence_added() -> None:
    sentence = "The letter was delivered by courier on Monday."
    diff = diff_articles(BASE, edited("happy to do just that.", f"happy to do just that. {sentence}"))
    change = only_change(diff)
    assert (change.kind, change.before, change.after) == ("added", None, sentence)
    # issue 9: an added claim with no flag is "medium" (it was "low" before the meaning check)
    assert change.flags == () and change.severity == "medium"
    assert (change.meaning, change.why) == ("changed", ("claim added",))
    assert change.words == (("insert", sentence),)
    assert diff.summary == {"added": 1, "removed": 0, "modified": 0, "moved": 0}


def test_sentence_removed_carries_its_features() -> None:
    diff = diff_articles(BASE, edited(REMOVED, ""))
    change = only_change(diff)
    assert (change.kind, change.before, change.after) == ("removed", REMOVED.strip(), None)
    assert set(change.flags) == {"negation", "entity"}
    assert change.severity == "medium"  # a claim withdrawn, not changed


def test_paragraph_moved_is_one_paragraph_level_change() -> None:
    moved = BASE.paragraphs[1]
    after = replace(BASE, paragraphs=[BASE.paragraphs[0], *BASE.paragraphs[2:], moved])
    change = only_change(diff_articles(BASE, after))
    assert (change.kind, change.level) == ("moved", "paragraph")
    assert change.before == change.after == moved
    assert (change.before_span.paragraph, change.after_span.paragraph) == (1, 6)
    assert change.severity == "low" and change.flags == ()


def test_sentence_moved_is_one_change() -> None:
    after = edited(MOVED_SENTENCE, "")
    after.paragraphs[0] += MOVED_SENTENCE
    change = only_change(diff_articles(BASE, after))
    assert (change.kind, change.level) == ("moved", "sentence")
    assert change.before == change.after == MOVED_SENTENCE.strip()
    assert (change.before_span.paragraph, change.after_span.paragraph) == (5, 0)


def test_correction_appended() -> None:
    notice = "Correction: An earlier version of this article misstated the date of the letter."
    after = replace(BASE, paragraphs=[*BASE.paragraphs, notice])
    change = only_change(diff_articles(BASE, after))
    assert change.kind == "added" and change.after == notice
    assert change.flags == ("correction",)
    assert change.severity == "high"


def test_new_multi_sentence_paragraph_is_one_addition() -> None:
    paragraph = "A new paragraph begins here. It has a second sentence. And a third one about 5 men."
    after = replace(BASE, paragraphs=[*BASE.paragraphs[:3], paragraph, *BASE.paragraphs[3:]])
    change = only_change(diff_articles(BASE, after))
    assert (change.kind, change.level, change.after) == ("added", "paragraph", paragraph)
    assert "number" in change.flags


def test_unrelated_replacement_is_removal_plus_addition_not_a_rewording() -> None:
    after = edited(REMOVED, " The weather in Moscow was cold and grey throughout the holidays.")
    kinds = sorted(c.kind for c in diff_articles(BASE, after).changes)
    assert kinds == ["added", "removed"]


def test_body_missing_in_later_capture() -> None:
    diff = diff_articles(BASE, replace(BASE, paragraphs=[]))
    assert diff.body_missing
    assert diff.changes == []
    assert not diff_articles(BASE, BASE).body_missing


def test_byline_and_published_changes_are_edits_but_modified_bump_is_not() -> None:
    diff = diff_articles(BASE, replace(BASE, authors=["By Jane Doe"], published="2021-01-02"))
    assert diff.byline is not None and diff.byline.after == ["By Jane Doe"]
    assert diff.published is not None and diff.has_edits and diff.changes == []
    same = diff_articles(
        replace(BASE, authors=["Jane Doe"], published="2021-01-01T10:00:00Z"),
        replace(BASE, authors=["By Jane Doe"], published="2021-01-01T10:00:00+00:00"),
    )
    assert same.byline is None and same.published is None and not same.has_edits


def test_changes_are_sorted_by_severity_then_position() -> None:
    after = edited("the Kremlin was happy", "the Kremlin was reportedly happy")  # medium, ¶2
    after = edited("the biggest instigators", "the most active instigators", after)  # low, ¶5
    after = edited("win the 2016 election", "win the 2020 election", after)  # high, ¶0
    after = edited(REMOVED, "", after)  # medium, ¶1
    after = edited("Moscow was ready", "Moscow was not ready", after)  # high, ¶3
    diff = diff_articles(BASE, after)
    ranks = [SEVERITIES.index(c.severity) for c in diff.changes]
    assert ranks == sorted(ranks)
    assert [c.flags for c in diff.changes] == [
        ("number",),
        ("negation",),
        ("negation", "entity"),
        ("hedge",),
        (),
    ]
    assert diff.summary == {"added": 0, "removed": 1, "modified": 4, "moved": 0}


def test_severity_rules() -> None:
    assert severity("modified", ["entity"]) == "high"
    assert severity("added", ["correction"]) == "high"
    assert severity("modified", ["hedge"]) == "medium"
    assert severity("removed", []) == "medium"
    assert severity("modified", []) == "low"
    assert severity("moved", []) == "low"


def test_word_diff_ignores_cosmetics() -> None:
    assert word_diff("He said “no” twice.", 'He said "no" three times.') == (
        ("equal", 'He said "no"'),
        ("delete", "twice."),
        ("insert", "three times."),
    )


def test_forty_sentence_articles_diff_in_a_few_milliseconds() -> None:
    big = replace(BASE, paragraphs=BASE.paragraphs * 4)  # 40 sentences
    after = edited("win the 2016 election", "win the 2020 election", replace(BASE))
    after = replace(after, paragraphs=after.paragraphs + BASE.paragraphs * 3)
    diff_articles(big, after)  # warm the sentence cache
    start = time.perf_counter()
    for _ in range(20):
        diff = diff_articles(big, after)
    assert (time.perf_counter() - start) / 20 < 0.02
    assert len(diff.changes) == 1


def test_long_paragraph_moved_past_short_ones_is_one_move() -> None:
    """Sentence counts tie (3 vs 3): the paragraph alignment must move the one paragraph."""
    long = "Long one starts here. Long two continues. Long three ends it."
    short = ["Short two is here.", "Short three is here.", "Short four is here."]
    before = Article(headline="H", paragraphs=["Zero opens.", long, *short, "Five closes."])
    after = Article(headline="H", paragraphs=["Zero opens.", *short, long, "Five closes."])
    changes = diff_articles(before, after).changes
    assert [(c.kind, c.level, c.after) for c in changes] == [("moved", "paragraph", long)]


# --- captures without an article body --------------------------------------------------

TEASER = replace(  # a paywall at the article's URL: headline, first sentence, no byline or date
    BASE,
    authors=[],
    published="2030-01-01",
    paragraphs=split_sentences(BASE.paragraphs[0])[:1],
    wall="paywall",
)


def test_paywall_teaser_is_body_missing_not_mass_removal() -> None:
    diff = diff_articles(replace(BASE, published="2019-01-01"), TEASER)
    assert diff.body_missing and diff.wall == "paywall"
    assert diff.changes == [] and not diff.has_edits
    assert not diff.headline.changed and diff.byline is None and diff.published is None


def test_later_wall_page_headline_byline_and_date_are_not_compared() -> None:
    wall = Article(headline="Before you continue to Daily Planet", published="2030-01-01", wall="consent")
    diff = diff_articles(BASE, wall)
    assert diff.body_missing and diff.wall == "consent"
    assert not diff.headline.changed and diff.byline is None and diff.published is None
    assert not diff.has_edits
    assert diff_articles(BASE, Article()).body_missing  # an empty page, no wall named


def test_body_back_after_a_wall_is_not_an_edit() -> None:
    for earlier in (TEASER, Article(headline="Before you continue", wall="consent")):
        diff = diff_articles(earlier, BASE)
        assert diff.body_restored and not diff.body_missing and not diff.has_edits
        assert diff.changes == [] and not diff.headline.changed and diff.byline is None
        assert diff.wall == earlier.wall


def test_paywalled_site_with_the_full_text_is_compared_as_usual() -> None:
    """A page with a paywall prompt that still carries the article (or both captures teasers)
    is diffed normally: only a teaser much shorter than the other capture is "body missing"."""
    walled = replace(BASE, wall="paywall")
    later = edited("win the 2016 election", "win the 2020 election", walled)
    change = only_change(diff_articles(walled, later))
    assert change.flags == ("number",)
    assert diff_articles(BASE, walled).changes == []
    two_teasers = diff_articles(TEASER, replace(TEASER, headline="Putin writes to Trump"))
    assert two_teasers.headline.changed and not two_teasers.body_missing


def test_mass_removal_without_a_wall_is_reported_sentence_by_sentence() -> None:
    diff = diff_articles(BASE, replace(BASE, paragraphs=BASE.paragraphs[:1]))
    assert not diff.body_missing and diff.summary["removed"] >= 5


def test_both_walls_compare_nothing() -> None:
    consent = Article(headline="Before you continue", wall="consent")
    diff = diff_articles(consent, Article(headline="Page not found", wall="not_found"))
    assert diff.no_body and not diff.body_missing and not diff.body_restored
    assert not diff.has_edits and not diff.headline.changed
    # with nothing to measure it against, a paywalled page's text is taken for the article
    assert diff_articles(consent, TEASER).body_restored


# --- numbers by value, dates ------------------------------------------------------------

SCORE = Article(
    headline="Council approves bridge plan",
    paragraphs=[
        "The council voted 7-2 on Tuesday to approve the plan. The mayor, 14, abstained.",
        "Construction will begin in April and last a dozen months.",
    ],
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("voted 7-2", "voted seven to two"),
        ("voted 7-2", "voted 7 to 2"),
        ("The mayor, 14, abstained.", "The mayor, fourteen, abstained."),
        ("a dozen months", "12 months"),
    ],
)
def test_same_value_reworded_is_a_low_rewording(old: str, new: str) -> None:
    change = only_change(diff_articles(SCORE, edited(old, new, SCORE)))
    assert (change.kind, change.flags, change.severity) == ("modified", (), "low")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("begin in April", "begin in May"),
        ("on Tuesday", "on Wednesday"),
        ("voted 7-2", "voted seven to three"),
        ("a dozen months", "ten months"),
    ],
)
def test_date_or_value_change_is_a_high_number_change(old: str, new: str) -> None:
    change = only_change(diff_articles(SCORE, edited(old, new, SCORE)))
    assert (change.kind, change.flags, change.severity) == ("modified", ("number",), "high")


def test_holds_article_is_the_test_each_side_gets() -> None:
    assert holds_article(BASE) and holds_article(BASE, TEASER)
    assert not holds_article(Article(headline="Before you continue", wall="consent"))
    assert not holds_article(TEASER, BASE)
    assert holds_article(TEASER)  # nothing to measure it against
    assert holds_article(replace(BASE, wall="paywall"), BASE)  # the full text behind a prompt


# --- splits, merges, removals, datelines (issue 9) ---------------------------------------

STORM = Article(
    headline="Storm hits the coast",
    paragraphs=[
        "The storm reached the coast on Monday night. Power lines fell across the county; 4,000"
        " homes lost power. Crews worked through the night.",
        "The police said. The police said the man was arrested at his home in the north of the"
        " city on Sunday.",
        "Officials expect the repairs to take a week.",
    ],
)


def storm_edited(old: str, new: str) -> Article:
    assert any(old in p for p in STORM.paragraphs)
    return replace(STORM, paragraphs=[p.replace(old, new) for p in STORM.paragraphs])


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("county; 4,000", "county. 4,000", "sentence split"),
        ("night. Power", "night, and power", "sentences merged"),
    ],
)
def test_punctuation_split_or_merge_is_one_low_change(old: str, new: str, why: str) -> None:
    change = only_change(diff_articles(STORM, storm_edited(old, new)))
    assert change.kind == "modified" and change.severity == "low" and change.meaning == "unchanged"
    assert why in change.why and change.flags == ()
    assert old in change.before and new in change.after
    spans = (change.before_span.sentences, change.after_span.sentences)
    assert sorted(map(len, spans)) == [1, 2]  # one sentence on one side, two on the other


def test_removed_sentence_is_not_paired_with_a_dissimilar_neighbour() -> None:
    """A short sentence whose words a reworded neighbour contains is still removed: the
    neighbour is the one that was reworded."""
    after = storm_edited(
        "The police said. The police said the man was arrested at his home in the north of the city on"
        " Sunday.",
        "The police said on Tuesday that the man was arrested at a relative's house after a long search.",
    )
    diff = diff_articles(STORM, after)
    kinds = {c.kind: c for c in diff.changes}
    assert sorted(kinds) == ["modified", "removed"]
    assert kinds["removed"].before == "The police said."
    assert kinds["modified"].before.startswith("The police said the man")


def test_dateline_swap_is_a_date_change_not_a_text_edit() -> None:
    stamped = replace(
        STORM, paragraphs=["Published 3 June 2024, 10:00 BST. Updated 4 June 2024.", *STORM.paragraphs]
    )
    swapped = replace(
        stamped, paragraphs=["Published 4 June 2024. Updated 3 June 2024, 10:00 BST.", *STORM.paragraphs]
    )
    diff = diff_articles(stamped, swapped)
    assert diff.changes == [] and not diff.has_edits
    assert diff.modified is not None and "Published 4 June 2024." in diff.modified.after
    reordered = replace(
        stamped, paragraphs=["Updated 4 June 2024. Published 3 June 2024, 10:00 BST.", *STORM.paragraphs]
    )
    assert diff_articles(stamped, reordered).changes == []
    # a sentence that says more than when is text, even with a date in it
    real = diff_articles(stamped, storm_edited("on Monday night", "on Tuesday night"))
    assert [c.flags for c in real.changes if c.kind == "modified"] == [("number",)]
