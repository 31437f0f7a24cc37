"""Full-text index for Chinese search on PostgreSQL (SQLite searches without an index)."""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS articles_article_search_gin "
    "ON articles_article USING gin (to_tsvector('simple', search_text))"
)
DROP = "DROP INDEX IF EXISTS articles_article_search_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


def fill_search_text(apps, schema_editor):
    from articles.segment import segment

    Article = apps.get_model("articles", "Article")
    for article in Article.objects.only("pk", "title", "summary", "body_text").iterator():
        text = segment(f"{article.title}\n{article.summary}\n{article.body_text}")
        Article.objects.filter(pk=article.pk).update(search_text=text)


class Migration(migrations.Migration):
    dependencies = [("articles", "0006_search_text")]

    operations = [
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_index, drop_index),
    ]
