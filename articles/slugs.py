"""Readable ASCII slugs for Chinese names: pinyin, joined by hyphens.

推动高质量发展 -> tui-dong-gao-zhi-liang-fa-zhan. Used for articles, authors, sources and
regions; tags keep taggit's own unicode slugs (重庆 -> 重庆).
"""

import re

from django.utils.text import slugify
from pypinyin import lazy_pinyin


def pinyin_slug(text: str, *, max_length: int = 80) -> str:
    """Return an ASCII slug for ``text`` (may be empty if the text has no letters)."""
    words = lazy_pinyin((text or "").replace("_", " "), errors="default")
    slug = slugify(" ".join(words)).replace("_", "-")
    slug = re.sub(r"-{2,}", "-", slug).strip("-")
    if len(slug) > max_length:
        # Cut at a syllable boundary, never inside one.
        slug = slug[: max_length + 1].rsplit("-", 1)[0]
    return slug.strip("-")


def unique_slug(model, text: str, *, max_length: int = 80, exclude_pk=None, fallback="item") -> str:
    """Return a pinyin slug for ``text`` that no other row of ``model`` uses (-2, -3, ...)."""
    base = pinyin_slug(text, max_length=max_length - 4) or fallback
    slug, n = base, 2
    qs = model._default_manager.all()
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    while qs.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug
