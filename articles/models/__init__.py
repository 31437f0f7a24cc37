"""Newsroom's content model. Import models from here, never from a submodule.

Submodules depend one way: regions, sources, people first; then images, articles, figures.
"""

from .regions import Region
from .sources import Source
from .people import Author
from .images import Image
from .articles import Article, ArticleAuthor, ArticleImage, ArticleQuerySet
from .figures import StatisticFigure

__all__ = [
    "Article",
    "ArticleAuthor",
    "ArticleImage",
    "ArticleQuerySet",
    "Author",
    "Image",
    "Region",
    "Source",
    "StatisticFigure",
]
