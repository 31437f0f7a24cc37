"""import_articles --jobs N: files imported by worker processes, on PostgreSQL only."""

import re

import pytest
from django.db import connection

from articles.importer.parallel import parallel_import_error
from articles.models import Article, ArticleRevision, Source
from bench.importing import vary_article

from .factories import SEED
from .test_import_command import folder_of, import_command

POSTGRES = connection.vendor == "postgresql"
RESULT_LINE = re.compile(r"^\[\s*(\d+)/(\d+)\] (\w+)\s+(\S+)")


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


def test_jobs_are_refused_with_the_reason():
    assert parallel_import_error(1) == ""
    assert "between 1 and" in parallel_import_error(0)
    assert ("PostgreSQL" in parallel_import_error(2)) != POSTGRES


@pytest.mark.django_db
@pytest.mark.skipif(POSTGRES, reason="the refusal is SQLite's")
def test_jobs_on_sqlite_stop_before_importing_anything(tmp_path):
    out, _, error = import_command(folder_of(tmp_path, 3), jobs=2)
    assert "--jobs needs PostgreSQL: SQLite lets one writer in at a time" in str(error)
    assert not Article.objects.exists()


@pytest.mark.skipif(not POSTGRES, reason="--jobs needs PostgreSQL")
@pytest.mark.django_db(transaction=True)  # the workers are other processes: they see only what is committed
def test_jobs_import_each_file_once_and_report_in_order(tmp_path):
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
