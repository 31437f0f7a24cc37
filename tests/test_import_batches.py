"""Files saved in turn go in batches: several per transaction, a savepoint each, their first revisions recorded
together. Each file still saves whole or not at all, and what is saved is what one transaction per file saves."""

import re

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from articles.importer import run
from articles.importer.run import import_paths
from articles.models import Article, ArticleRevision
from articles.revisions import article_document
from bench.importing import vary_article

from .factories import SEED
from .test_import_parallel import VOLATILE, seed_copies

pytestmark = pytest.mark.django_db


def first_revisions():
    """``{file name: (number, document without ids and times)}`` of each article's revisions."""
    return {
        revision.article.source_filename: (revision.number, {k: v for k, v in revision.data.items() if k not in VOLATILE})
        for revision in ArticleRevision.objects.select_related("article")
    }


def articles_read(sql):
    """The ids of the articles whose figures ``sql`` reads (``article_id IN (...)``, or a range of them)."""
    if found := re.search(r'"article_id" IN \(([\d, ]+)\)', sql):
        return {int(pk) for pk in found[1].split(",")}
    if found := re.search(r'"article_id" >= (\d+) AND "articles_statisticfigure"."article_id" <= (\d+)', sql):
        return set(range(int(found[1]), int(found[2]) + 1))
    found = re.search(r'"article_id" = (\d+)', sql)
    return {int(found[1])} if found else set()


def test_a_batch_records_each_new_articles_document_as_its_first_revision_read_together(tmp_path):
    folder = seed_copies(tmp_path / "articles", range(1, 5))
    with CaptureQueriesContext(connection) as captured:
        report = import_paths([folder], publish=True)
    assert [r.status for r in report.results] == ["created"] * 4
    # The documents' figures (as each of their relations) read for the four articles at once, when the batch ends
    # (and by the page documents' refresh, at the end of the run), never article by article.
    reads = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")
             and 'FROM "articles_statisticfigure"' in q["sql"]]
    assert reads and all(articles_read(sql) == set(Article.objects.values_list("pk", flat=True)) for sql in reads), reads
    revisions = first_revisions()
    assert revisions == {
        a.source_filename: (1, {k: v for k, v in article_document(a).items() if k not in VOLATILE})
        for a in Article.objects.all()
    }
    assert all(document["figures"] and document["authors"] for _, document in revisions.values())


def test_a_batch_that_cannot_commit_is_saved_again_one_file_per_transaction(tmp_path, monkeypatch):
    folder = seed_copies(tmp_path / "articles", range(1, 4))
    (folder / "a_04.md").write_bytes(b"no front matter")
    real = run.record_first_revisions
    calls = []

    def fail_once(revisions):
        calls.append(len(revisions))
        if len(calls) == 1:
            raise DatabaseError("disk I/O error")
        return real(revisions)

    monkeypatch.setattr(run, "record_first_revisions", fail_once)
    report = import_paths([folder], publish=True)

    assert [(r.path.rsplit("/", 1)[-1], r.status) for r in report.results] == [
        ("a_01.md", "created"), ("a_02.md", "created"), ("a_03.md", "created"), ("a_04.md", "failed")]
    assert calls == [3]  # the batch's; then each file recorded its own revision in its own transaction
    assert sorted(first_revisions()) == ["a_01.md", "a_02.md", "a_03.md"]
    assert {number for number, _ in first_revisions().values()} == {1}


def recording_batches(monkeypatch):
    """The number of first revisions each batch recorded, and the error if it raised, as the batches come."""
    batches = []
    real = run.record_first_revisions

    def record(revisions):
        try:
            recorded = real(revisions)
        except DatabaseError as error:
            batches.append((len(revisions), type(error).__name__))
            raise
        batches.append((len(revisions), None))
        return recorded

    monkeypatch.setattr(run, "record_first_revisions", record)
    return batches


def test_a_file_updating_an_article_of_its_batch_starts_the_next_batch_so_revisions_stay_in_order(tmp_path,
                                                                                                   monkeypatch):
    batches = recording_batches(monkeypatch)
    seed = vary_article(SEED.read_text(encoding="utf-8"), 1)
    for folder, title in (("a", "第一版标题"), ("b", "第二版标题")):
        (tmp_path / folder).mkdir()
        # The same story (its ZAKER item id) under the same file name: the second one updates the first.
        (tmp_path / folder / "story.md").write_text(seed.replace("title: '", f"title: '{title}", 1), encoding="utf-8")

    report = import_paths([tmp_path / "a", tmp_path / "b"], publish=True)

    assert [r.status for r in report.results] == ["created", "updated"]
    article = Article.objects.get()
    assert article.title.startswith("第二版标题")
    revisions = list(article.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2]
    assert revisions[0].data["title"].startswith("第一版标题") and revisions[1].data["title"].startswith("第二版标题")
    # Two batches, neither saved again file by file: in one, the update's revision would have taken number 1.
    assert batches == [(1, None), (0, None)]


def test_a_batch_ends_after_batch_files(tmp_path, monkeypatch):
    monkeypatch.setattr(run, "BATCH_FILES", 2)
    folder = seed_copies(tmp_path / "articles", range(1, 6))
    batches = recording_batches(monkeypatch)
    report = import_paths([folder], publish=True)
    assert [r.status for r in report.results] == ["created"] * 5
    assert batches == [(2, None), (2, None), (1, None)]


@pytest.mark.django_db(transaction=True)  # the import's own transactions, and none around them
def test_pictures_are_downloaded_after_their_files_commit_never_inside_a_transaction(tmp_path, monkeypatch):
    folder = seed_copies(tmp_path / "articles", range(1, 4))
    downloads = []

    def fetch_image(image):
        downloads.append((image.remote_url, connection.in_atomic_block, Article.objects.count()))
        return True

    monkeypatch.setattr("articles.images.fetch_image", fetch_image)
    report = import_paths([folder], publish=True, download_images=True)
    assert [r.status for r in report.results] == ["created"] * 3
    assert downloads and not any(in_transaction for _, in_transaction, _ in downloads)
    # Each file's pictures once it is saved, before the next file is.
    assert sorted({count for _, _, count in downloads}) == [1, 2, 3]


def test_queued_picture_downloads_see_their_files_gallery(tmp_path, monkeypatch):
    """A download queued per file may run at once (TASKS_BACKEND=immediate, as here): the file's gallery is written
    before it, not held for the end of the batch."""
    folder = seed_copies(tmp_path / "articles", range(1, 4))
    fetched = []
    monkeypatch.setattr("articles.images.fetch_image", lambda image: fetched.append(image.remote_url) or True)
    report = import_paths([folder], publish=True, queue_images=True)
    assert [r.status for r in report.results] == ["created"] * 3
    assert all(r.images_queued for r in report.results)
    for article in Article.objects.all():
        assert article.gallery.exists()
        assert {placed.image.remote_url for placed in article.gallery.all()} <= set(fetched)


def test_an_updated_articles_rows_are_written_before_its_revision_reads_them(tmp_path):
    """An update records its revision at once, from what its file just wrote: its bylines, gallery and figures are
    not held for the end of the batch, as a new article's may be."""
    folder = seed_copies(tmp_path / "articles", [1])
    import_paths([folder], publish=True)
    path = folder / "a_01.md"
    path.write_text(path.read_text(encoding="utf-8").replace("重庆", "重庆市", 1), encoding="utf-8")

    report = import_paths([folder], publish=True)

    assert [r.status for r in report.results] == ["updated"]
    article = Article.objects.get()
    latest = article.revisions.order_by("-number").first()
    assert latest.number == 2
    document = {k: v for k, v in latest.data.items() if k not in VOLATILE}
    assert document == {k: v for k, v in article_document(article).items() if k not in VOLATILE}
    assert document["authors"] and document["images"] and document["figures"]
