"""Find which regions a text talks about. Pure: takes names, returns counts."""

import re
from collections import Counter


def build_matcher(names_to_key: dict[str, object]):
    """Compile one longest-first alternation over every name (two characters or more)."""
    names = sorted((n for n in names_to_key if n and len(n) >= 2), key=len, reverse=True)
    if not names:
        return None
    return re.compile("|".join(re.escape(n) for n in names))


def count_mentions(text: str, matcher, names_to_key: dict[str, object]) -> Counter:
    """Count mentions per key; a longer name wins over a shorter one inside it (重庆市 over 重庆)."""
    counts = Counter()
    if matcher is None or not text:
        return counts
    for match in matcher.finditer(text):
        counts[names_to_key[match.group(0)]] += 1
    return counts
