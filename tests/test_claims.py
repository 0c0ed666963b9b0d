"""Sentence splitting, the cosmetic-equivalence key and claim features."""

from __future__ import annotations

import pytest

from archiver.article.claims import Features, features, normalize, number_value, split_sentences


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (
            "Mr. Smith flew to the U.S. on Jan. 5 with 3.5 tons of cargo. He left a day later.",
            ["Mr. Smith flew to the U.S. on Jan. 5 with 3.5 tons of cargo.", "He left a day later."],
        ),
        (
            "J. R. R. Tolkien wrote the book. It sold well.",
            ["J. R. R. Tolkien wrote the book.", "It sold well."],
        ),
        (
            "“It is over,” she said. “We lost.” Nobody answered.",
            ["“It is over,” she said.", "“We lost.”", "Nobody answered."],
        ),
        ("  ", []),
    ],
)
def test_split_sentences_survives_abbreviations_numbers_and_quotes(
    paragraph: str, expected: list[str]
) -> None:
    assert split_sentences(paragraph) == expected


def test_split_sentences_result_can_be_mutated_without_poisoning_the_cache() -> None:
    first = split_sentences("One thing happened. Then another.")
    first.append("junk")
    assert split_sentences("One thing happened. Then another.") == [
        "One thing happened.",
        "Then another.",
    ]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("He said “no” — twice…", 'He said "no" - twice...'),
        ("Putin’s letter", "Putin&#8217;s letter"),
        ("A\u00a0B  C\n D", "A B C D"),
        ("pages 3–5", "pages 3-5"),
        ("war—again", "war -- again"),
        ("« Non », dit-il", '"Non", dit-il'),
        ("ﬁnal", "final"),
        ("soft\u00adhyphen\u200b", "softhyphen"),
    ],
)
def test_normalize_erases_cosmetic_differences(a: str, b: str) -> None:
    assert normalize(a) == normalize(b)


def test_normalize_keeps_real_differences() -> None:
    assert normalize("He was not there.") != normalize("He was there.")
    assert normalize("3.5 million") != normalize("35 million")


@pytest.mark.parametrize(
    ("sentence", "numbers"),
    [
        ("The fine was $3.5 million, up 12% from 2019.", ("$3.5 million", "12%", "2019")),
        ("About 1,000 people came; 1000 left.", ("1000", "1000")),
        ("Three dozen people and a dozen cars.", ("three dozen", "a dozen")),
        ("Twenty-five died and 40 percent fled.", ("twenty-five", "40%")),
        ("The vote is on Jan. 5, 2025 and on 7 March.", ("jan 5, 2025", "7 march")),
        ("It may rain in May.", ()),
    ],
)
def test_numbers(sentence: str, numbers: tuple[str, ...]) -> None:
    assert features(sentence).numbers == numbers


@pytest.mark.parametrize(
    ("sentence", "quotes"),
    [
        ('He said "we will win" today.', ("we will win",)),
        ("He said “we will win” today.", ("we will win",)),
        ("He said ‘we will win’ today.", ("we will win",)),
        ("Il a dit « nous gagnerons » hier.", ("nous gagnerons",)),
        ("Er sagte „wir gewinnen“ heute.", ("wir gewinnen",)),
        ("Putin's aides and the players' union met.", ()),
        ('"We are done," she said.', ("We are done",)),
    ],
)
def test_quotes_in_every_style(sentence: str, quotes: tuple[str, ...]) -> None:
    assert features(sentence).quotes == quotes


def test_cues_attribution_hedges_negations() -> None:
    f = features("According to police, the suspect allegedly didn't flee and may never return.")
    assert f.attributions == ("according to",)
    assert f.hedges == ("allegedly", "may")
    assert f.negations == ("didn't", "never")
    assert features("The United States said it denied the claim.").attributions == ("said",)
    assert features("The United States said it denied the claim.").negations == ("denied",)


def test_entities_heuristic() -> None:
    f = features("Yesterday Vladimir Putin wrote to the Bank of England and Mr. Trump on Monday.")
    assert f.entities == ("Vladimir Putin", "Bank of England", "Trump")
    assert features("Russia denied it.").entities == ()  # a lone sentence-start word is ambiguous
    assert features("The Kremlin denied it.").entities == ("Kremlin",)
    assert features("It reached the U.S. in January.").entities == ("U.S.",)


@pytest.mark.parametrize(
    "sentence",
    [
        "Correction: An earlier version misstated the figure.",
        "Corrections: The name was misspelled.",
        "An earlier version of this article misstated the date.",
        "This article has been updated with comment from the ministry.",
        "Update: Police have since released the man.",
        "Updated: Jan. 5, 2025.",
        "Editor’s note: The headline was changed.",
        "Clarification: The company did not say that.",
    ],
)
def test_correction_notices(sentence: str) -> None:
    assert features(sentence).correction
    assert "correction" in features(sentence).flags()


@pytest.mark.parametrize(
    "sentence",
    ["The update was released on Monday.", "He demanded a correction from the paper."],
)
def test_not_correction_notices(sentence: str) -> None:
    assert not features(sentence).correction


def test_changed_compares_features_as_multisets() -> None:
    before = features("Officials said 3 people were hurt.")
    assert before.changed(features("Officials said 4 people were hurt.")) == ["number"]
    assert before.changed(features("Officials said 3 people were not hurt.")) == ["negation"]
    assert before.changed(features("Officials said 3 people were hurt.")) == []
    assert Features().flags() == []


def test_split_sentences_never_loses_text() -> None:
    odd = "»!—” ‘',4M,— { .??"  # pysbd drops the trailing "??" here
    assert "".join(split_sentences(odd)).replace(" ", "") == odd.replace(" ", "")


def test_plain_split_path_agrees_with_pysbd() -> None:
    """Paragraphs without abbreviations, quotes or odd punctuation skip pysbd: same result."""
    from archiver.article.claims import _NEEDS_PYSBD, _segmenter

    paragraphs = [
        "The council met on Monday. It voted to close the library. (The vote was close.) "
        "Residents were angry! Many left early.",
        "Officials in Berlin confirmed the plan. Critics disagree.",
        "Prices rose sharply. What happens next is unclear? Analysts are divided.",
    ]
    for paragraph in paragraphs:
        assert not _NEEDS_PYSBD.search(paragraph)
        expected = [s.strip() for s in _segmenter().segment(paragraph) if s.strip()]
        assert split_sentences(paragraph) == expected


def test_risky_paragraphs_go_to_pysbd() -> None:
    assert split_sentences("Mr. Smith went to Washington. He met Sen. Jones at 3 p.m. on Jan. 5.") == [
        "Mr. Smith went to Washington.",
        "He met Sen. Jones at 3 p.m. on Jan. 5.",
    ]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("fourteen", "14"),
        ("14", "14"),
        ("twenty-five", "25"),
        ("ninety-nine", "99"),
        ("a dozen", "12"),
        ("three dozen", "36"),
        ("one hundred", "100"),
        ("a hundred thousand", "100000"),
        ("$3.5 million", "$3500000"),
        ("$3.5m", "$3500000"),
        ("$3bn", "$3000000000"),
        ("forty%", "40%"),
        ("40%", "40%"),
        ("1000", "1000"),
        ("jan 5, 2025", "date 2025-1-5"),
        ("5 january 2025", "date 2025-1-5"),
        ("7 march", "date 3-7"),
        ("dozens", "dozens"),  # vague: no single value
        ("half", "half"),
        ("10:30", "10:30"),
    ],
)
def test_number_value(key: str, value: str) -> None:
    assert number_value(key) == value


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The council voted 7-2.", "The council voted seven to two."),
        ("The council voted 7 to 2.", "The council voted seven to two."),
        ("The boy, 14, was hurt.", "The boy, fourteen, was hurt."),
        ("It costs $3bn.", "It costs $3 billion."),
        ("A dozen people came.", "12 people came."),
        ("It opened on Jan. 5, 2025.", "It opened on 5 January 2025."),
        ("It may rain in May.", "It might rain in May."),
    ],
)
def test_numbers_compare_by_value(a: str, b: str) -> None:
    assert "number" not in features(a).changed(features(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Work will begin in April.", "Work will begin in May."),
        ("The vote is on Monday.", "The vote is on Tuesday."),
        ("The vote is in May 2025.", "The vote is in 2025."),
        ("The council voted 7-2.", "The council voted seven to three."),
    ],
)
def test_months_and_weekdays_are_date_claims(a: str, b: str) -> None:
    assert features(a).changed(features(b)) == ["number"]


def test_dates_are_compared_but_do_not_flag_a_sentence_alone() -> None:
    assert features("It may rain in May.").dates == ("may",)
    assert features("May I ask?").dates == ()  # a verb opening the sentence
    assert features("The vote is on Jan. 5 and on Monday.").dates == ("monday",)  # Jan. 5 is a number
    assert features("The letter came on Monday.").flags() == []


@pytest.mark.parametrize(
    ("text", "dates", "hedged"),
    [
        ("Geoengineering May Be Needed to Slow Warming", (), True),  # Title Case headline verb
        ("The vote will begin in May.", ("may",), False),
        ("Protesters March on Capitol", (), False),
        ("Talks resume in March and April.", ("march", "april"), False),
    ],
)
def test_may_and_march_are_months_only_where_dates_are_said(text: str, dates: tuple, hedged: bool) -> None:
    found = features(text)
    assert found.dates == dates and bool(found.hedges) is hedged


def test_model_numbers_and_alternatives_are_not_claims() -> None:
    """ "F-16" and "COVID-19" name things (a name's change is an entity change); "whether or not"
    and "may or may not" give the alternative, they deny nothing."""
    assert features("The air force bought 12 F-16 jets as COVID-19 cases rose.").numbers == ("12",)
    assert features("It is unclear whether or not he will stand.").negations == ()
    assert features("The flag may or may not have inspired it.").negations == ()
    assert features("He did not say whether he would stand.").negations == ("not",)
