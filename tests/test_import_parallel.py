"""import_articles --jobs N: worker processes import whole files (PostgreSQL) or prepare them for this process to save
(SQLite); either way what one process would save, reported in the files' order."""

import gc
import re

import pytest
from django.db import connection

from articles.figure_review import ExtractionContext
from articles.importer import parallel
from articles.importer.parallel import parallel_import_error
from articles.importer.run import prepare_markdown
from articles.models import Article, ArticleRevision, Source
from articles.revisions import article_document
from bench.importing import vary_article

from .factories import SEED
from .test_import_command import import_command, interrupt_at

POSTGRES = connection.vendor == "postgresql"
RESULT_LINE = re.compile(r"^\[\s*(\d+)/(\d+)\] (\w+)\s+(\S+)")
# What differs between two imports of the same files: the rows' ids and when they were written.
VOLATILE = {"id", "created_at", "updated_at", "imported_at"}


def seed_copies(folder, numbers):
    """Distinct copies of the seed article (its bylines, images, regions and figures), a_<number>.md."""
    folder.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    for number in numbers:
        (folder / f"a_{number:02d}.md").write_text(vary_article(seed, number), encoding="utf-8")
    return folder


def results_of(output):
    """``[(number, status, file name)]`` of the command's result lines."""
    return [(int(m[1]), m[3], m[4].rsplit("/", 1)[-1].rstrip(":")) for m in map(RESULT_LINE.match, output.splitlines()) if m]


def documents():
    """``{file name: full export document without ids and times}`` of every article."""
    return {
        article.source_filename: {k: v for k, v in article_document(article).items() if k not in VOLATILE}
        for article in Article.objects.all()
    }


def test_jobs_out_of_range_are_refused_with_the_reason():
    assert parallel_import_error(1) == parallel_import_error(32) == ""
    assert "between 1 and 32" in parallel_import_error(0)
    assert "between 1 and 32" in parallel_import_error(33)


@pytest.mark.django_db
def test_preparing_a_file_never_touches_the_database(django_assert_num_queries):
    context = ExtractionContext.load()
    with django_assert_num_queries(0):
        prepared = prepare_markdown(SEED.read_bytes(), SEED.name, context=context)
    assert prepared.figures and prepared.regions and prepared.source_names
    assert prepared.text["search_text"] and prepared.text["body_html"].startswith("<")


def _holds_a_connection():
    from django.db import connections

    return [alias for alias in connections if connections[alias].connection is not None]


@pytest.mark.django_db
def test_workers_that_only_prepare_hold_none_of_this_process_connections():
    connection.ensure_connection()
    pool = parallel._pool(1, ExtractionContext.load)  # started as the SQLite pipeline starts them (forked, here)
    try:
        assert pool.submit(_holds_a_connection).result() == []
        # What it loaded to start is frozen for its garbage collector (this process froze nothing here).
        assert pool.submit(gc.get_freeze_count).result() > 10_000
    finally:
        pool.shutdown()


@pytest.mark.skipif(POSTGRES, reason="the workers save only on PostgreSQL: they are started fresh, nothing forked")
@pytest.mark.django_db
def test_what_the_workers_inherit_is_frozen_for_the_collector_while_they_run(tmp_path, monkeypatch):
    frozen = []
    real = parallel._prepared_ahead

    def prepared_ahead(*args, **kwargs):
        for item in real(*args, **kwargs):
            frozen.append(gc.get_freeze_count())
            yield item

    monkeypatch.setattr(parallel, "_prepared_ahead", prepared_ahead)
    out, _, _ = import_command(seed_copies(tmp_path / "articles", range(1, 3)), publish=True, jobs=2)
    assert [status for _, status, _ in results_of(out)] == ["created", "created"]
    assert len(frozen) == 2 and min(frozen) > 10_000  # Django and the app, loaded before the workers forked
    assert gc.get_freeze_count() == 0  # and back to the collector afterwards


@pytest.mark.django_db(transaction=True)  # on PostgreSQL the workers save: they see only what is committed
def test_jobs_save_what_one_process_saves_and_report_in_order(tmp_path):
    folder = seed_copies(tmp_path / "articles", range(1, 7))
    (folder / "a_07.md").write_bytes(b"no front matter")
    (folder / "a_08.md").write_bytes((folder / "a_01.md").read_bytes())  # prepared before a_01.md is saved

    out, _, error = import_command(folder, publish=True, jobs=2, verbosity=2)

    expected = [(n, "created", f"a_{n:02d}.md") for n in range(1, 7)] + [(7, "failed", "a_07.md"),
                                                                        (8, "unchanged", "a_08.md")]
    assert results_of(out) == expected, out
    assert "1 file(s) failed" in str(error)
    assert ArticleRevision.objects.count() == 6
    # The page documents were rebuilt once, at the end of the run, as without --jobs.
    assert all(a.page_document.get("header_html") for a in Article.objects.all())
    in_workers = documents()
    assert len(in_workers) == 6 and all(d["figures"] and d["authors"] and d["images"] for d in in_workers.values())

    Article.objects.all().delete()
    out, _, error = import_command(folder, publish=True, verbosity=2)
    assert results_of(out) == expected, out
    assert documents() == in_workers

    out, _, error = import_command(folder, publish=True, jobs=2)
    assert "7 unchanged" in out and "1 failed" in out


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="on PostgreSQL the workers save the files: the interruption is raised here")
def test_interrupted_jobs_roll_back_the_file_being_saved_and_resume(tmp_path, monkeypatch):
    folder = seed_copies(tmp_path / "articles", range(1, 7))
    interrupt_at(monkeypatch, "a_04.md")
    out, _, error = import_command(folder, jobs=2, verbosity=2, no_progress=True)

    assert error is not None and error.returncode == 130
    assert out.splitlines()[-1] == "3 file(s): 3 created"
    assert sorted(Article.objects.values_list("source_filename", flat=True)) == ["a_01.md", "a_02.md", "a_03.md"]

    monkeypatch.undo()
    out, _, error = import_command(folder, jobs=2)
    assert error is None and out.splitlines()[-1] == "6 file(s): 3 created, 3 unchanged (3 already imported)"
    assert Article.objects.count() == ArticleRevision.objects.count() == 6


@pytest.mark.skipif(not POSTGRES, reason="the workers save only on PostgreSQL")
@pytest.mark.django_db(transaction=True)  # the workers are other processes: they see only what is committed
def test_workers_saving_at_once_import_each_file_whole(tmp_path):
    folder = seed_copies(tmp_path / "articles", range(1, 7))
    (folder / "a_07.md").write_bytes(b"no front matter")
    # Every source (publisher, syndicator, data sources) and author is new, to both workers at once: they race to
    # create the same rows, and each file must still be imported whole (get_or_create, else one more attempt).
    Source.objects.all().delete()

    out, _, error = import_command(folder, publish=True, jobs=2, verbosity=2)

    assert results_of(out) == [(n, "created", f"a_{n:02d}.md") for n in range(1, 7)] + [(7, "failed", "a_07.md")], out
    assert "1 file(s) failed" in str(error)
    articles = list(Article.objects.order_by("source_filename"))
    assert [a.source_filename for a in articles] == [f"a_{n:02d}.md" for n in range(1, 7)]
    assert {a.status for a in articles} == {Article.Status.PUBLISHED}
    assert ArticleRevision.objects.filter(article__in=articles).count() == 6
    # The parent rebuilt every page document once, from what the workers saved.
    assert all(a.page_document.get("header_html") for a in articles)

    # The same as importing a copy in this process, one file after the other.
    import_command(seed_copies(tmp_path / "one", [99]), publish=True)
    alone = Article.objects.exclude(pk__in=[a.pk for a in articles]).get()
    for article in articles:
        assert article.figures.count() == alone.figures.count() > 0
        assert article.bylines.count() == alone.bylines.count() > 0
        assert article.gallery.count() == alone.gallery.count() > 0
        assert sorted(article.tags.names()) == sorted(alone.tags.names())

    out, _, error = import_command(folder, publish=True, jobs=2)
    assert "6 unchanged" in out and "1 failed" in out
