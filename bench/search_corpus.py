"""A deterministic, realistic forum for judging search: topic clusters, drift, misspellings, six years, planted answers.

Why not uniform random words: a forum is made of conversations about a few
subjects (sleep, dosing, opioids, thyroid...), each with its own words,
drifting between subjects, with common words everywhere ("ldn", "pain") and
the odd misspelling. Relevance numbers mean something only on text like that.

Planted answers are the judged documents: for each judged query
(search_judgments.py) some posts are written to answer it well (grade 3),
fairly (2) or in passing (1), half of them years old and half recent, so an
engine that prefers new posts loses old answers. Some strong matches are
removed or held by moderators after indexing, and must never be shown.

Same seed, same corpus: `Forum(posts, seed).topics/posts` are plain dicts,
loaded into the database by the benchmark and the relevance tests alike.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

SEED = 20261201
YEARS = 6
NOW = datetime(2026, 11, 30, 12, 0, 0)

FILLER = (
    "i have been on it for a few weeks now and my doctor said to keep going but honestly i am not sure "
    "it is doing much yet some days are better than others and i still get bad days when everything hurts "
    "thanks for reading anyone else had this happen just wondering what you all think hope everyone is ok "
    "today yesterday week month started stopped tried again really quite much more less still also "
    "feel feeling felt got take taking took back after before morning evening night day"
).split()
COMMON = "ldn pain fibro fibromyalgia tired doctor dose better worse help helped".split()

CLUSTERS: dict[str, tuple[str, str]] = {
    # name: (title words, body words)
    "sleep": (
        "sleep insomnia nights waking",
        "sleep insomnia night waking melatonin bedtime dreams vivid nightmares "
        "restless tossing rested awake 3am sleeping tablets zopiclone",
    ),
    "dosing": (
        "dose dosing titration starting",
        "dose 1.5mg 3mg 4.5mg 4.5 mg mg increase titrate titration capsule liquid tablet half split compounded pharmacy 0.5mg schedule",
    ),
    "pain": (
        "pain flare widespread aching",
        "pain flare widespread aching tender burning muscles joints stiffness hands legs back neck heat pad",
    ),
    "fatigue": (
        "fatigue crash exhaustion pacing",
        "fatigue exhaustion crash pem pacing energy bedbound housebound spoons payback envelope rest CFS ME/CFS ME",
    ),
    "fog": ("brain fog memory concentration", "brain fog memory concentration words forgetful thinking focus reading confused cognitive"),
    "opioids": (
        "opioid painkillers tramadol",
        "tramadol codeine co-codamol morphine oxycodone opioid painkillers washout interaction withdrawal blocked stopped tapering",
    ),
    "thyroid": ("thyroid hashimoto levels", "thyroid hashimoto levothyroxine tsh antibodies t4 endocrinologist autoimmune hypothyroid"),
    "gut": ("stomach ibs nausea", "ibs bloating nausea stomach diarrhoea constipation gut sick queasy food"),
    "meds": (
        "pregabalin duloxetine amitriptyline",
        "pregabalin lyrica gabapentin duloxetine cymbalta amitriptyline weight gain dizziness side effects drowsy withdrawal switching",
    ),
    "prescribing": (
        "prescription gp private",
        "gp prescription private clinic off-label cost pharmacy rheumatologist referral appointment letter nhs",
    ),
    "exercise": ("exercise walking yoga", "exercise walking swimming yoga stretching physio graded steps gentle hydrotherapy pool"),
    "mood": ("anxiety mood low", "anxiety depression mood irritable low tearful counselling cbt worry"),
}
MISSPELL = {
    "fibromyalgia": "fibromialgia",
    "naltrexone": "naltrexon",
    "insomnia": "insomina",
    "dizziness": "dizzyness",
    "amitriptyline": "amitriptyline",
    "hashimoto": "hashimotos",
    "tramadol": "tramadoll",
    "pregabalin": "pregabalen",
    "rheumatologist": "rheumatolgist",
}


@dataclass
class Planted:
    key: str  # "topic:<id>" or "post:<id>"
    query: str
    grade: int
    old: bool


@dataclass
class Forum:
    posts_wanted: int
    seed: int = SEED
    topics: list[dict] = field(default_factory=list)
    posts: list[dict] = field(default_factory=list)
    planted: list[Planted] = field(default_factory=list)
    hidden: list[dict] = field(default_factory=list)  # strong matches hidden by moderators after indexing

    def __post_init__(self) -> None:
        from bench.search_judgments import QUERIES

        self.rng = random.Random(self.seed)
        self._cluster_words = {name: (t.split(), b.split()) for name, (t, b) in CLUSTERS.items()}
        self._names = sorted(CLUSTERS)
        start = NOW - timedelta(days=365 * YEARS)
        span = (NOW - start).total_seconds()
        background = max(0, self.posts_wanted - sum(len(q.answers) for q in QUERIES) * 2)
        while len(self.posts) < background:
            when = start + timedelta(seconds=span * (len(self.posts) / max(background, 1)))
            self._topic(when)
        for q in QUERIES:
            for n, answer in enumerate(q.answers):
                old = n % 2 == 0
                when = start + timedelta(days=self.rng.randint(30, 700)) if old else NOW - timedelta(days=self.rng.randint(5, 300))
                self._plant(q.text, answer, when, old)
            for n, answer in enumerate(q.answers[:1]):
                self._plant_hidden(q.text, answer, NOW - timedelta(days=40 + n))

    # ---- text -----------------------------------------------------------------------------

    def _words(self, cluster: str, n: int, title: bool = False) -> list[str]:
        rng = self.rng
        own = self._cluster_words[cluster][0 if title else 1]
        out = []
        for _ in range(n):
            r = rng.random()
            if r < 0.45:
                w = rng.choice(own)
            elif r < 0.55:  # drift into a neighbouring subject
                w = rng.choice(self._cluster_words[rng.choice(self._names)][1])
            elif r < 0.68:
                w = rng.choice(COMMON)
            else:
                w = rng.choice(FILLER)
            if rng.random() < 0.03:
                w = MISSPELL.get(w, w)
            out.append(w)
        return out

    def _topic(self, when: datetime) -> None:
        cluster = self.rng.choice(self._names)
        tid = len(self.topics) + 1
        title = " ".join(self._words(cluster, self.rng.randint(3, 7), title=True)).capitalize()
        if self.rng.random() < 0.002:
            title += " fibromialgia"  # a misspelling some readers keep making, in titles too
        self.topics.append({"id": tid, "title": title, "status": "published", "created_at": when, "last_activity_at": when})
        for n in range(self.rng.choice((1, 2, 3, 5, 8, 12, 20))):
            drift = cluster if self.rng.random() < 0.8 else self.rng.choice(self._names)
            body = " ".join(self._words(drift, self.rng.randint(15, 90)))
            r = self.rng.random()
            status = "removed" if r < 0.02 else "pending" if r < 0.03 else "published"
            self._post(tid, body, status if n else "published", when + timedelta(minutes=7 * n))

    def _post(self, topic_id: int, body: str, status: str, when: datetime) -> int:
        pid = len(self.posts) + 1
        self.posts.append(
            {"id": pid, "topic_id": topic_id, "body_source": body, "body_html": f"<p>{body}</p>", "status": status, "created_at": when}
        )
        return pid

    def _plant(self, query: str, answer: tuple[int, str, str], when: datetime, old: bool) -> None:
        """An answer: a new topic (grade from the judgments) with a reply or two of background."""
        grade, title, body = answer
        tid = len(self.topics) + 1
        self.topics.append({"id": tid, "title": title, "status": "published", "created_at": when, "last_activity_at": when})
        filler = " ".join(self._words(self.rng.choice(self._names), self.rng.randint(10, 40)))
        self._post(tid, f"{body} {filler}", "published", when)
        self.planted.append(Planted(f"topic:{tid}", query, grade, old))
        cluster = self.rng.choice(self._names)
        self._post(tid, " ".join(self._words(cluster, self.rng.randint(15, 50))), "published", when + timedelta(hours=3))

    def _plant_hidden(self, query: str, answer: tuple[int, str, str], when: datetime) -> None:
        """A strong match that a moderator removes (or holds) after it was indexed: a topic and a reply."""
        _grade, title, body = answer
        tid = len(self.topics) + 1
        self.topics.append({"id": tid, "title": title + " (copy)", "status": "published", "created_at": when, "last_activity_at": when})
        self._post(tid, f"{body} {body}", "published", when)
        host = self.topics[self.rng.randrange(len(self.topics) - 1)]["id"]
        pid = self._post(host, f"{title}. {body} {body}", "published", when + timedelta(hours=1))
        status = "removed" if len(self.hidden) % 2 == 0 else "pending"
        self.hidden.append({"topic_id": tid, "post_id": pid, "query": query, "status": status})

    # ---- what the baselines index ---------------------------------------------------------

    def visible_documents(self) -> list[tuple[str, str, str, str]]:
        """(key, title, keywords, body) of every visible topic (title + opening post) and reply."""
        first: dict[int, dict] = {}
        for p in self.posts:
            first.setdefault(p["topic_id"], p)
        titles = {t["id"]: t["title"] for t in self.topics}
        shown = {t["id"] for t in self.topics if t["status"] == "published"}
        docs = []
        for p in self.posts:
            if p["status"] != "published" or p["topic_id"] not in shown:
                continue
            if first[p["topic_id"]] is p:
                docs.append((f"topic:{p['topic_id']}", titles[p["topic_id"]], "", p["body_source"]))
            else:
                docs.append((f"post:{p['id']}", "", "", p["body_source"]))
        return docs


def load(forum: Forum, engine) -> None:
    """Write the forum into the database in bulk (topics and posts tables)."""
    from ldnsite.forum.models import Post, Topic

    with engine.begin() as conn:
        for i in range(0, len(forum.topics), 5000):
            conn.execute(Topic.__table__.insert(), forum.topics[i : i + 5000])
        for i in range(0, len(forum.posts), 5000):
            conn.execute(Post.__table__.insert(), forum.posts[i : i + 5000])


def hide(forum: Forum, engine) -> None:
    """Moderators act after indexing, without the index hearing of it: the database check must hide these."""
    from sqlalchemy import update

    from ldnsite.forum.models import Post, Topic

    topics = {t["id"]: t for t in forum.topics}
    posts = {p["id"]: p for p in forum.posts}
    with engine.begin() as conn:
        for h in forum.hidden:
            conn.execute(update(Topic).where(Topic.id == h["topic_id"]).values(status=h["status"]))
            conn.execute(update(Post).where(Post.id == h["post_id"]).values(status=h["status"]))
            topics[h["topic_id"]]["status"] = posts[h["post_id"]]["status"] = h["status"]


def hidden_keys(forum: Forum) -> set[str]:
    return {f"topic:{h['topic_id']}" for h in forum.hidden} | {f"post:{h['post_id']}" for h in forum.hidden}
