"""German-aware text normalisation shared by the index and the queries of both search backends.

Words are lower-cased and reduced to their Snowball German stem, which also folds umlauts and ß
("Parkhäuser" and "parkhaeuser" -> "parkhaus", "Straße" -> "strass"); queries match by prefix, so
"Park" finds "Parkhausbelegung".
"""

from __future__ import annotations

import re
from functools import lru_cache

import snowballstemmer

_WORD = re.compile(r"[0-9A-Za-zÀ-ÖØ-öø-ÿß]+")
_stemmer = snowballstemmer.stemmer("german")


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    w = word.lower().replace("ß", "ss")
    stem: str = _stemmer.stemWord(w)
    return stem


def tokens(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text or "")]


def index_text(*parts: str) -> str:
    """The normalised text stored in the full-text index."""
    return " ".join(t for p in parts for t in tokens(p))


def query_terms(q: str) -> list[str]:
    """Stems of a search query, for prefix matching (duplicates removed, order kept)."""
    return list(dict.fromkeys(t for t in tokens(q) if t))
