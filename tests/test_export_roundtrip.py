"""export_articles writes NDJSON; import_articles reads it back into an empty database."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from articles.export import EXPORT_SCHEMA_VERSION, serialize_article
from articles.importer.run import import_markdown_file
from articles.models import Article, Author, Image, Source, StatisticFigure

from .factories import SEED, write_markdown

pytestmark = pytest.mark.django_db


def export_documents(path):
    call_command("export_articles", "--output", str(path))
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_ids(document):
    document = dict(document)
    document.pop("id")
    return document


def test_round_trip_reproduces_every_field(tmp_path):
    article = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    article.tags.add("高质量发展")
    StatisticFigure.objects.create(
        article=article, indicator="生产效率", value=Decimal("33"), value_text="33%", unit="percent",
        direction="increase", quote="生产效率提升 33%", start_offset=10, end_offset=20, status="verified",
        region=article.regions.get(name="重庆市"),
    )
    before = export_documents(tmp_path / "one.ndjson")
    assert len(before) == 1 and before[0]["schema_version"] == EXPORT_SCHEMA_VERSION

    Article.objects.all().delete()
    Image.objects.all().delete()
    Author.objects.all().delete()
    Source.objects.filter(kind=Source.Kind.DATA).delete()
    call_command("import_articles", str(tmp_path / "one.ndjson"))

    after = export_documents(tmp_path / "two.ndjson")
    assert [without_ids(d) for d in after] == [without_ids(d) for d in before]
    restored = Article.objects.get()
    assert restored.raw_source == SEED.read_text(encoding="utf-8")
    assert [b.author.name for b in restored.bylines.all()][:2] == ["王斌来", "崔佳"]


def test_reimporting_an_export_updates_in_place(tmp_path):
    import_markdown_file(SEED)
    documents = export_documents(tmp_path / "dump.ndjson")
    call_command("import_articles", str(tmp_path / "dump.ndjson"))
    assert Article.objects.count() == 1
    assert export_documents(tmp_path / "again.ndjson")[0]["body_html"] == documents[0]["body_html"]


def test_bad_ndjson_line_fails_alone(tmp_path, capsys):
    import_markdown_file(SEED)
    good = export_documents(tmp_path / "dump.ndjson")[0]
    Article.objects.all().delete()
    path = tmp_path / "mixed.ndjson"
    path.write_text("{not json\n" + json.dumps(good, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(Exception, match="failed"):
        call_command("import_articles", str(path))
    out = capsys.readouterr().out
    assert "mixed.ndjson:1: invalid JSON" in out
    assert Article.objects.count() == 1


def test_public_document_has_no_private_fields():
    article = Article.objects.get(slug=import_markdown_file(SEED).slug)
    document = serialize_article(Article.objects.for_export().get(pk=article.pk), base_url="https://news.example")
    assert "status" not in document and "raw_source" not in document
    assert document["url"] == f"https://news.example/articles/{article.slug}/"
    assert document["publisher"]["name"] == "人民日报"
    assert document["authors"][0] == {"name": "王斌来", "slug": "wang-bin-lai", "role": "reporter"}
    assert document["images"][0]["caption"] == "底图：重庆渝中半岛，城市风貌日新月异。"


def test_export_query_count_is_constant(django_assert_max_num_queries, tmp_path):
    import_markdown_file(SEED)
    for n, names in enumerate(["张明、李华", "王强", "赵敏、孙丽、周杰"]):
        body = f"<p>重庆第{n}篇报道的正文，写得足够长，以便导入器把它当成正常文章处理。</p><p>（记者{names}）</p>"
        import_markdown_file(write_markdown(tmp_path, f"a{n}.md", title=f"测试{n}", body=body))
    with django_assert_max_num_queries(12):
        documents = [serialize_article(a) for a in Article.objects.for_export()]
    assert len(documents) == 4
    assert all(d["authors"] for d in documents)
