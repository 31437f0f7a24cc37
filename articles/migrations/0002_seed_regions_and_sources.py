"""Seed the reference regions and sources from articles/fixtures_data/*.json.

Idempotent: rows are matched on ``name`` and updated in place, so running it again (or after
editors have added rows) creates no duplicates. Existing slugs are never changed. Historical
models do not run ``Region.save()``/``Source.save()``, so slugs are computed here.
"""

import json
from pathlib import Path

from django.db import migrations
from django.utils.text import slugify
from pypinyin import lazy_pinyin

DATA_DIR = Path(__file__).resolve().parent.parent / "fixtures_data"
SLUG_MAX_LENGTH = 80


def load(filename):
    with open(DATA_DIR / filename, encoding="utf-8") as fh:
        return json.load(fh)


def unique_slug(model, text, fallback, base=None):
    base = base or slugify(" ".join(lazy_pinyin(text or "")))[: SLUG_MAX_LENGTH - 4].strip("-") or fallback
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def upsert(model, name, fields, slug_text, fallback, slug=None):
    obj = model._default_manager.filter(name=name).first()
    if obj is None or not obj.slug:
        fields = {**fields, "slug": unique_slug(model, slug_text, fallback, base=slug)}
    obj, _ = model._default_manager.update_or_create(name=name, defaults=fields)
    return obj


def seed(apps, schema_editor):
    Region = apps.get_model("articles", "Region")
    Source = apps.get_model("articles", "Source")

    regions = load("regions.json")
    by_name = {}
    # Pass 1: the rows themselves, parents first (the file lists parents before children).
    for row in regions:
        parent = None
        if row.get("parent"):
            parent = by_name.get(row["parent"]) or Region._default_manager.get(name=row["parent"])
        fields = {
            "short_name": row.get("short_name", ""),
            "kind": row["kind"],
            "code": row.get("code", ""),
            "parent": parent,
            "aliases": row.get("aliases", []),
        }
        by_name[row["name"]] = upsert(
            Region, row["name"], fields, row.get("short_name") or row["name"], "region", slug=row.get("slug")
        )
    # Pass 2: members of multi-region areas, once every region exists.
    for row in regions:
        if row.get("members"):
            by_name[row["name"]].members.set([by_name[m] for m in row["members"]])

    for row in load("sources.json"):
        fields = {
            "kind": row["kind"],
            "homepage": row.get("homepage", ""),
            "domains": row.get("domains", []),
            "aliases": row.get("aliases", []),
        }
        upsert(Source, row["name"], fields, row["name"], "source", slug=row.get("slug"))


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
