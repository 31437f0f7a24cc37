"""An article's gallery: adding uploaded pictures, ordering them, choosing the lead image.

Checking and storing the files (and their renditions) is ``articles.images``' job; these functions
only place the stored ``Image`` rows on ``ArticleImage`` and ``Article.lead_image``.
"""

import logging

from django.db import transaction
from django.db.models import Max

from articles.images import ImageRejected, store_uploaded_image
from articles.models import Article, ArticleImage, Image
from articles.sync import shown_rows_written

logger = logging.getLogger(__name__)


def add_images(article: Article, uploaded_files, *, user=None) -> tuple[list[Image], list[str]]:
    """Store each uploaded file and append it to the gallery, after the current last image.

    Returns (images added, one reason per rejected file). A rejected file stores nothing and does
    not stop the others. The first added image becomes the lead image if the article has none.
    """
    images, errors = [], []
    last = article.gallery.aggregate(last=Max("order"))["last"]
    order = 0 if last is None else last + 1
    for uploaded in uploaded_files:
        try:
            with transaction.atomic():
                image = store_uploaded_image(uploaded)
                ArticleImage.objects.create(article=article, image=image, order=order)
        except ImageRejected as exc:
            errors.append(str(exc))
            continue
        images.append(image)
        order += 1
    if images and article.lead_image_id is None:
        set_lead_image(article, images[0])
    if images or errors:
        logger.info("%s uploaded %d image(s) to article %s; %d rejected", user or "-", len(images), article.pk, len(errors))
    return images, errors


def reorder(article: Article, image_ids_in_order) -> list[ArticleImage]:
    """Number the gallery 0..n in the given order of image ids; images not listed keep their order, after them.

    Raises ValueError for an id that is not in the gallery or appears twice. Returns the placements in order.
    """
    placements = list(article.gallery.order_by("order", "pk"))
    by_image = {placement.image_id: placement for placement in placements}
    ids = [int(image_id) for image_id in image_ids_in_order]
    if unknown := [image_id for image_id in ids if image_id not in by_image]:
        raise ValueError(f"图片 {unknown} 不在这篇文章的图集中")
    if len(set(ids)) != len(ids):
        raise ValueError(f"图片顺序中有重复：{ids}")
    ordered = [by_image[image_id] for image_id in ids] + [p for p in placements if p.image_id not in set(ids)]
    changed = []
    for order, placement in enumerate(ordered):
        if placement.order != order:
            placement.order = order
            changed.append(placement)
    ArticleImage.objects.bulk_update(changed, ["order"])
    if changed:
        shown_rows_written([article.pk])  # bulk_update sends no signals
    return ordered


def set_lead_image(article: Article, image: Image | None) -> None:
    """Make ``image`` the article's lead image (None: no lead). It must be in the article's gallery, else ValueError."""
    if image is not None and not article.gallery.filter(image=image).exists():
        raise ValueError(f"图片 {image.pk} 不在这篇文章的图集中，不能设为题图")
    article.lead_image = image
    article.save(update_fields=["lead_image", "updated_at"])
