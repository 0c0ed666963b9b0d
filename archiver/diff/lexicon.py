"""Word lists the meaning check reads: reversals and antonyms, quantifiers that set a claim's
scope, and function words whose change alone leaves a claim as it was. Lemmas (simplemma's
English forms) are listed, so "rose"/"fell" match "rise"/"fall" too."""

from __future__ import annotations

# Pairs whose swap turns a claim around: positions, directions, outcomes, verdicts, stances.
_REVERSALS = """
ahead behind | before after | above below | over under | more less | more fewer | most least
increase decrease | increase reduce | increase cut | rise fall | rise drop | raise cut | raise lower
gain loss | gain lose | win lose | win loss | victory defeat | up down | high low | higher lower
highest lowest | large small | larger smaller | largest smallest | big small | bigger smaller
biggest smallest | first last | early late | earlier later | earliest latest | for against
support oppose | supporter opponent | approve reject | accept reject | accept refuse | agree disagree
guilty innocent | convict acquit | legal illegal | lawful unlawful | true false | positive negative
success failure | succeed fail | allow ban | allow forbid | permit ban | open close | start end
begin end | alive dead | survive die | majority minority | maximum minimum | strengthen weaken
always never | all none | include exclude | inside outside | buy sell | import export | arrive leave
north south | east west | left right | pro anti | confirm deny | hire fire | best worst
better worse | strong weak | stronger weaker | male female | man woman | men women | expand shrink
lead trail | leader laggard | top bottom | rich poor | safe unsafe | safe dangerous | with without
possible impossible | likely unlikely | able unable | known unknown | full empty | entry exit
cheap expensive | cheaper costlier | profit loss | surplus deficit | credit debit | asset liability
plaintiff defendant | prosecution defence | prosecution defense | victim perpetrator | victim suspect
attacker victim | winner loser | landlord tenant | employer employee | buyer seller | lender borrower
sender recipient | import export | rise decline | grow shrink | growth decline | inflow outflow
rose fell | rose dropped | rose declined | risen fallen | rising falling | rises falls | won lost
wins loses | winning losing | grew shrank | bought sold | led trailed | gained lost | beat lost
surge plunge | soar plunge | soar slump | surge slump | jump drop | jump fall | climb fall
climb drop | boom bust | bullish bearish | improve worsen | improvement deterioration
benefit harm | help hurt | boost hurt | admit deny | accept decline | lift impose | tighten ease
tighten loosen | harsh lenient | strict lax | present absent | presence absence | remember forget
unite divide | united divided | join leave | arrive depart | attack defend | offense defense
offence defence | ally enemy | friend enemy | ally rival | friendly hostile | peaceful violent
peace war | praise criticize | praise criticise | praise condemn | welcome condemn | praise blame
reward punish | love hate | hope fear | hopeful fearful | optimistic pessimistic
optimism pessimism | encouraging worrying | encouraging discouraging | encouraging disappointing
encouraging alarming | reassuring worrying | reassuring alarming | upbeat gloomy | bright bleak
good bad | right wrong | correct incorrect | accurate inaccurate | valid invalid | fair unfair
stable unstable | healthy sick | easy difficult | easy hard | fast slow | faster slower
quick slow | young old | younger older | youngest oldest | temporary permanent | private public
official unofficial | voluntary mandatory | voluntary compulsory | optional mandatory
rare common | often rarely | frequent rare | hot cold | warm cold | wet dry | pass fail
hit miss | open shut | cheapest dearest | calm tense | legitimate illegitimate | armed unarmed
"""

# Prefixes that make a word its opposite ("popular" / "unpopular", "agree" / "disagree"), where
# one word stands for the other and the rest of it is an English word of its own.
NEGATING_PREFIXES = ("un", "in", "im", "il", "ir", "dis", "non", "non-")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


REVERSALS: frozenset[frozenset[str]] = frozenset(
    frozenset(pair.split()) for line in _REVERSALS.split("\n") for pair in line.split("|") if pair.strip()
)

# What happened to someone, as news reports it: one of these given for another is another
# event ("killed" / "injured", "charged" / "convicted"), never a choice of words. Lemmas.
EVENTS = _set(
    """kill injure wound hurt die arrest detain charge convict sentence acquit release free
    jail imprison fine sue indict resign fire dismiss suspend elect appoint nominate defeat
    shoot stab attack rape rob murder evacuate rescue hospitalize hospitalise missing plead
    veto ban delay cancel postpone"""
)

# Words that set how much of something a claim is about: "most of the internet" is not "the
# internet"; "at least 20" is not "20".
QUANTIFIERS = _set(
    """all most more less some many few several none every each only nearly almost about around
    approximately roughly least partly partially mostly largely entirely completely fully
    much majority minority half sole solely just exactly barely hardly scarcely virtually
    overwhelmingly widely any both either neither"""
)

# Words that only write an amount out: number words, scales, units of money ("twenty-five
# billion pounds" is "£25bn").
AMOUNT_WORDS = _set(
    """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred thousand million billion trillion bn m k dozen percent per cent pound pounds
    sterling dollar dollars euro euros yen a an and"""
)

# Determiners that say which one: "another soldier" and "the soldier" are different people.
REFERENCE_WORDS = _set("another other same different second third former latter")

# Words whose change alone rephrases without changing the claim: articles, linking words,
# auxiliaries of tense and agreement, pronoun case, intensifiers.
FUNCTION_WORDS = _set(
    """a an the this that these those which who whom whose what it its it's they them their
    there here of in on at by to from into onto upon with as for and or but so yet also
    then thus hence therefore however moreover furthermore additionally further still even
    be is are was were been being am has have had having do does did very quite rather really
    such while whereas whereby where when whether if since because although
    though via per etc i.e e.g namely respectively s"""
)

# A pronoun standing for a name (or the name for the pronoun) is the same subject.
PRONOUNS = _set("i me my we us our you your he him his she her they them their one")

# What a dateline says besides its dates and times: "Published 3 June 2024, 10:00 BST | Updated".
DATELINE_WORDS = _set(
    """published updated posted modified first last on at am pm a.m p.m gmt utc bst cet cest
    est edt et pt pst pdt ist jst aest and"""
)

# Where a sentence's subject ends: the first auxiliary, modal or reporting verb.
SUBJECT_ENDS = _set(
    "is are was were be has have had will would can could may might must should shall said says"
)
DETERMINERS = _set("the a an this that these those his her their its our my your")

# How the name of a people or the adjective of a place ends after its stem ("Span-ish",
# "Jew-ish", "Brit-ons", "Chin-ese", "Ital-ian"): the place and its people are one name.
DEMONYM_ENDINGS = _set("ish nish an ian ans ians ese i is ic ics s ons er ers")

# Names news gives one country or body by turns ("the United States" / "America"): one name.
_ALIASES = """
united states | america | usa | us | u.s
united kingdom | britain | great britain | uk | u.k
netherlands | holland
czech republic | czechia
myanmar | burma
turkey | turkiye | türkiye
eswatini | swaziland
north korea | dprk
south korea | republic of korea
china | prc | people's republic of china
"""
NAME_ALIASES: dict[str, int] = {
    name.strip(): k for k, line in enumerate(_ALIASES.strip().split("\n")) for name in line.split("|")
}

# Who acts in a news sentence, besides the people and bodies it names: roles, bodies, groups
# (lemmas). "Police arrested him" / "Soldiers arrested him" is another actor; "The blaze
# spread" / "The fire spread" is another word for one thing.
ACTORS = _set(
    """police officer soldier troop army military force government ministry minister president
    premier chancellor governor mayor senator lawmaker legislator congress parliament court
    judge jury prosecutor lawyer attorney defendant suspect victim witness official authority
    spokesman spokeswoman spokesperson company firm bank board council committee union party
    rebel militant protester insurgent man woman men women boy girl child children teenager
    driver pilot doctor nurse patient student teacher resident family father mother son
    daughter husband wife leader chief director executive ceo chairman chairwoman manager
    coach player team voter citizen investor analyst researcher scientist expert agency
    regulator department administration embassy ambassador envoy king queen prince princess
    pope bishop priest crew passenger worker employee employer owner landlord tenant
    candidate opposition campaign spy gunman attacker killer prisoner inmate refugee migrant"""
)

# Words that open a phrase before the subject ("During the war, ...", "While in office"):
# where one starts what comes before the verb, it is no subject.
OPENING_WORDS = _set(
    """in on at during while after before despite since when if although though because for
    with by from to under over until unless as once whereas whether amid among between
    through throughout without within upon into like unlike due"""
)
