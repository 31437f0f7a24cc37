"""Previews of unpublished articles: staff-only, or through a signed link that expires.

The link carries the article id signed with SECRET_KEY and a timestamp
(``django.core.signing.TimestampSigner``); it stops working after
``NEWSROOM_PREVIEW_MAX_AGE`` seconds (two days by default) or when SECRET_KEY changes.
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "articles.preview"


def max_age() -> int:
    return settings.NEWSROOM_PREVIEW_MAX_AGE


def preview_token(article) -> str:
    return signing.TimestampSigner(salt=SALT).sign(str(article.pk))


def signed_preview_url(article) -> str:
    return reverse("articles:signed_preview", args=[preview_token(article)])


def article_id_from_token(token: str) -> int | None:
    """The article id in a valid, unexpired token; None otherwise."""
    try:
        return int(signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age()))
    except (signing.BadSignature, ValueError):
        return None
