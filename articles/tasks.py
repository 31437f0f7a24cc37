"""Background work: the slow per-article jobs the admin queues instead of doing them in a request.

Tasks run through django-tasks (the backport of Django 6's ``django.tasks``; README "Background
work"). With the default database backend, ``enqueue()`` writes a row in the caller's transaction
(so a rolled-back import queues nothing) and ``manage.py db_worker`` runs it; with
``TASKS_BACKEND=immediate`` (the tests) ``enqueue()`` runs the task at once.

Arguments and results are plain JSON (ids and counts), never model instances: a task may run
minutes later in another process, so each one loads its article again and does nothing if it is
gone. Every task can run twice without harm: ``fetch_image`` skips images already stored and
``extract_candidates`` replaces unreviewed candidates only.
"""

from django.db import transaction
from django_tasks import task

from articles import page_document
from articles.models import Article

REFRESH_BATCH_SIZE = 500


@task()
def download_images(article_id: int) -> dict:
    """Fetch, check and store one article's remote images, with their renditions."""
    from articles.importer.run import download_article_images

    article = Article.objects.filter(pk=article_id).first()
    if article is None:
        return {"article": article_id, "missing": True}
    with page_document.deferred_refresh():  # the article's document once, not once per image
        warnings = download_article_images(article)
    return {"article": article_id, "failed": len(warnings), "warnings": warnings}


@task()
def extract_figures(article_id: int) -> dict:
    """Extract one article's statistic figures as candidates (reviewed figures stay as they are)."""
    from articles.figure_review import extract_candidates

    with transaction.atomic(), page_document.deferred_refresh():
        article = Article.objects.select_for_update().filter(pk=article_id).first()
        if article is None:
            return {"article": article_id, "missing": True}
        result = extract_candidates(article)
    return {"article": article_id, "found": result.found, "created": result.created,
            "kept": result.kept + result.moved + result.stale}


@task()
def refresh_page_documents(article_ids: list[int], neighbours: bool = False) -> int:
    """Rebuild the page documents of a batch of articles (and have their new neighbours ranked again);
    returns how many were stored."""
    return page_document.refresh(article_ids, neighbours=neighbours)


def enqueue_images(article_ids) -> int:
    """Queue an image download per article; returns how many were queued."""
    ids = list(dict.fromkeys(article_ids))
    for pk in ids:
        download_images.enqueue(pk)
    return len(ids)


def enqueue_figure_extraction(article_ids) -> int:
    """Queue figure extraction per article; returns how many were queued."""
    ids = list(dict.fromkeys(article_ids))
    for pk in ids:
        extract_figures.enqueue(pk)
    return len(ids)


def enqueue_refresh(article_ids, *, neighbours=False, batch_size=REFRESH_BATCH_SIZE) -> int:
    """Queue page-document rebuilds in batches of ``batch_size`` ids; returns how many tasks were queued."""
    ids = sorted(set(article_ids))
    batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
    for batch in batches:
        refresh_page_documents.enqueue(batch, neighbours)
    return len(batches)
