"""Judged queries for the search evaluation, in the groups readers' searches fall into.

Each query has planted forum answers (grade 3: answers it fully; 2: well; 1: in
passing), written into the corpus by search_corpus.py, half of them years
old; and, where an information page answers it, the page (any of the listed
slugs, first one that exists: pages get rewritten and split). Metrics are in
evaluate() below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Query:
    text: str
    group: str
    answers: tuple[tuple[int, str, str], ...] = ()
    pages: tuple[str, ...] = ()  # slugs that answer it (the first that exists is the answering page)
    kind: str = "all"


def q(text: str, group: str, *answers: tuple[int, str, str], pages: tuple[str, ...] = (), kind: str = "all") -> Query:
    return Query(text, group, tuple(answers), pages, kind)


LDN = ("low-dose-naltrexone",)
LDN_RESEARCH = ("low-dose-naltrexone-research", "low-dose-naltrexone")

QUERIES: list[Query] = [
    # ---- short -----------------------------------------------------------------------------------------------
    q(
        "ldn",
        "short",
        (2, "Two years on LDN, an update", "LDN has been steady for me, two years in, pain lower most weeks."),
        (2, "New to LDN - what to expect?", "Just got my first LDN prescription, what should I expect from LDN"),
        pages=LDN,
    ),
    q(
        "hashimoto ldn",
        "short",
        (
            3,
            "LDN and Hashimoto's - my thyroid antibodies dropped",
            "Since starting LDN my Hashimoto antibodies dropped and my TSH is stable. Anyone else with Hashimoto on LDN?",
        ),
        (
            3,
            "Hashimoto thyroiditis and low dose naltrexone",
            "I have Hashimoto and fibro. LDN helped the fatigue, my endocrinologist was fine with it.",
        ),
        (2, "Thyroid question", "Does anyone take LDN with Hashimoto? My levothyroxine dose had to change after LDN."),
        (1, "Autoimmune thyroid", "My sister has Hashimoto, I have fibro. Different illnesses but similar tiredness."),
    ),
    q(
        "ldn insomnia",
        "short",
        (3, "LDN insomnia - fixed by taking it in the morning", "I had terrible insomnia on LDN until I moved the dose to the morning."),
        (2, "Can't sleep since starting", "Insomnia for two weeks since I started LDN, does it settle?"),
        (1, "Sleep hygiene tips", "For insomnia I found a fixed bedtime helped more than anything."),
    ),
    q(
        "ldn dose",
        "short",
        (3, "What LDN dose are you on?", "Poll: which LDN dose works for you? I am on 3mg, thinking of 4.5mg."),
        (2, "Dose question", "My GP wants me to start LDN at 0.5mg and raise the dose slowly."),
        pages=LDN,
    ),
    q(
        "brain fog",
        "short",
        (3, "Brain fog is the worst part", "The brain fog is worse than the pain for me, words just vanish mid sentence."),
        (2, "Fibro fog tips", "Fibro fog: lists, alarms and a notebook by the kettle."),
        pages=("fibromyalgia", "me-cfs"),
    ),
    q(
        "pacing",
        "short",
        (3, "Pacing finally clicked for me", "Pacing with a heart rate monitor stopped the crashes. Pacing is hard but worth it."),
        (2, "Energy envelope", "Staying in my energy envelope means fewer bad days."),
        pages=("pacing",),
    ),
    q(
        "ldn weight",
        "short",
        (3, "Did LDN change your weight?", "Has anyone lost or gained weight on LDN? My weight has been stable."),
        (2, "Appetite on LDN", "Less appetite on LDN, lost a bit of weight without trying."),
    ),
    q(
        "microglia",
        "rare word",
        (
            3,
            "Microglia and LDN - the theory",
            "The idea is LDN calms microglia, the immune cells in the brain. Interesting article on microglia.",
        ),
        (1, "Inflammation in the brain?", "Read that glial cells may be involved in fibro pain."),
        pages=LDN_RESEARCH,
    ),
    q(
        "mast cell",
        "rare word",
        (3, "Mast cell activation and LDN", "Anyone with mast cell problems on LDN? My mast cell symptoms flare with fillers."),
        (2, "Fillers and reactions", "Switched to a filler-free capsule because of my mast cell issues."),
    ),
    q(
        "raynaud",
        "rare word",
        (3, "Raynaud's and fibro", "My fingers go white with Raynaud, worse in winter. Raynaud plus fibro is miserable."),
        (2, "Cold hands", "Cold hands that turn blue, my rheumatologist says it is Raynaud phenomenon."),
    ),
    q(
        "sjogren",
        "rare word",
        (3, "Sjogren's and LDN", "I was diagnosed with Sjögren's last year, LDN helped the joint pain."),
        (2, "Dry eyes and mouth", "Dry eyes and dry mouth, they are testing me for Sjogren syndrome."),
    ),
    q(
        "endometriosis",
        "rare word",
        (3, "Endometriosis pain and LDN", "Has LDN helped anyone's endometriosis pain? I have endometriosis and fibro."),
        (2, "Pelvic pain", "My endometriosis was diagnosed after years of pelvic pain."),
    ),
    q(
        "tlr4",
        "rare word",
        (3, "TLR4 receptor and LDN", "The TLR4 receptor theory for LDN: anyone read the papers on TLR4?"),
        pages=LDN_RESEARCH,
    ),
    q(
        "zopiclone",
        "rare word",
        (3, "Zopiclone with LDN?", "Is it OK to take zopiclone with LDN? My GP prescribed zopiclone for sleep."),
        (2, "Sleeping tablets", "I used zopiclone for a week, it made me groggy."),
    ),
    q(
        "hydrotherapy",
        "rare word",
        (3, "Hydrotherapy helped my fibro", "Warm hydrotherapy pool sessions twice a week, hydrotherapy is the only exercise I manage."),
        (2, "Warm pool", "The hospital hydrotherapy pool is lovely and warm."),
        pages=("exercise",),
    ),
    q(
        "endocrinologist",
        "rare word",
        (3, "Endocrinologist appointment about LDN", "My endocrinologist agreed to LDN for my thyroid."),
        (1, "Referral", "Waiting for an endocrinologist referral."),
    ),
    # ---- natural-language questions ---------------------------------------------------------------------------
    q(
        "does ldn help fibromyalgia",
        "question",
        (3, "LDN helped my fibromyalgia", "After three months LDN really helped my fibromyalgia pain and sleep."),
        (3, "Does LDN help fibromyalgia? My experience", "For my fibromyalgia LDN helped a lot with pain."),
        (2, "Fibromyalgia and LDN", "Fibromyalgia for ten years, started LDN last month."),
        pages=LDN,
    ),
    q(
        "does ldn work",
        "question",
        (3, "Does LDN actually work?", "Honest question: does LDN work for most people or is it placebo?"),
        (2, "LDN worked for me", "LDN worked after about eight weeks."),
        pages=LDN,
    ),
    q(
        "how long does ldn take to work",
        "question",
        (3, "How long did LDN take to work for you?", "How long does LDN take to work? Mine took about ten weeks to work."),
        (3, "LDN took 3 months to work", "It took me three months before LDN started to work, be patient."),
        (2, "Week six, nothing yet", "Six weeks on LDN, how long until it works?"),
        pages=LDN,
    ),
    q(
        "can ldn help me sleep",
        "question",
        (3, "LDN helped my sleep", "LDN helped me sleep through the night for the first time in years."),
        (2, "Sleep better on LDN?", "Does LDN help sleep? My sleep is a bit deeper."),
        pages=LDN,
    ),
    q(
        "what dose of ldn should i start on",
        "question",
        (3, "Starting dose of LDN", "Most people start LDN at a low dose like 0.5mg or 1.5mg and increase slowly."),
        (2, "Start low", "My doctor said start at 1.5mg, dose up every two weeks."),
        pages=LDN,
    ),
    q(
        "is ldn safe with tramadol",
        "question",
        (3, "LDN and tramadol - don't mix", "I was told LDN is not safe with tramadol, it blocks the tramadol and can cause withdrawal."),
        (2, "Coming off tramadol to start LDN", "Had to taper off tramadol before LDN, took a month."),
        pages=LDN,
    ),
    q(
        "can i take ldn with codeine",
        "question",
        (3, "Codeine and LDN", "You cannot take codeine with LDN, my pharmacist stopped the codeine."),
        (2, "Co-codamol while on LDN?", "Co-codamol contains codeine, so no co-codamol with LDN."),
        pages=LDN,
    ),
    q(
        "does ldn cause vivid dreams",
        "question",
        (3, "Vivid dreams on LDN", "The vivid dreams from LDN were intense the first weeks, then settled."),
        (2, "Crazy dreams", "Anyone else get crazy dreams since LDN?"),
        pages=LDN,
    ),
    q(
        "why do i feel worse on ldn",
        "question",
        (3, "Feeling worse on LDN at first", "I felt worse on LDN for the first two weeks, more tired, then better."),
        (2, "Worse before better?", "Is it normal to feel worse when you start LDN?"),
    ),  # no page covers this
    q(
        "low dose naltrexone for me",
        "question",
        (2, "Is low dose naltrexone right for me?", "Wondering if low dose naltrexone is worth trying for fibro."),
        pages=LDN,
    ),
    q("what is fibromyalgia", "question", pages=("fibromyalgia",)),
    q(
        "where can i get ldn prescribed",
        "question",
        (3, "Getting LDN prescribed", "My GP would not prescribe LDN, I got LDN prescribed by a private clinic."),
        (2, "Private prescription", "Private prescription for LDN costs about 40 a month."),
        pages=LDN,
    ),
    q(
        "is ldn safe long term",
        "question",
        (3, "LDN long term - five years in", "Five years on LDN, safe for me long term, bloods fine."),
        (2, "Long term use", "Anyone on LDN long term? Worried about safety."),
        pages=LDN,
    ),
    # ---- typos -------------------------------------------------------------------------------------------------
    q("fibromialgia", "typo", (2, "Fibromyalgia flare this week", "Big fibromyalgia flare, everything aches."), pages=("fibromyalgia",)),
    q("naltrexon", "typo", (2, "Naltrexone from the pharmacy", "Picked up my naltrexone, compounded capsules."), pages=LDN),
    q(
        "insomina",
        "typo",
        (3, "Insomnia every night", "Insomnia every single night, lying awake till 4."),
    ),
    q("pregabalinn", "typo", (2, "Pregabalin side effects", "Pregabalin made me dizzy and I gained weight."), pages=("pregabalin",)),
    q("duloxetin", "typo", (2, "Duloxetine nausea", "Duloxetine nausea for a week then fine."), pages=("duloxetine",)),
    q(
        "dizzyness",
        "typo",
        (3, "Dizziness on standing", "Dizziness every time I stand up, worse on pregabalin."),
    ),
    q(
        "rheumatolgist",
        "typo",
        (3, "Rheumatologist appointment went badly", "My rheumatologist dismissed fibro completely."),
    ),
    q("amitriptylin", "typo", (2, "Amitriptyline for sleep", "Amitriptyline 10mg helps me sleep."), pages=("amitriptyline",)),
    # ---- synonyms and brands ------------------------------------------------------------------------------------
    q("cymbalta", "synonym", (2, "Duloxetine withdrawal", "Coming off duloxetine was rough, brain zaps."), pages=("duloxetine",)),
    q(
        "lyrica weight gain",
        "synonym",
        (3, "Lyrica weight gain - how much?", "Lyrica weight gain was 8 kilos for me in a year."),
        (2, "Pregabalin and weight", "Put on weight with pregabalin, weight gain stopped when I came off."),
        pages=("pregabalin",),
    ),
    q(
        "low dose naltrexone fibromyalgia",
        "synonym",
        (3, "LDN for fibromyalgia - six months", "LDN for my fibromyalgia: six months in, pain down by half."),
        (2, "Fibro and LDN", "Fibro for years, LDN is the first thing that helped."),
        pages=LDN,
    ),
    q(
        "cfs ldn",
        "synonym",
        (3, "LDN for ME/CFS", "Has LDN helped anyone's ME/CFS? My chronic fatigue syndrome is severe."),
        (2, "Chronic fatigue and LDN", "Chronic fatigue syndrome for eight years, trying LDN."),
        pages=LDN,
    ),
    q(
        "ME ldn",
        "synonym",
        (3, "ME and LDN - a year on", "A year on LDN with ME, fewer crashes."),
        (2, "Myalgic encephalomyelitis and LDN", "Myalgic encephalomyelitis, mild, LDN helps a bit."),
        pages=LDN,
    ),
    q(
        "fibro fog",
        "synonym",
        (3, "Fibro fog is awful today", "Fibro fog so bad I put the kettle in the fridge."),
        (2, "Brain fog and concentration", "Brain fog makes reading hard."),
        pages=("fibromyalgia",),
    ),
    q(
        "elavil sleep",
        "synonym",
        (3, "Amitriptyline and sleep", "Amitriptyline helps my sleep but I wake groggy."),
        pages=("amitriptyline",),
    ),
    q("savella", "synonym", (2, "Milnacipran in the US", "My US doctor suggested milnacipran."), pages=("milnacipran",)),
    q("revia", "synonym", pages=LDN),
    q("co-codamol", "synonym", (3, "Co-codamol and LDN", "Stopped co-codamol before starting LDN."), pages=LDN),
    q("tramadol", "synonym", (3, "Tramadol to LDN switch", "Switched from tramadol to LDN after a washout."), pages=LDN),
    q(
        "gabapentin",
        "synonym",
        (2, "Gabapentin vs pregabalin", "Gabapentin made me sleepy, pregabalin less so."),
        pages=("gabapentin", "pregabalin"),
    ),
    q("naltrexone fibromyalgia", "synonym", (2, "Naltrexone for fibromyalgia", "Naltrexone at low dose for fibromyalgia."), pages=LDN),
    # ---- phrases -------------------------------------------------------------------------------------------------
    q(
        '"vivid dreams"',
        "phrase",
        (3, "Vivid dreams every night", "Vivid dreams every night on LDN, some good some scary."),
        (2, "Dreams", "The vivid dreams calmed down after a month."),
        pages=LDN,
    ),
    q(
        '"4.5 mg"',
        "phrase",
        (3, "Going up to 4.5 mg", "Went up to 4.5 mg last week, no problems."),
        (2, "4.5mg too much?", "4.5mg gave me insomnia so I went back to 3mg."),
        pages=LDN,
    ),
    q(
        "4.5mg",
        "phrase",
        (3, "Is 4.5mg the usual dose?", "4.5mg seems to be the usual LDN dose."),
        (2, "At 4.5 mg now", "Settled at 4.5 mg."),
        pages=LDN,
    ),
    q(
        '"side effects"',
        "phrase",
        (3, "LDN side effects thread", "List your LDN side effects here: mine were headaches and dreams."),
    ),
    q(
        '"weight gain"',
        "phrase",
        (3, "Weight gain on medication", "Weight gain from pregabalin is my biggest worry."),
        pages=("pregabalin",),
    ),
    q(
        '"energy envelope"',
        "phrase",
        (3, "The energy envelope idea", "Learning the energy envelope idea changed everything."),
        pages=("pacing",),
    ),
    q('"brain fog"', "phrase", (3, "Brain fog and work", "Brain fog is making work impossible."), pages=("fibromyalgia", "me-cfs")),
    q('"low dose"', "phrase", (2, "Low dose amitriptyline", "A low dose of amitriptyline, 10mg, helps sleep."), pages=LDN),
    # ---- pages only ----------------------------------------------------------------------------------------------
    q("codeine", "pages", pages=LDN, kind="pages"),
    q("morphine", "pages", pages=LDN, kind="pages"),
    q("lyrica", "pages", pages=("pregabalin",), kind="pages"),
    q("CFS", "pages", pages=("me-cfs",), kind="pages"),
    q("graded exercise therapy", "pages", pages=("exercise",), kind="pages"),
    q("cbt", "pages", pages=("cognitive-behavioural-therapy",), kind="pages"),
    q("post exertional malaise", "pages", pages=("me-cfs", "pacing"), kind="pages"),
    q("oxycodone", "pages", pages=LDN, kind="pages"),
    q("ldn research", "pages", pages=LDN_RESEARCH, kind="pages"),
]


@dataclass
class Scores:
    ndcg: list[float] = field(default_factory=list)
    p10: list[float] = field(default_factory=list)
    old_found: int = 0
    old_total: int = 0
    page_ranks: list[int | None] = field(default_factory=list)  # rank of the answering page, None if not in the top 10
    zero: int = 0
    queries: int = 0
    leaked: int = 0  # hidden posts shown (must stay 0)


def judgments(forum, existing_pages: set[str]) -> dict[str, tuple[dict[str, int], set[str], str | None]]:
    """Per query: grades by document key, the keys of old answers (grade >= 2), the answering page key."""
    out = {}
    for query in QUERIES:
        grades = {p.key: p.grade for p in forum.planted if p.query == query.text}
        old = {p.key for p in forum.planted if p.query == query.text and p.old and p.grade >= 2}
        page = next((slug for slug in query.pages if slug in existing_pages), None)
        page_key = f"page:{page}" if page else None
        if page_key:
            grades[page_key] = 3
        out[query.text] = (grades, old, page_key)
    return out


def score(
    scores: Scores, ranked_keys: list[str], grades: dict[str, int], old: set[str], page_key: str | None, hidden_keys: set[str]
) -> None:
    top = ranked_keys[:10]
    scores.queries += 1
    scores.zero += not ranked_keys
    scores.leaked += sum(k in hidden_keys for k in top)
    dcg = sum((2 ** grades.get(k, 0) - 1) / math.log2(i + 2) for i, k in enumerate(top))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    if idcg:
        scores.ndcg.append(dcg / idcg)
        scores.p10.append(sum(grades.get(k, 0) > 0 for k in top) / 10)
    scores.old_total += len(old)
    scores.old_found += sum(k in old for k in top)
    if page_key:
        scores.page_ranks.append(top.index(page_key) + 1 if page_key in top else None)
