"""Indexes on Article.original_url and Image.remote_url: every imported file looks up the article of its original
URL (the importer's ``_existing``) and the known picture of each image URL (``attribution._reusable_image``), and
without an index each lookup scans the whole table, slower with every article imported.

PostgreSQL gets hash indexes: a btree entry may hold at most about 2,700 bytes, and a 1,000-character URL of
Chinese characters is 3,000 (its INSERT would fail). Equality is the only lookup made on these columns. Written
as SQL for each database because Meta.indexes cannot say "hash on PostgreSQL, btree elsewhere".
"""

from django.db import migrations

INDEXES = {"article_original_url": ("articles_article", "original_url"), "image_remote_url": ("articles_image", "remote_url")}


def create_indexes(apps, schema_editor):
    method = "USING hash " if schema_editor.connection.vendor == "postgresql" else ""
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON {table} {method}({column})")


def drop_indexes(apps, schema_editor):
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("articles", "0013_trash")]

    operations = [migrations.RunPython(create_indexes, drop_indexes, elidable=False)]
