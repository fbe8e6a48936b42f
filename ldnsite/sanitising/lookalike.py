"""Invisible characters and look-alike spellings in names and titles.

Why: a title with a right-to-left override (U+202E) reads backwards, a
zero-width space splits a word so filters miss it, and a display name such as
"Αdmin" (Greek capital alpha) or "M0derator" passes for staff. Invisible
characters are stripped; names are compared through a "skeleton" that maps
look-alike letters and digits to one Latin letter, as Unicode TR39 does for
confusables, with a table limited to the scripts and swaps people use.
"""

from __future__ import annotations

import re
import unicodedata

# Format characters (Cf: bidi embeddings and overrides, zero-width space/joiners,
# word joiner, BOM) and controls (Cc) are never wanted in a title or a name.
_INVISIBLE_CATEGORIES = {"Cf", "Cc", "Co", "Cs"}

# Latin look-alikes from Greek and Cyrillic, and the usual digit and symbol swaps.
_SKELETON = str.maketrans(
    {
        # Greek (lower case: the text is case-folded first)
        "α": "a",
        "β": "b",
        "ε": "e",
        "η": "n",
        "ι": "i",
        "κ": "k",
        "ν": "v",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "u",
        "χ": "x",
        "γ": "y",
        "μ": "u",
        "ω": "w",
        "σ": "o",
        "ς": "s",
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "ё": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "і": "i",
        "ї": "i",
        "ј": "j",
        "ѕ": "s",
        "ԁ": "d",
        "ɡ": "g",
        "ո": "n",
        "ս": "u",
        # digits and symbols standing in for letters
        "0": "o",
        "1": "i",
        "l": "i",
        "|": "i",
        "!": "i",
        "3": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "8": "b",
        "9": "g",
        "6": "b",
        "2": "z",
    }
)

# Words only staff may use in a name, and the site's own name (all as skeletons).
RESERVED_WORDS = (
    "moderator",
    "moderators",
    "mod",
    "mods",
    "admin",
    "admins",
    "administrator",
    "staff",
    "team",
    "official",
    "support",
    "ldnguide",
)
# Long enough to be refused inside a run of letters too ("SiteAdmin", "ModeratorTeam").
_EMBEDDED = ("moderator", "admin", "official", "ldnguide")


def strip_invisible(text: str | None) -> str | None:
    """Remove bidi overrides, zero-width and control characters; keep newlines and tabs of a body."""
    if not isinstance(text, str):
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


def one_line(text: str | None) -> str | None:
    """A title or a name on one line: invisible characters removed, each run of white space one space, trimmed."""
    text = strip_invisible(text)
    return " ".join(text.split()) if isinstance(text, str) else text


def skeleton(text: str) -> str:
    """Lower-case Latin letters and spaces that a look-alike spelling shares with the original."""
    decomposed = unicodedata.normalize("NFKD", strip_invisible(text) or "")
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    folded = folded.replace("rn", "m").replace("vv", "w")
    mapped = folded.translate(_SKELETON)
    return " ".join(re.split(r"[^a-z]+", mapped)).strip()


def _squash(word: str) -> str:
    """Doubled letters count once: "Adddmin" is "admin"."""
    return re.sub(r"(.)\1+", r"\1", word)


_RESERVED = {_squash(skeleton(w)) for w in RESERVED_WORDS}
_SITE = _squash(skeleton("ldnguide"))
_RESERVED_EMBEDDED = {_squash(skeleton(w)) for w in _EMBEDDED}


def impersonates_staff(name: str) -> bool:
    """True when the name reads as a staff word or the site's name, however it is spelt."""
    words = [_squash(w) for w in skeleton(name).split()]
    joined = "".join(words)
    if joined in _RESERVED or any(w in _RESERVED for w in words) or _SITE in joined:
        return True
    return any(w.startswith(r) or w.endswith(r) for w in words for r in _RESERVED_EMBEDDED)
