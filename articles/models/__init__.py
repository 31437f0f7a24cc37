"""Newsroom's content model. Import models from here, never from a submodule.

Submodules depend one way: regions, sources, people first; then images, articles, figures, withdrawals.
"""

from .articles import Article, ArticleAuthor, ArticleImage, ArticleQuerySet, TrashedArticle
from .figures import FigureChange, Indicator, StatisticFigure
from .images import Image
from .imports import ImportRun
from .people import Author
from .regions import Region
from .revisions import ArticleRevision
from .sources import Source
from .withdrawals import Withdrawal

__all__ = [
    "Article",
    "ArticleAuthor",
    "ArticleImage",
    "ArticleQuerySet",
    "ArticleRevision",
    "Author",
    "FigureChange",
    "Image",
    "ImportRun",
    "Indicator",
    "Region",
    "Source",
    "StatisticFigure",
    "TrashedArticle",
    "Withdrawal",
]
