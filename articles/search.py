"""Chinese full-text search over published articles: ``search_articles()`` and ``highlight_snippet()``.

One function, two paths (as Wagtail's database search backends do):

- PostgreSQL: the query's terms become a ``tsquery`` over the jieba-segmented ``Article.search_text``
  (see ``articles/segment.py``): each term is a phrase of its ``cut_for_search`` sub-tokens
  (智能制造 -> ``'智能' <-> '制造'``), terms are ANDed. The match is written as exactly the
  expression of the GIN index from migration 0007, ``to_tsvector('simple'::regconfig, search_text)``,
  so PostgreSQL can use it; Django's ``SearchVector`` wraps the column in ``COALESCE`` and could not.
  Results are ranked by ``ts_rank`` plus a bonus per term found in the title. ``ts_rank`` is never 0
  (1e-20 for non-matches), so rows are filtered on the match, never on the rank.
- Any other database (SQLite in development and tests): every term must occur in the title or the
  plain-text body (``icontains``); the score, 5 x occurrences in the title + occurrences in the body,
  is computed in SQL (lengths before and after removing the term).

Both paths order by score, then newest first, search published articles only, and rank at most
``MAX_RESULTS`` hits in one query that returns keys and scores; articles and snippets are read
for the slice shown (``SearchResults``). Views, templates and the JSON API are left to their own modules.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

from django.db import connections
from django.db.models import BooleanField, Case, ExpressionWrapper, F, FloatField, Func, IntegerField, Q, Value, When
from django.db.models.functions import Length, Lower, Replace
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString

from articles.models import Article
from articles.segment import segment

MAX_QUERY_LENGTH = 100
MAX_RESULTS = 500
READ_CHUNK = 100  # articles read per query when all the results are iterated
SNIPPET_WIDTH = 120
TITLE_BONUS = 1.0  # PostgreSQL: per term found in the title; ts_rank itself stays well below 1
TITLE_WEIGHT = 5  # other databases: one occurrence in the title counts as five in the body
# Columns a result list never shows; the raw import file in particular can be large.
_HEAVY_FIELDS = ("body", "body_html", "raw_source", "search_text")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # PostgreSQL rejects NUL in text; none of them belongs in a query
_TERM = re.compile(r"[^\W_]+")  # runs of letters and digits (CJK included); everything else separates terms


@dataclass(frozen=True)
class SearchHit:
    article: Article
    score: float
    snippet_html: SafeString


def normalize_query(query: str) -> str:
    """The query as searched: control characters dropped, whitespace collapsed, at most 100 characters.

    Returns "" for an empty query and for one without a letter or digit (only punctuation).
    """
    query = " ".join(_CONTROL.sub(" ", query or "").split())[:MAX_QUERY_LENGTH].strip()
    return query if _TERM.search(query) else ""


def search_terms(query: str) -> list[str]:
    """The distinct terms of a query, in order, lower-cased: runs of letters and digits."""
    return list(dict.fromkeys(term.lower() for term in _TERM.findall(normalize_query(query))))


def search_articles(query: str, queryset=None) -> "SearchResults":
    """Published articles matching every term of ``query``, best first, each with a highlighted snippet.

    ``queryset`` narrows the search (e.g. the JSON API's filters); it is always restricted to
    published articles. Returns an empty sequence for an empty or punctuation-only query.

    The ranking is one query that returns keys and scores only (at most ``MAX_RESULTS``); the
    articles are read when a slice of the results is taken (a page of 20: one more query), with
    ``for_listing()``'s related rows and without their heavy text columns, and only their snippets
    are built. A common word matching every article costs its ranking, not 500 articles' text.
    """
    return SearchResults(ranked_keys(query, queryset), search_terms(query))


def ranked_keys(query: str, queryset=None) -> list[tuple[int, float]]:
    """``(pk, score)`` of the published articles matching every term of ``query``, best first (then newest),
    at most ``MAX_RESULTS``: one query."""
    terms = search_terms(query)
    if not terms:
        return []
    queryset = (Article.objects.all() if queryset is None else queryset).published()
    if connections[queryset.db].vendor == "postgresql":
        return _rank_postgresql(queryset, terms)
    return _rank_by_substring(queryset, terms)


class SearchResults(Sequence):
    """The hits of a search, best first: its length is known from the ranking, its articles are read per slice."""

    def __init__(self, keys, terms):
        self.keys, self.terms = keys, terms

    def __len__(self):
        return len(self.keys)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return self._hits(self.keys[index])
        return self._hits([self.keys[index]])[0]

    def __eq__(self, other):
        return list(self) == list(other) if isinstance(other, (list, SearchResults)) else NotImplemented

    def __iter__(self):
        for start in range(0, len(self.keys), READ_CHUNK):
            yield from self[start : start + READ_CHUNK]

    def _hits(self, keys):
        articles = Article.objects.for_listing().defer(*_HEAVY_FIELDS).in_bulk([pk for pk, _ in keys])
        return [SearchHit(articles[pk], score, highlight_snippet(articles[pk].body_text, self.terms))
                for pk, score in keys if pk in articles]


class _SimpleVector(Func):
    # Exactly the indexed expression (migration 0007): no COALESCE, explicit configuration.
    template = "to_tsvector('simple'::regconfig, %(expressions)s)"


class _SimpleQuery(Func):
    template = "to_tsquery('simple'::regconfig, %(expressions)s)"


class _Matches(Func):
    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


def to_tsquery_text(terms: list[str]) -> str:
    """``to_tsquery`` input for ``terms``: each term a phrase of its jieba sub-tokens, terms ANDed.

    Every token is quoted (quotes doubled, backslashes escaped), so the user's text is never
    parsed as tsquery operators; the result is passed to the database as a parameter.
    """
    phrases = []
    for term in terms:
        tokens = segment(term).split()
        if tokens:
            quoted = ("'" + token.replace("\\", "\\\\").replace("'", "''") + "'" for token in tokens)
            phrases.append("(" + " <-> ".join(quoted) + ")")
    return " & ".join(phrases)


def _rank_postgresql(queryset, terms):
    tsquery_text = to_tsquery_text(terms)
    if not tsquery_text:
        return []
    vector, tsquery = _SimpleVector(F("search_text")), _SimpleQuery(Value(tsquery_text))
    title_bonus = reduce(
        lambda total, bonus: total + bonus,
        (Case(When(title__icontains=term, then=Value(TITLE_BONUS)), default=Value(0.0)) for term in terms),
    )
    rank = Func(vector, tsquery, function="ts_rank", output_field=FloatField())
    return list(
        queryset.filter(_Matches(vector, tsquery))
        .annotate(search_score=rank + title_bonus)
        .order_by("-search_score", F("published_at").desc(nulls_last=True), "-pk")
        .values_list("pk", "search_score")[:MAX_RESULTS]
    )


def _occurrences(field, term):
    """How many times ``term`` (lower case) occurs in ``field``, lower-cased, in SQL."""
    return (Length(field) - Length(Replace(Lower(field), Value(term), Value("")))) / len(term)


def _rank_by_substring(queryset, terms):
    condition = reduce(lambda q, term: q & (Q(title__icontains=term) | Q(body_text__icontains=term)), terms, Q())
    score = reduce(
        lambda total, part: total + part,
        (TITLE_WEIGHT * _occurrences("title", term) + _occurrences("body_text", term) for term in terms),
    )
    return [
        (pk, float(value))
        for pk, value in queryset.filter(condition)
        .annotate(search_score=ExpressionWrapper(score, output_field=IntegerField()))
        .order_by("-search_score", F("published_at").desc(nulls_last=True), "-pk")
        .values_list("pk", "search_score")[:MAX_RESULTS]
    ]


def highlight_snippet(text: str, terms, *, width: int = SNIPPET_WIDTH) -> SafeString:
    """About ``width`` characters of ``text`` around the first occurrence of any term, HTML-escaped.

    Every occurrence of every term in the window is wrapped in ``<mark>``; ``…`` marks a cut end.
    When no term occurs, the first ``width`` characters.
    """
    text = " ".join((text or "").split())
    terms = sorted({term for term in terms if term}, key=len, reverse=True)  # longest first: 智能制造 before 智能
    pattern = re.compile("|".join(map(re.escape, terms)), re.IGNORECASE) if terms else None
    first = pattern.search(text) if pattern else None
    start = 0
    if first:
        start = max(0, first.start() - max(0, width - len(first.group())) // 3)
    end = min(len(text), start + width)
    start = max(0, end - width)
    window = text[start:end]

    pieces = ["…" if start > 0 else ""]
    position = 0
    for match in pattern.finditer(window) if pattern else ():
        pieces.append(conditional_escape(window[position : match.start()]))
        pieces.append(format_html("<mark>{}</mark>", match.group()))
        position = match.end()
    pieces.append(conditional_escape(window[position:]))
    pieces.append("…" if end < len(text) else "")
    return format_html("".join("{}" for _ in pieces), *pieces)
