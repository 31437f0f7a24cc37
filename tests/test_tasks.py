"""Background work (articles/tasks.py) through the real database queue and ``manage.py db_worker``.

The other tests run tasks at once (tests/conftest.py); these switch to django-tasks-db's backend,
enqueue from the admin as an editor would, check that nothing happened yet, then run the worker
in-process with ``--batch`` (it exits when the queue is empty) and look at the results.
"""

import io
import signal

import pytest
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from articles import page_document, tasks
from articles.importer.run import import_markdown_file
from articles.models import Article, Image, Region

from .factories import SEED, client_for, make_article, make_markdown
from .test_images import server  # noqa: F401  (the local HTTP server fixture)
from .test_import_images import BOX

# The worker commits its own transactions: the test database must hold committed rows.
pytestmark = pytest.mark.django_db(transaction=True)

FIGURE_BODY = "<p>2021 年，重庆市地区生产总值 2.79 万亿元。</p>"


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def run_worker():
    # --batch: run what is queued, then exit; --max-tasks bounds it should something re-queue forever.
    # The worker installs its own SIGINT and SIGTERM handlers, here in the test process: put pytest's back, or a
    # later Ctrl-C or SIGTERM to the test run would surface as the worker's SystemExit inside whichever test runs.
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0",
                     "--max-tasks", "100", verbosity=0)
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)


def statuses():
    return sorted(DBTaskResult.objects.values_list("status", flat=True))


def test_figure_extraction_action_queues_and_the_worker_extracts(database_tasks, admin_user):
    articles = [make_article(body=FIGURE_BODY) for _ in range(3)]
    response = client_for(admin_user).post(
        reverse("admin:articles_article_changelist"),
        {"action": "extract_figures_selected", "_selected_action": [a.pk for a in articles]}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "已将 3 篇文章的统计数字抽取加入后台队列，完成后新数字会出现在待核实列表中。"]
    assert statuses() == ["READY"] * 3
    assert all(a.figures.count() == 0 for a in articles)  # not done in the request

    run_worker()
    assert statuses() == ["SUCCESSFUL"] * 3
    assert [a.figures.count() for a in articles] == [1, 1, 1]
    result = DBTaskResult.objects.filter(args_kwargs__args=[articles[0].pk]).get()
    assert result.return_value == {"article": articles[0].pk, "found": 1, "created": 1, "kept": 0}

    # Running the same work again duplicates nothing.
    tasks.enqueue_figure_extraction([a.pk for a in articles])
    run_worker()
    assert [a.figures.count() for a in articles] == [1, 1, 1]


def test_admin_upload_queues_image_downloads_for_the_worker(database_tasks, admin_user, server):  # noqa: F811
    body = (BOX.format(url=f"{server}/photo.jpg") + "重庆两江新区的智能工厂<p></p>"
            "<p>重庆的制造业正在加快智能化改造，一批数字化车间和智能工厂相继建成投产，带动产业链整体升级。</p>"
            + BOX.format(url=f"{server}/missing.jpg") + "<p></p><p>港口码头，集装箱源源不断，西部陆海新通道越走越宽。</p>")
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("images.md", make_markdown(body=body).encode())
    response = client_for(admin_user).post(reverse("admin:articles_importrun_add"),
                                           {"files": [upload], "download_images": "on"}, follow=True)
    message = [str(m) for m in response.context["messages"]][0]
    assert "1 created" in message and "已将 1 篇文章的图片下载加入后台队列" in message
    article = Article.objects.get()
    assert {p.image.fetch_status for p in article.gallery.select_related("image")} == {Image.FetchStatus.REMOTE}

    run_worker()
    assert statuses() == ["SUCCESSFUL"]
    good, bad = [placement.image for placement in article.gallery.select_related("image")]
    assert good.fetch_status == Image.FetchStatus.FETCHED and (good.width, good.height) == (20, 40)
    assert good.renditions and all(r["file"] for r in good.renditions)
    assert bad.fetch_status == Image.FetchStatus.FAILED and "404" in bad.fetch_error
    assert DBTaskResult.objects.get().return_value["failed"] == 1


def test_upload_without_download_images_queues_nothing(database_tasks, admin_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client_for(admin_user).post(reverse("admin:articles_importrun_add"),
                                {"files": [SimpleUploadedFile("seed.md", SEED.read_bytes())]})
    assert Article.objects.count() == 1 and not DBTaskResult.objects.exists()


def test_enqueue_is_transactional(database_tasks):
    article = make_article(body=FIGURE_BODY)
    with pytest.raises(RuntimeError), transaction.atomic():
        tasks.extract_figures.enqueue(article.pk)
        raise RuntimeError("the request failed")
    assert not DBTaskResult.objects.exists()


def test_refresh_tasks_rebuild_page_documents_in_batches(database_tasks):
    seed = Article.objects.get(slug=import_markdown_file(SEED).slug)
    others = [make_article() for _ in range(4)]
    ids = [seed.pk] + [a.pk for a in others]
    Article.objects.filter(pk__in=ids).update(page_document={})
    assert tasks.enqueue_refresh(ids + [ids[0]], batch_size=2) == 3
    run_worker()
    assert statuses() == ["SUCCESSFUL"] * 3
    assert sorted(DBTaskResult.objects.values_list("return_value", flat=True)) == [1, 2, 2]
    assert not Article.objects.filter(pk__in=ids, page_document={}).exists()


def test_a_change_shown_on_many_pages_goes_to_the_worker(database_tasks, monkeypatch, client):
    """Renaming a region shown on more pages than INLINE_REFRESH_LIMIT: the save outdates their documents in
    one UPDATE and queues the rebuild; the pages show the new name at once (built live), the worker stores it."""
    monkeypatch.setattr(page_document, "INLINE_REFRESH_LIMIT", 2)
    region = Region.objects.create(name="万州区", kind=Region.Kind.COUNTY)
    articles = [make_article() for _ in range(3)]
    for article in articles:
        article.regions.add(region)  # one page each: rebuilt at once
    assert not DBTaskResult.objects.exists()

    region.name = "万州新区"
    region.save()
    stored = Article.objects.filter(pk__in=[a.pk for a in articles]).values_list("page_document", flat=True)
    assert list(stored) == [{}] * 3
    assert statuses() == ["READY"]
    assert "万州新区" in client.get(articles[0].get_absolute_url()).text

    run_worker()
    assert statuses() == ["SUCCESSFUL"]
    assert all("万州新区" in document["footer_html"] and document["version"] == page_document.version()
               for document in stored.all())


def test_migrate_queues_many_outdated_documents(database_tasks, monkeypatch):
    monkeypatch.setattr(page_document, "INLINE_REFRESH_LIMIT", 2)
    ids = [make_article().pk for _ in range(3)]
    Article.objects.filter(pk__in=ids).update(page_document={})
    out = io.StringIO()
    assert page_document.refresh_outdated(stdout=out) == 3
    assert "Queued the page documents of 3 articles (in 1 task(s)" in out.getvalue()
    assert Article.objects.filter(pk__in=ids, page_document={}).count() == 3
    run_worker()
    assert not Article.objects.filter(pk__in=ids, page_document={}).exists()


def test_a_deleted_article_is_skipped_not_failed(database_tasks):
    article = make_article(body=FIGURE_BODY)
    tasks.extract_figures.enqueue(article.pk)
    tasks.download_images.enqueue(article.pk)
    article.delete()
    run_worker()
    assert statuses() == ["SUCCESSFUL"] * 2


def test_immediate_backend_in_tests_runs_at_once():
    article = make_article(body=FIGURE_BODY)
    result = tasks.extract_figures.enqueue(article.pk)
    assert result.return_value["created"] == 1 and article.figures.count() == 1


def test_the_worker_run_in_the_test_process_leaves_its_signal_handlers_as_they_were(database_tasks):
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    run_worker()
    assert {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)} == before
