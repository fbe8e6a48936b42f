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


def test_the_one_pass_analyzer_gives_the_tokens_of_whooshs_own_filter_chain():
    """The site's analyzer replaced a chain of Whoosh filters for speed; it must not change what is indexed."""
    from whoosh.analysis import CharsetFilter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
    from whoosh.support.charset import accent_map

    from ldnsite.search.schema import STOP_WORDS, TOKEN_PATTERN, plain_analyzer

    def drop_addresses(tokens):
        for t in tokens:
            if "@" not in t.text:
                if t.text == "ME":
                    t.text = "myalgicencephalomyelitis"
                yield t

    class Addresses(StopFilter):  # a Filter shape Whoosh's chain accepts
        def __init__(self):
            pass

        def __call__(self, tokens):
            return drop_addresses(tokens)

    base = RegexTokenizer(TOKEN_PATTERN) | Addresses() | LowercaseFilter() | CharsetFilter(accent_map)
    reference = {"stem": base | StopFilter(stoplist=STOP_WORDS, minsize=1) | StemFilter(), "plain": base}
    ours = {"stem": stemming_analyzer(), "plain": plain_analyzer()}
    texts = [
        "Can LDN help me sleep? ME is not me; I took 4.5mg (4,5 mg) at night.",
        "Write to contact@ldn-guide.example about Sjögren's, naïve café dosing and the dose-finding studies.",
        "the the a of",
        "",
        "Hashimoto's thyroiditis: TSH 2.5, T4 12 and pregabalin/Lyrica 75 mg twice daily.",
        "Über fibromyalgie — crème brûlée, ÉLAN; ME/CFS (myalgic encephalomyelitis) and brain-fog!",
    ]
    options = [
        {},
        {"positions": True},
        {"chars": True, "positions": True},
        {"removestops": False, "positions": True},
        {"positions": True, "start_pos": 5, "chars": True, "start_char": 10},
        {"mode": "query"},
    ]

    def stream(analyzer, text, kwargs):
        return [
            (t.text, t.stopped, getattr(t, "pos", None), getattr(t, "startchar", None), getattr(t, "endchar", None))
            for t in analyzer(text, **kwargs)
        ]

    for name in ours:
        for text in texts:
            for kwargs in options:
                assert stream(ours[name], text, kwargs) == stream(reference[name], text, kwargs), (name, text, kwargs)
