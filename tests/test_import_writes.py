"""What importing one file writes and asks for: rows in batches, one note to the page cache, related lists left to
the pages, and indexed lookups (an import must not get slower as the database fills)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles import cache as page_cache
from articles import page_document
from articles.importer.run import import_paths
from articles.models import Article, ArticleAuthor, Region, StatisticFigure
from bench.importing import vary_article

from .factories import SEED, make_article
from .test_import_parallel import seed_copies

pytestmark = pytest.mark.django_db


def statements(captured, start, table):
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith(start) and f'"{table}"' in q["sql"]]


def test_an_imported_files_rows_are_read_and_written_in_batches(tmp_path):
    import_paths([SEED], publish=True)  # its authors, sources and tags are known from now on
    copy = tmp_path / "copy.md"
    copy.write_text(vary_article(SEED.read_text(encoding="utf-8"), 2), encoding="utf-8")
    with CaptureQueriesContext(connection) as captured:
        report = import_paths([copy], publish=True)
    article = Article.objects.get(slug=report.results[0].slug)
    assert article.bylines.count() >= 5 and article.gallery.exists() and article.tags.count() >= 2
    # One INSERT of the bylines, of the taggings, of the pictures' placements; the known authors are read in one
    # query for the writers and one for the photographers, the known sources and tags in one each.
    assert len(statements(captured, "INSERT", "articles_articleauthor")) == 1
    assert len(statements(captured, "INSERT", "taggit_taggeditem")) == 1
    assert len(statements(captured, "INSERT", "articles_articleimage")) == 1
    assert len(statements(captured, 'SELECT "articles_author"', "articles_author")) == 2
    assert len(statements(captured, 'SELECT "taggit_tag"', "taggit_tag")) == 1
    # A new article's first revision: no latest one to look for.
    assert statements(captured, 'SELECT "articles_articlerevision"', "articles_articlerevision") == []
    assert list(article.revisions.values_list("number", flat=True)) == [1]
    # The article a file updates is looked up once (by its identity, its original URL or its bytes).
    lookups = [sql for sql in statements(captured, "SELECT", "articles_article") if '"source_key" = ' in sql]
    assert len(lookups) == 1, lookups
    assert len(captured) < 60, len(captured)


def test_a_batch_reads_the_authors_sources_and_tags_its_files_name_once(tmp_path):
    """The files of one transaction share their reporters, photographers, sources and tags: what the first file found
    by name is not read again for the next ones; and a new article has no bylines or gallery to clear first."""
    import_paths([SEED], publish=True)
    folder = seed_copies(tmp_path / "copies", (2, 3, 4))
    with CaptureQueriesContext(connection) as captured:
        report = import_paths([folder], publish=True)
    assert [r.status for r in report.results] == ["created"] * 3
    seed = Article.objects.get(source_filename=SEED.name)
    # The first file's two author lookups (photographers, writers), one of the tags, one of the syndicator and one
    # of the data sources; then none.
    assert len(statements(captured, 'SELECT "articles_author"', "articles_author")) == 2
    assert len(statements(captured, 'SELECT "taggit_tag"', "taggit_tag")) == 1
    by_name = [sql for sql in statements(captured, 'SELECT "articles_source"', "articles_source")
               if '"articles_source"."name" IN' in sql]
    assert len(by_name) == 2, by_name
    # The sources with domains, to find the publisher of the original URL: once.
    by_domain = [sql for sql in statements(captured, 'SELECT "articles_source"', "articles_source")
                 if 'WHERE NOT ("articles_source"."domains"' in sql]
    assert len(by_domain) == 1, by_domain
    for table in ("articles_articleauthor", "articles_articleimage"):  # one article's rows, read to be deleted
        assert [sql for sql in statements(captured, "SELECT", table) if f'"{table}"."article_id" = ' in sql] == []
    # The three new articles' bylines, placements, links and taggings: one INSERT per table for the batch.
    for table in ("articles_articleauthor", "articles_articleimage", "articles_article_data_sources",
                  "articles_article_regions", "taggit_taggeditem"):
        assert len(statements(captured, "INSERT", table)) == 1, table
    # The candidates too, in as many INSERTs as the database's limit on parameters needs for all of them at once.
    rows = list(StatisticFigure.objects.exclude(article=seed))
    fields = [field for field in StatisticFigure._meta.concrete_fields if not field.primary_key]
    per_insert = connection.ops.bulk_batch_size(fields, rows)
    assert len(statements(captured, "INSERT", "articles_statisticfigure")) == -(-len(rows) // per_insert)
    assert {row.article_id for row in rows} == set(Article.objects.exclude(pk=seed.pk).values_list("pk", flat=True))
    for article in Article.objects.exclude(pk=seed.pk):
        assert list(article.bylines.values_list("author__name", "role")) == list(
            seed.bylines.values_list("author__name", "role"))
        assert sorted(article.data_sources.values_list("pk", flat=True)) == sorted(
            seed.data_sources.values_list("pk", flat=True))
        assert sorted(article.tags.names()) == sorted(seed.tags.names())


def test_a_failed_files_new_authors_are_not_remembered_for_the_rest_of_its_batch(tmp_path, monkeypatch):
    """The first file creates a new reporter and then fails: its savepoint takes the reporter with it, and the
    second file, naming the same reporter, creates it again (the batch commits as it is: no file saved twice)."""
    from django.core.exceptions import ValidationError

    from articles.importer import run
    from articles.models import Author

    folder = tmp_path / "copies"
    folder.mkdir()
    for number in (1, 2):
        text = vary_article(SEED.read_text(encoding="utf-8"), number).replace("王斌来", "新记者甲")
        (folder / f"copy_{number}.md").write_text(text, encoding="utf-8")
    real_sources, real_save = run.save_data_sources, run.save_markdown
    saves = []

    def save_data_sources(article, repaired, **options):
        if article.source_filename == "copy_1.md":
            raise ValidationError("this file fails after its bylines")
        return real_sources(article, repaired, **options)

    def save_markdown(path, *args, **options):
        saves.append(path.name)
        return real_save(path, *args, **options)

    monkeypatch.setattr(run, "save_data_sources", save_data_sources)
    monkeypatch.setattr(run, "save_markdown", save_markdown)
    report = import_paths([folder], publish=True)

    assert [r.status for r in report.results] == ["failed", "created"]
    assert saves == ["copy_1.md", "copy_2.md"]
    article = Article.objects.get()
    assert "新记者甲" in article.bylines.values_list("author__name", flat=True)
    assert Author.objects.filter(name="新记者甲").count() == 1
    # The bylines the failed file queued were forgotten with it: only the saved article's were written.
    assert ArticleAuthor.objects.count() == article.bylines.count()


def test_an_editors_upload_writes_each_files_rows_as_it_saves_it(tmp_path, editor):
    """Whether an editor may change a picture depends on which articles show it: the rows of an upload's files are
    written file by file, never held until the batch ends."""
    folder = seed_copies(tmp_path / "upload", (1, 2))
    with CaptureQueriesContext(connection) as captured:
        report = import_paths([folder], user=editor)
    assert [r.status for r in report.results] == ["created"] * 2
    assert len(statements(captured, "INSERT", "articles_articleimage")) == 2
    assert len(statements(captured, "INSERT", "articles_articleauthor")) == 2


def test_an_imported_file_notes_the_change_to_the_page_cache_once(monkeypatch, django_capture_on_commit_callbacks):
    bumps, schedules = [], []
    monkeypatch.setattr(page_cache, "bump_generation", lambda: bumps.append(1))
    real_schedule = page_cache.refresh_schedule
    monkeypatch.setattr(page_cache, "refresh_schedule", lambda: schedules.append(1) or real_schedule())
    with django_capture_on_commit_callbacks(execute=True):
        report = import_paths([SEED], publish=True)
    assert report.results[0].status == "created"
    # Some forty rows each asked; the file's transaction notes it once now and once after its commit.
    assert len(bumps) == 2 and len(schedules) == 2


def test_deferred_note_notes_once_at_the_end_and_not_when_the_block_fails(monkeypatch):
    bumps = []
    monkeypatch.setattr(page_cache, "bump_generation", lambda: bumps.append(1))
    with page_cache.deferred_note():
        page_cache.note_content_change()
        page_cache.note_content_change()
        assert bumps == []
    assert bumps == [1]
    with pytest.raises(RuntimeError), page_cache.deferred_note():
        page_cache.note_content_change()
        raise RuntimeError
    assert bumps == [1]


def test_an_import_leaves_related_lists_to_the_pages_and_outdates_its_neighbours(client):
    chongqing = Region.objects.get(slug="chong-qing")
    neighbour = make_article(title="重庆旧闻", status=Article.Status.PUBLISHED)
    neighbour.regions.add(chongqing)
    stranger = make_article(title="别处旧闻", status=Article.Status.PUBLISHED)
    page_document.refresh([neighbour.pk, stranger.pk])
    assert Article.objects.get(pk=neighbour.pk).related_ids == [] == Article.objects.get(pk=stranger.pk).related_ids

    report = import_paths([SEED], publish=True)

    imported = Article.objects.get(slug=report.results[0].slug)
    assert imported.page_document.get("header_html")  # its page document is built...
    assert imported.related_ids is None  # ...and its related articles are ranked when its page is first viewed
    assert Article.objects.get(pk=neighbour.pk).related_ids is None  # it may now be among the neighbour's
    assert Article.objects.get(pk=stranger.pk).related_ids == []
    related = client.get(neighbour.get_absolute_url()).context["related_articles"]
    assert related == [imported]
    assert Article.objects.get(pk=neighbour.pk).related_ids == [imported.pk]  # ranked once, and stored


@pytest.mark.parametrize(("table", "name", "column"), [
    ("articles_article", "article_original_url", "original_url"),
    ("articles_image", "image_remote_url", "remote_url"),
])
def test_the_urls_an_import_looks_up_are_indexed(table, name, column):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    assert constraints[name]["index"] and constraints[name]["columns"] == [column]


def test_bylines_keep_the_order_and_roles_of_the_credits():
    report = import_paths([SEED], publish=True)
    article = Article.objects.get(slug=report.results[0].slug)
    bylines = list(article.bylines.order_by("order").values_list("order", "role"))
    assert [order for order, _ in bylines] == list(range(1, len(bylines) + 1))
    assert {role for _, role in bylines} <= set(ArticleAuthor.Role.values)


def test_a_file_that_lost_a_race_with_another_writer_is_imported_again(monkeypatch, tmp_path):
    """Another writer (an import worker, the admin) created the same author or source first: the file's
    transaction fails on the unique key, and the file is imported once more, whole. A second failure is the
    file's: it is reported and saves nothing."""
    from django.db import IntegrityError

    from articles.importer import run

    real, calls = run.save_bylines, []

    def save_bylines(article, repaired, *, new=False, races=1):
        calls.append(article.pk)
        real(article, repaired, new=new)
        if len(calls) <= races:
            raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(run, "save_bylines", save_bylines)
    result = run.import_markdown_file(SEED, publish=True)
    assert result.status == "created" and len(calls) == 2
    article = Article.objects.get()
    assert article.bylines.count() >= 5 and article.revisions.count() == 1  # the second attempt's only

    calls.clear()
    monkeypatch.setattr(run, "save_bylines", lambda article, repaired, **kw: save_bylines(article, repaired, races=9, **kw))
    changed = tmp_path / SEED.name
    changed.write_text(SEED.read_text(encoding="utf-8").replace("重庆", "重庆市", 1), encoding="utf-8")
    result = run.import_markdown_file(changed, publish=True)
    assert result.status == "failed" and "duplicate key" in result.reason and len(calls) == 2
    assert Article.objects.get().source_checksum == article.source_checksum  # unchanged


@pytest.mark.django_db
def test_the_context_names_the_sources_a_credit_finds_as_saving_does():
    from articles.figure_review import ExtractionContext
    from articles.importer.attribution import sources_named
    from articles.models import Source

    Source.objects.create(name="测试市统计局", kind=Source.Kind.DATA, aliases=["测统局"])
    Source.objects.create(name="测试国家局", kind=Source.Kind.DATA, aliases=["测试市统计局"])  # a name wins over an alias
    credited = ["《测统局》", "测试市统计局", "测试新来源", "测统局", " "]
    prepared = ExtractionContext.load().source_names(credited)

    assert prepared == sorted(["测试市统计局", "测试新来源"])
    assert prepared == sorted(source.name for source in sources_named(credited, Source.Kind.DATA))


@pytest.mark.django_db
def test_an_article_given_its_derived_text_does_not_derive_it_again_on_save(monkeypatch):
    from articles.models import articles as article_models

    prepared = Article(title="标题", summary="摘要", body="<p>正文</p>")
    prepared.derive_text()
    text = {name: getattr(prepared, name) for name in ("title", "summary", "body", *Article.DERIVED_FIELDS)}
    article = make_article(title="旧标题")
    cleaned = []
    monkeypatch.setattr(article_models, "clean_body_html", lambda html: cleaned.append(html) or html)

    article.set_derived_text(text)
    article.save()
    assert cleaned == []
    article.refresh_from_db()
    assert (article.title, article.body_html, article.search_text) == ("标题", text["body_html"], text["search_text"])

    article.body = "<p>改过的正文</p>"  # changed after: derived again
    article.save()
    assert cleaned == ["<p>改过的正文</p>"]
