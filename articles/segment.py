"""Chinese word segmentation for search, with jieba: 智能制造 -> "智能 制造 智能制造".

PostgreSQL's parser does not split Chinese into words, so articles store a segmented copy
of their text (``Article.search_text``) that a ``simple`` tsvector can index; queries are
segmented the same way. jieba builds its dictionary on the first call (about 0.5-1 s per
process), so it is loaded lazily and only once.
"""

import logging
import re
from functools import lru_cache

_WORD = re.compile(r"[\w\u4e00-\u9fff]+")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def segment(text: str) -> str:
    """Space-separated search tokens of ``text`` (words and their sub-words), lower-cased, no punctuation."""
    if not text:
        return ""
    tokens = (token.strip().lower() for token in _jieba().cut_for_search(text))
    return " ".join(token for token in tokens if token and _WORD.fullmatch(token))


def query_terms(query: str) -> list[str]:
    """The distinct search terms of a user's query, in order (jieba's precise mode, no sub-words)."""
    if not query:
        return []
    tokens = (token.strip().lower() for token in _jieba().cut(query))
    return list(dict.fromkeys(token for token in tokens if token and _WORD.fullmatch(token)))
