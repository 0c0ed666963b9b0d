"""Which edits changed a claim (issue 9): meaning, why and the severity that follows, on the
kinds of edit real news revisions make."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.article.extract import Article
from archiver.diff.differ import diff_articles
from archiver.diff.meaning import rewording
from archiver.diff.model import Change

ROOT = Path(__file__).resolve().parents[1]
REVISIONS = ROOT.parent / "shared" / "revisions" / "iterater-human-wiki-arxiv.jsonl"
OTHER = "Officials expect the repairs to take a week."


def change_for(old: str, new: str) -> Change:
    """The one change diff_articles reports when one sentence of an article is edited."""
    before = Article(headline="Election night", paragraphs=[old, OTHER])
    after = Article(headline="Election night", paragraphs=[new, OTHER])
    changes = diff_articles(before, after).changes
    assert len(changes) == 1, changes
    return changes[0]


HIGH, MEDIUM, LOW = "high", "medium", "low"


@pytest.mark.parametrize(
    ("old", "new", "severity", "why"),
    [
        # a claim changed: high
        ("He received 24 votes, behind Simon Black.", "He received 24 votes, ahead of Simon Black.", HIGH,
         "reversal: behind → ahead of"),
        ("Another soldier was critically injured in the attack.",
         "The soldier driving the truck was critically injured in the attack.", HIGH,
         "subject changed: another soldier → the soldier driving the truck"),
        ("The company reported 25 deaths.", "The company reported 20 deaths.", HIGH, "number 25 → 20"),
        ("The mayor said he would resign.", "The mayor said he would not resign.", HIGH,
         "negation added: not"),
        ("The mayor said he would resign.",
         "The mayor said he would not resign, according to a statement released on Friday.", HIGH,
         "negation added: not"),
        ("Police arrested Smith on Friday.", "Police arrested Jones on Friday.", HIGH,
         "entity swapped: Smith → Jones"),
        ("Sales rose 5% last year.", "Sales fell 5% last year.", HIGH, "reversal: rose → fell"),
        ('"We will win," she said.', '"We will prevail," she said.', HIGH, "quote's words changed"),
        ("Two people were killed in the crash.", "Two people were injured in the crash.", HIGH,
         "event changed: killed → injured"),
        ("Smith said the plan would fail.", "Jones said the plan would fail.", HIGH,
         "subject changed: smith → jones"),
        ("NATO is sending more troops.", "OSCE is sending more troops.", HIGH, "entity swapped: NATO → OSCE"),
        # an antonym reverses the claim: listed, or the word with a negating prefix
        ("The figures are worrying, officials said.", "The figures are encouraging, officials said.", HIGH,
         "reversal: worrying → encouraging"),
        ("He was a popular mayor.", "He was an unpopular mayor.", HIGH, "antonym: popular → unpopular"),
        ("The count was correct.", "The count was incorrect.", HIGH, "reversal: correct → incorrect"),
        ("The budget is £25 billion.", "The budget is £26 billion.", HIGH,
         "number £25 billion → £26 billion"),
        ("The fund holds €40m.", "The fund holds forty million dollars.", HIGH, "number €40m →"),
        # a hedge, the scope of a claim, content added: medium
        ("The man was killed by police.", "The man was reportedly killed by police.", MEDIUM, "hedge added"),
        ("The country dropped off the net on Friday.",
         "The country disconnected from most of the internet on Friday.", MEDIUM, "scope: most added"),
        ("The bridge will close for repairs.",
         "The bridge will close for repairs, leaving commuters to find other routes into town.", MEDIUM,
         "reworded: repairs. → repairs, leaving"),
        # a figure or a date put in (or taken out) with none replaced: a detail added
        ("The rally is planned for today.", "The rally is planned for Saturday.", MEDIUM,
         "number added: saturday"),
        ("Sales rose last year.", "Sales rose 5% last year.", MEDIUM, "number added: 5%"),
        ("Police said 30 people were arrested.", "Police said people were arrested.", MEDIUM,
         "number removed: 30"),
        # a denial said in words of its own is a claim added, not the old one turned
        ("The bridge reopened on Monday.",
         "The bridge reopened on Monday, though engineers have not yet finished their checks.", MEDIUM,
         "clause with negation added: not"),
        # the wording only: low, and no flag
        ("The UK will send troops.", "The U.K. will send troops.", LOW, "punctuation"),
        ("He works for the State in Ohio.", "He works for the state in Ohio.", LOW, "case"),
        ("The FCC approved the merger.", "The Federal Communications Commission approved the merger.", LOW,
         "abbreviation expanded"),
        ("The so-called experts disagreed.", 'The so-called "experts" disagreed.', LOW, "punctuation"),
        ("The minister officialy resigned.", "The minister officially resigned.", LOW, "spelling"),
        ("Vucic met the envoy.", "Vučić met the envoy.", LOW, "accents"),
        ("After a hiatus, Aniston returned to film.", "Following a hiatus, Aniston returned to film.", LOW,
         "word choice"),
        ("The ionization density rose.", "The ionisation density rose.", LOW, "spelling"),
        ("Talks on the colour of the flag went on.", "Talks on the color of the flag went on.", LOW,
         "spelling"),
        # an amount written another way: by value, with its scale and its currency
        ("The budget is £25 billion.", "The budget is twenty-five billion pounds.", LOW,
         "same number, other form"),
        ("Between 20 and 30 million people voted.", "Between 20 million and 30 million people voted.", LOW,
         "same number, other form"),
        ("Prices rose 5-10% this year.", "Prices rose 5% to 10% this year.", LOW, "same number, other form"),
        ("The ministry informed the club.", "The ministry notified the club.", LOW, "word choice"),
        ("The council voted 7-2 to approve it.", "The council voted seven to two to approve it.", LOW,
         "same number, other form"),
    ],
)  # fmt: skip
def test_severity_follows_from_what_the_edit_did(old: str, new: str, severity: str, why: str) -> None:
    change = change_for(old, new)
    assert (change.kind, change.severity) == ("modified", severity)
    assert change.meaning == ("unchanged" if severity == LOW else "changed")
    assert any(w.startswith(why) for w in change.why), change.why
    if severity == LOW:
        assert change.flags == ()


def test_a_quote_keeps_its_flag_when_only_a_small_word_goes() -> None:
    change = change_for(
        '"It does not fit well with the world," he said.', '"It does not fit with the world," he said.'
    )
    assert change.flags == ("quote",) and change.severity == "high"


def test_withdrawn_or_added_claim_is_medium_and_lists_its_hard_facts() -> None:
    """A sentence cut or put in is a claim withdrawn or made, not one changed: medium, with its
    figures, quotes and denials listed; a correction notice is high."""
    article = Article(headline="Storm", paragraphs=["Crews worked through the night in Ohio.", OTHER])
    plain = diff_articles(article, Article(headline="Storm", paragraphs=[OTHER])).changes[0]
    assert (plain.kind, plain.severity, plain.flags) == ("removed", "medium", ("entity",))
    assert plain.why[0] == "claim withdrawn"
    numbered = Article(headline="Storm", paragraphs=["Crews restored power to 4,000 homes.", OTHER])
    hard = diff_articles(numbered, Article(headline="Storm", paragraphs=[OTHER])).changes[0]
    assert (hard.severity, hard.meaning, hard.flags) == ("medium", "changed", ("number",))
    assert "number: 4000" in hard.why
    quoted = Article(headline="Storm", paragraphs=[OTHER, '"We will not leave," the mayor said.'])
    added = diff_articles(Article(headline="Storm", paragraphs=[OTHER]), quoted).changes[0]
    assert (added.kind, added.severity) == ("added", "medium")
    assert {"claim added", "quote: We will not leave", "negation: not"} <= set(added.why)
    notice = "Correction: An earlier version of this story misstated the number of homes."
    corrected = diff_articles(article, Article(headline="Storm", paragraphs=[*article.paragraphs, notice]))
    assert (corrected.changes[0].kind, corrected.changes[0].severity) == ("added", "high")


def test_headline_meaning_and_why() -> None:
    before = Article(headline="Mayor will resign", paragraphs=[OTHER])
    polished = diff_articles(before, Article(headline="Mayor Will Resign", paragraphs=[OTHER]))
    assert polished.headline.changed and polished.headline.severity == "low"
    assert (polished.headline.meaning, polished.headline.why) == ("unchanged", ("case",))
    reversed_ = diff_articles(before, Article(headline="Mayor will not resign", paragraphs=[OTHER]))
    assert (reversed_.headline.severity, reversed_.headline.meaning) == ("high", "changed")
    assert "negation added: not" in reversed_.headline.why


@pytest.mark.skipif(not REVISIONS.is_file(), reason=f"IteraTeR revisions not found at {REVISIONS}")
def test_meaning_eval_runs_on_the_labelled_revisions(tmp_path: Path) -> None:
    """The benchmark runs end to end on the real revisions (test split) and keeps recall, the
    goal the rules are built for, at 90 % or more; its other figures are printed, not gated
    (IteraTeR's labels are Wikipedia's and arXiv's, not news')."""
    out = tmp_path / "figures.json"
    subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "meaning_eval.py"), "--split", "test", "--json", str(out)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert {"all", "wiki", "arxiv"} <= figures.keys()
    assert figures["all"]["meaning"] > 0 and figures["all"]["style"] > 0
    assert figures["all"]["recall"] >= 90.0


# --- mechanisms that over-promoted to high, and what still earns it ------------------------


@pytest.mark.parametrize(
    ("old", "new", "severity", "why"),
    [
        # a place and its people or adjective are one name; a name put in another's place is not
        ("The deal was signed by Spain and Portugal.", "The deal was signed by the Spanish and Portugal.",
         MEDIUM, "name spelling: Spain → Spanish"),
        ("Talks with Iran stalled on Monday.", "Talks with Iran's neighbour Iraq stalled on Monday.",
         MEDIUM, "entity added: Iraq"),
        # names that come and go across a sentence rewritten all through: not one for another
        ("The plan was backed by Labour, whose leader Keir Starmer spoke in Leeds on Tuesday.",
         "The plan was backed on Tuesday by the opposition, whose leader spoke to the Treasury.", MEDIUM,
         "entities changed"),
        # another actor doing the same thing: high; another noun for one thing: not
        ("Police arrested the man outside the station.", "Soldiers arrested the man outside the station.",
         HIGH, "subject changed: police → soldiers"),
        ("The new rules were announced on Monday by the ministry.",
         "The new measures were announced on Monday by the ministry.", MEDIUM,
         "subject reworded: the new rules → the new measures"),
        # a conversion, a year or a citation put in brackets is an aside; a number outside is not
        ("The storm moved 30 miles inland overnight.", "The storm moved 30 miles (48km) inland overnight.",
         MEDIUM, "aside added: 48"),
        ("Her debut film won three awards.", "Her debut film (2019) won three awards.", MEDIUM,
         "aside added: 2019"),
        ("Her debut film (2018) won three awards.", "Her debut film (2019) won three awards.", HIGH,
         "number 2018 → 2019"),
        # one denial put for another still denies; "whether or not" denies nothing
        ("He has not been charged with any offence.", "He has never been charged with any offence.", MEDIUM,
         "other negation: not → never"),
        ("It is unclear whether or not the mayor will stand again.",
         "It is unclear whether the mayor will stand again.", MEDIUM, "words removed: or not"),
        # a term or scare quotes put in: medium; a short quotation of somebody's words: high
        ("He called the proposal flawed.", 'He called the proposal "deeply flawed" and unworkable.', MEDIUM,
         "quoted term added: deeply flawed"),
        ("She told reporters that they would win the vote.", 'She told reporters: "We will win the vote."',
         HIGH, "quote's words changed"),
        ("Troops from Iran crossed the border.", "Troops from Iraq crossed the border.", HIGH,
         "entity swapped: Iran → Iraq"),
        # names two letters apart, or one inside another's word, are two places
        ("Aid flights from Austria landed.", "Aid flights from Australia landed.", HIGH,
         "entity swapped: Austria → Australia"),
        ("Talks with Slovakia resumed.", "Talks with Slovenia resumed.", HIGH,
         "entity swapped: Slovakia → Slovenia"),
        ("Aid reached Niger on Monday.", "Aid reached Nigeria on Monday.", HIGH,
         "entity swapped: Niger → Nigeria"),
        ("Ships were sent by Germany.", "Ships were sent by the German navy.", MEDIUM,
         "name spelling: Germany → German"),
    ],
)  # fmt: skip
def test_weak_evidence_is_medium_strong_stays_high(old: str, new: str, severity: str, why: str) -> None:
    change = change_for(old, new)
    assert (change.kind, change.severity) == ("modified", severity), change.why
    assert any(w.startswith(why) for w in change.why), change.why


@pytest.mark.parametrize(
    ("old", "new", "severity", "why"),
    [
        # a place and its people or adjective, whole or in a longer name: one name
        ("Ships were sent by Great Britain and Germany.", "Ships were sent by the British and the Germans.",
         MEDIUM, "name spelling: Great Britain, Germany → British, Germans"),
        ("A memorial honours the seven British killed.", "A memorial honours the seven Britons killed.",
         MEDIUM, "name spelling: British → Britons"),
        # a people and a body of it, and the names news gives one country by turns
        ("A siege by the Pakistanis ended in 1948.", "A siege by the Pakistan Army ended in 1948.", MEDIUM,
         "name spelling: Pakistanis → Pakistan Army"),
        ("It was first found in the United States.", "It was first found in America.", MEDIUM,
         "name spelling: United States → America"),
        # a capitalised word in another inflection is that word
        ("The agency Googled the phrase.", "The agency began Googling the phrase.", MEDIUM,
         "name spelling: Googled → Googling"),
        # an abbreviation spelled out inside a compound
        ("The EU-backed talks resumed in Brussels.", "The European Union-backed talks resumed in Brussels.",
         LOW, "abbreviation expanded"),
        # a pronoun for the name it stands for, a quantifier alone: no other subject
        ("Aniston's first film was a hit.", "Her first film was a hit.", LOW, "word choice"),
        # the same acronym on both sides of a rewritten run is no name swapped
        ("Tests show NATO's readiness for the winter.", "Tests show that NATO is ready for the winter.",
         MEDIUM, "reworded"),
    ],
)  # fmt: skip
def test_same_name_in_another_form_is_not_a_swap(old: str, new: str, severity: str, why: str) -> None:
    change = change_for(old, new)
    assert (change.kind, change.severity) == ("modified", severity), change.why
    assert any(w.startswith(why) for w in change.why), change.why
    assert not any(w.startswith(("entity swapped", "subject changed")) for w in change.why)


def test_titles_and_references_added_or_removed_are_medium() -> None:
    fragments = ("Harvard Business Review 91(5): 63-72.", "Document No. 12", '"The Long Road Home (2019)"')
    for fragment in fragments:
        article = Article(headline="Storm", paragraphs=[OTHER, fragment])
        change = diff_articles(article, Article(headline="Storm", paragraphs=[OTHER])).changes[0]
        assert (change.kind, change.severity) == ("removed", "medium"), (fragment, change.why)
        assert "not a sentence: a title, reference or names" in change.why
    article = Article(headline="Storm", paragraphs=[OTHER, "Two died."])
    change = diff_articles(article, Article(headline="Storm", paragraphs=[OTHER])).changes[0]
    assert change.severity == "medium"  # a short sentence still says who and how many
    assert "not a sentence: a title, reference or names" not in change.why


def test_removed_sentence_whose_figures_the_article_still_states_says_so() -> None:
    """A sentence cut while the article still gives its figures (the story reorganised): no
    figure withdrawn, and the change says so. A small count is no evidence (any sentence may
    say "two")."""
    repeated = "The plant employs 1,200 people and opened in 1998."
    kept = "The plant, opened in 1998, has 1,200 workers on its payroll."
    before = Article(headline="Plant", paragraphs=[repeated, kept, OTHER])
    change = diff_articles(before, Article(headline="Plant", paragraphs=[kept, OTHER])).changes[0]
    assert (change.kind, change.severity) == ("removed", "medium")
    assert "numbers still stated in the other version" in change.why
    counted = "Two workers were hurt in the blast."
    before = Article(headline="Plant", paragraphs=[counted, "Two lanes were closed.", OTHER])
    change = diff_articles(before, Article(headline="Plant", paragraphs=["Two lanes were closed.", OTHER]))
    assert (change.changes[0].kind, change.changes[0].severity) == ("removed", "medium")
    assert "numbers still stated in the other version" not in change.changes[0].why
    gone = "The plant employs 1,300 people."
    before = Article(headline="Plant", paragraphs=[gone, kept, OTHER])
    change = diff_articles(before, Article(headline="Plant", paragraphs=[kept, OTHER])).changes[0]
    assert "numbers still stated in the other version" not in change.why  # 1,300 is said nowhere else
    assert "number: 1300" in change.why


BODY = [
    "Mayor Ann Lee said on Tuesday that Joe Biden and Donald Trump had both called her.",
    "The storm reached the coast overnight and thousands of people left their homes.",
]


def headline_for(old: str, new: str) -> tuple[str, tuple[str, ...]]:
    """Severity and why of a headline edited over an unchanged article body."""
    diff = diff_articles(Article(headline=old, paragraphs=BODY), Article(headline=new, paragraphs=BODY))
    assert diff.headline.changed and diff.changes == []
    return diff.headline.severity, diff.headline.why


@pytest.mark.parametrize(
    ("old", "new", "severity", "why"),
    [
        # Title Case capitalises every word: a verb swapped is wording, not a name swapped
        ("Storm Hits Coast As Thousands Flee", "Storm Batters Coast As Thousands Flee", LOW, "word choice"),
        ("Fed Holds Rates Steady Amid Inflation Fears", "Fed Keeps Rates Steady Amid Inflation Worries", LOW,
         "word choice"),
        # the names the article writes as names are names, in Title Case or not
        ("Biden Wins Michigan Primary", "Trump Wins Michigan Primary", HIGH, "entity swapped: Biden → Trump"),
        ("Biden wins Michigan primary", "Trump wins Michigan primary", HIGH, "entity swapped: Biden → Trump"),
        ("Mayor Lee Says City Will Cut Taxes", "Mayor Lee Says City Will Raise Taxes", HIGH,
         "reversal: cut → raise"),
        ("Storm Hits Coast", "Storm Hits Coast, Thousands Flee", HIGH, "number added: thousands"),
    ],
)  # fmt: skip
def test_title_case_headline_capitals_are_no_names(old: str, new: str, severity: str, why: str) -> None:
    got, reasons = headline_for(old, new)
    assert got == severity, reasons
    assert any(w.startswith(why) for w in reasons), reasons
    if severity == LOW:
        assert not any(w.startswith(("entity", "entities", "name spelling")) for w in reasons), reasons


def test_inch_mark_is_no_quotation() -> None:
    change = change_for(
        'The program developed a rocket to be launched from the 16" gun.',
        'The program was developing a rocket to be launched from the 16" gun.',
    )
    assert "quote" not in change.flags and change.severity != HIGH, change.why


def test_failing_to_do_it_denies_it() -> None:
    change = change_for("The firm paid its workers in May.", "The firm failed to pay its workers in May.")
    assert change.severity == HIGH and "negation added: failed to" in change.why


def test_sentences_merged_compare_subjects_by_their_first_sentence() -> None:
    """The text the differ rates when a sentence is merged into its neighbour: the sentence cut
    from the front brings no other subject."""
    kept = "The mayor said the bridge would reopen once engineers had checked its supports."
    verdict = rewording(f"The road was closed in May 2016. {kept}", kept)
    assert not any(w.startswith("subject changed") for w in verdict.why), verdict.why
