"""What the analyzer makes of text: the words documents and queries are matched on (no index needed)."""

from __future__ import annotations

from ldnsite.search.schema import stemming_analyzer, synonym_table
from ldnsite.search.synonyms import read_groups

GROUPS = read_groups("""
low dose naltrexone, LDN, naltrexone
ME/CFS, CFS, ME, chronic fatigue syndrome
opioid, opioids
opioid > tramadol, codeine
""")


def tokens(text: str) -> list[str]:
    return [t.text for t in stemming_analyzer(synonym_table(*GROUPS))(text)]


def test_every_form_of_a_synonym_adds_one_canonical_token():
    canonical = tokens("LDN")[-1]
    assert canonical.startswith("~")
    assert canonical in tokens("low dose naltrexone") and canonical in tokens("Naltrexone")
    assert tokens("ME/CFS").count(tokens("CFS")[-1]) >= 1


def test_capital_me_is_the_illness_and_me_is_a_pronoun():
    illness = tokens("CFS")[-1]
    assert illness in tokens("ME")
    assert tokens("can ldn help me sleep") == [*tokens("ldn"), "help", "sleep"]


def test_narrow_terms_add_the_broad_token_and_keep_their_own():
    assert tokens("tramadol") == ["tramadol", tokens("opioid")[-1]]


def test_doses_split_like_readers_write_them_and_addresses_are_not_words():
    assert tokens("4.5mg") == tokens("4.5 mg") == ["4.5", "mg"]
    assert tokens("write to contact@ldn-guide.example") == ["write"]
    assert tokens("Hashimoto's") == tokens("hashimoto")
