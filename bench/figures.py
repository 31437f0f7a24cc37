"""Figure extraction accuracy: precision and recall on the hand-labelled articles, and every miss.

    python -m bench.figures [--gold tests/data/figures_gold.json] [--no-misses]

Scores ``articles.extraction.figures.extract_figures`` against ``tests/data/figures_gold.json``
with ``articles.extraction.scoring`` (a match: same value, value_end, unit and direction, and an
overlapping quote). Prints one line per article, the totals (with held-out articles apart: they
were labelled after the rules were written), how often period, region, indicator and the
approximate flag agree on matched figures, the time per article, and then each miss: MISSED
(a labelled figure not found) and EXTRA (a candidate that matches no label; the note says when
it hit a labelled not-figure). Pure Python: no database, no Django settings.

A measurement, not a test: exits 0 whatever the numbers (tests/test_figure_extraction.py holds
the 0.95 targets).
"""

import argparse
import sys
import time
from pathlib import Path

from articles.extraction.figures import extract_figures
from articles.extraction.scoring import ArticleScore, load_gold, score_gold

GOLD = Path(__file__).resolve().parent.parent / "tests" / "data" / "figures_gold.json"


def _line(name: str, a: ArticleScore) -> str:
    return (
        f"{name[:44]:44} {a.gold:4} {a.candidates:5} {a.true_positives:4} {a.false_positives:4} {a.false_negatives:4}"
        f"  P {a.precision:.3f}  R {a.recall:.3f}"
    )


def _total(name: str, scores: list[ArticleScore]) -> ArticleScore:
    total = ArticleScore(slug=name)
    for a in scores:
        for field in ("gold", "candidates", "true_positives", "false_positives", "false_negatives", "optional_matched",
                      "not_figure_hits"):
            setattr(total, field, getattr(total, field) + getattr(a, field))
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", default=str(GOLD))
    parser.add_argument("--no-misses", action="store_true", help="Print the scores only.")
    args = parser.parse_args(argv)

    doc = load_gold(args.gold)
    started = time.perf_counter()
    score = score_gold(doc, extract_figures)
    elapsed = time.perf_counter() - started
    held_out = {a["slug"] for a in doc["articles"] if a.get("held_out")}

    print("Figure extraction on", args.gold)
    print(f"{'article':44} {'gold':>4} {'cands':>5} {'hit':>4} {'extra':>4} {'miss':>4}")
    for a in score.articles:
        print(_line(a.slug + (" (held out)" if a.slug in held_out else ""), a))
    developed = [a for a in score.articles if a.slug not in held_out]
    apart = [a for a in score.articles if a.slug in held_out]
    print(_line("TOTAL", _total("TOTAL", score.articles)))
    if apart:
        print(_line("  labelled first, rules developed on them", _total("", developed)))
        print(_line("  held out (labelled after the rules)", _total("", apart)))
    optional = sum(a.optional_matched for a in score.articles)
    negatives = sum(a.not_figure_hits for a in score.articles)
    print(f"optional labels matched (not counted): {optional}; extras on labelled not-figures: {negatives}")
    agreement = ", ".join(f"{name} {agree}/{total}" for name, (agree, total) in score.agreement.items())
    print(f"on matched figures: {agreement}")
    n = len(score.articles) or 1
    per_article = elapsed / n * 1000
    print(f"time: {elapsed:.3f} s for {len(score.articles)} articles ({per_article:.1f} ms each; the first call imports cn2an)")
    print(score.summary())
    if not args.no_misses and score.misses:
        print(f"\n{len(score.misses)} misses:")
        print(score.format_misses())
    return 0



if __name__ == "__main__":
    sys.exit(main())
