"""Crisis support: does a post or report suggest that someone may be at risk?

Why a maintained phrase list (data/crisis_phrases.txt) and not a classifier:
moderators can read, change and review it, every match is explainable, and a
false alarm costs little (the writer sees support numbers, a moderator looks
first), while a miss can cost a life. Matching is on whole words after
folding case, apostrophes, spacing and invisible characters, so "End  my
LIFE" and "don’t want to live" match but "skill myself" and "lifelong" do not.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from ldnsite.sanitising.lookalike import strip_invisible

PHRASES_FILE = Path(__file__).with_name("data") / "crisis_phrases.txt"

# What a writer who may be at risk is shown at once (also on the rules page and the safety panel).
SUPPORT_LINES = (
    "Samaritans, free, day or night: call 116 123 (UK and Ireland).",
    "In an emergency, or if a life is in danger: call 999.",
    "For urgent medical help that is not an emergency: call NHS 111.",
    "Outside the UK, call your local emergency number.",
)


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces; apostrophes kept straight, other punctuation dropped."""
    text = re.sub("[\u200b\u200c\u200d\u2060\ufeff\u00ad]", " ", text or "")  # a hidden break still splits words
    text = unicodedata.normalize("NFKC", strip_invisible(text) or "").casefold()
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = re.sub(r"[^\w']+", " ", text)
    return " ".join(text.split())


def load_phrases(path: Path = PHRASES_FILE) -> tuple[str, ...]:
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return tuple(normalise(line) for line in lines if line and not line.startswith("#"))


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    alternatives = sorted({re.escape(p) for p in load_phrases() if p}, key=len, reverse=True)
    return re.compile(r"(?<![\w'])(?:" + "|".join(alternatives) + r")(?![\w'])")


def matching_phrase(*texts: str | None) -> str | None:
    """The first crisis phrase found in any of the texts, or None."""
    pattern = _pattern()
    for text in texts:
        if text:
            found = pattern.search(normalise(text))
            if found:
                return found.group(0)
    return None


def suggests_risk(*texts: str | None) -> bool:
    return matching_phrase(*texts) is not None
