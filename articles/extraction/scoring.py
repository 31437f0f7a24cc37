"""Score figure extraction against hand labels (tests/data/figures_gold.json).

A candidate matches a gold figure when ``value``, ``value_end``, ``unit`` and ``direction`` are
equal (values compared as decimals to 6 places) and the candidate's quote span overlaps the gold
quote span. Each gold figure takes at most one candidate, the one whose number lies closest to
(ideally inside) the gold quote. Gold figures marked ``optional`` are either-way items: matching
one is neither a hit nor a false positive, and missing one is not a miss.

Period, region and indicator are not part of a match; for matched pairs the scorer reports how
often they agree (indicator: equal, or one contains the other), as diagnostics.

Pure: no Django, no I/O except :func:`load_gold`.
"""

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from articles.extraction.figures import extract_figures

_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Miss:
    article: str  # slug
    kind: str  # "false_negative" | "false_positive"
    quote: str
    value: str
    value_end: str | None
    unit: str
    direction: str
    start: int
    note: str = ""  # what was extracted instead, or which not-figure rule it broke

    def __str__(self):
        end = f"..{self.value_end}" if self.value_end is not None else ""
        tag = "MISSED" if self.kind == "false_negative" else "EXTRA "
        note = f"  [{self.note}]" if self.note else ""
        figure = f"{self.value}{end} {self.unit} {self.direction}"
        return f"{tag} {self.article[:28]:28} @{self.start:<5} {figure}  «{self.quote}»{note}"


class _Rates:
    """Precision and recall from ``true_positives``, ``false_positives`` and ``false_negatives`` (1.0 when empty)."""

    @property
    def precision(self) -> float:
        n = self.true_positives + self.false_positives
        return self.true_positives / n if n else 1.0

    @property
    def recall(self) -> float:
        n = self.true_positives + self.false_negatives
        return self.true_positives / n if n else 1.0


@dataclass
class ArticleScore(_Rates):
    slug: str
    gold: int = 0  # non-optional gold figures
    candidates: int = 0
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    optional_matched: int = 0
    not_figure_hits: int = 0  # false positives whose number lies in a labelled not-figure span


@dataclass
class Score(_Rates):
    articles: list[ArticleScore] = field(default_factory=list)
    misses: list[Miss] = field(default_factory=list)
    agreement: dict[str, tuple[int, int]] = field(default_factory=dict)  # field -> (agree, of matched)

    def _sum(self, name):
        return sum(getattr(a, name) for a in self.articles)

    @property
    def true_positives(self):
        return self._sum("true_positives")

    @property
    def false_positives(self):
        return self._sum("false_positives")

    @property
    def false_negatives(self):
        return self._sum("false_negatives")

    def summary(self) -> str:
        parts = [
            f"precision {self.precision:.3f} ({self.true_positives}/{self.true_positives + self.false_positives})",
            f"recall {self.recall:.3f} ({self.true_positives}/{self.true_positives + self.false_negatives})",
        ]
        for name, (agree, total) in self.agreement.items():
            parts.append(f"{name} {agree}/{total}")
        return ", ".join(parts)

    def format_misses(self) -> str:
        return "\n".join(str(m) for m in self.misses)


def load_gold(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _dec(value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(_PLACES)
    except (InvalidOperation, ValueError):
        return None


def _same(gold: dict, cand) -> bool:
    return (
        _dec(gold["value"]) == _dec(cand.value)
        and _dec(gold.get("value_end")) == _dec(cand.value_end)
        and gold["unit"] == cand.unit
        and gold["direction"] == cand.direction
        and cand.start < gold["end"]
        and gold["start"] < cand.end
    )


def _distance(gold: dict, cand) -> int:
    """How far the candidate's number lies outside the gold quote (0 when inside)."""
    return max(0, gold["start"] - cand.number_start) + max(0, cand.number_end - gold["end"])


def _indicator_agrees(gold: str, got: str) -> bool:
    return bool(gold) and bool(got) and (gold in got or got in gold)


def region_refs(doc: dict, article: dict) -> tuple[list[dict], list[dict]]:
    """The article's regions and every region of the gold file, as dicts extract_figures accepts."""
    table = {r["slug"]: r for r in doc.get("regions", [])}
    return [table[s] for s in article.get("regions", []) if s in table], list(table.values())


def extract_for(doc: dict, article: dict, extract=extract_figures):
    own, known = region_refs(doc, article)
    return extract(
        article["body_text"],
        published_at=article.get("published_at"),
        regions=own,
        known_regions=known,
        data_sources=article.get("data_sources", ()),
    )


def score_article(article: dict, candidates) -> tuple[ArticleScore, list[Miss], dict[str, list[bool]]]:
    slug = article.get("slug", "?")
    golds = article.get("figures", [])
    negatives = article.get("not_figures", [])
    result = ArticleScore(slug=slug, gold=sum(1 for g in golds if not g.get("optional")), candidates=len(candidates))
    used: set[int] = set()
    matched: list[tuple[dict, object]] = []
    misses: list[Miss] = []
    # Required figures first, so an optional one never takes a candidate a required one needs.
    for gold in sorted(golds, key=lambda g: bool(g.get("optional"))):
        options = [(i, c) for i, c in enumerate(candidates) if i not in used and _same(gold, c)]
        if options:
            i, cand = min(options, key=lambda ic: (_distance(gold, ic[1]), abs(ic[1].number_start - gold["start"])))
            used.add(i)
            if gold.get("optional"):
                result.optional_matched += 1
            else:
                result.true_positives += 1
                matched.append((gold, cand))
            continue
        if gold.get("optional"):
            continue
        result.false_negatives += 1
        near = [c for c in candidates if c.start < gold["end"] and gold["start"] < c.end]
        near.sort(key=lambda c: _distance(gold, c))
        note = ""
        if near:
            c = near[0]
            end = f"..{c.value_end}" if c.value_end is not None else ""
            note = f"got {c.value}{end} {c.unit} {c.direction} from «{c.value_text}»"
        else:
            note = "nothing extracted here"
        misses.append(Miss(slug, "false_negative", gold["quote"], gold["value"], gold.get("value_end"), gold["unit"],
                           gold["direction"], gold["start"], note))
    for i, cand in enumerate(candidates):
        if i in used:
            continue
        result.false_positives += 1
        hit = next((n for n in negatives if cand.number_start < n["end"] and n["start"] < cand.number_end), None)
        note = f"labelled not a figure: {hit['kind']} «{hit['text']}»" if hit else ""
        if hit:
            result.not_figure_hits += 1
        misses.append(Miss(slug, "false_positive", cand.quote, str(cand.value),
                           None if cand.value_end is None else str(cand.value_end), cand.unit, cand.direction,
                           cand.start, note or f"from «{cand.value_text}»"))
    agreement = {
        "period": [g["period"] == c.period for g, c in matched],
        "region": [g["region"] == c.region for g, c in matched],
        "indicator": [_indicator_agrees(g["indicator"], c.indicator) for g, c in matched],
        "approximate": [bool(g["approximate"]) == bool(c.approximate) for g, c in matched],
    }
    misses.sort(key=lambda m: m.start)
    return result, misses, agreement


def score_gold(doc: dict, extract=extract_figures) -> Score:
    score = Score()
    agree: dict[str, list[bool]] = {}
    for article in doc.get("articles", []):
        candidates = extract_for(doc, article, extract)
        result, misses, agreement = score_article(article, candidates)
        score.articles.append(result)
        score.misses.extend(misses)
        for name, flags in agreement.items():
            agree.setdefault(name, []).extend(flags)
    score.agreement = {name: (sum(flags), len(flags)) for name, flags in agree.items()}
    return score
