"""Seed the indicator vocabulary from articles/fixtures_data/indicators.json, and let editors keep it.

Idempotent, like 0002: entries are matched on ``name``; an existing entry keeps its unit and
description when they are set and gains the seed's aliases it lacks (editors' aliases stay).
Historical models do not run ``Indicator.save()``, so slugs are computed here. Figures already
stored get their ``standard`` where their indicator phrase is a name or alias (the rule of
``Indicator.objects.matching``: spaces and case ignored).

The Editor group (0004) got every permission of the app as it was then: it gains the new
vocabulary's and may read the figure review records; contributors may look the vocabulary up.
"""

import json
from pathlib import Path

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils.text import slugify
from pypinyin import lazy_pinyin

DATA = Path(__file__).resolve().parent.parent / "fixtures_data" / "indicators.json"
SLUG_MAX_LENGTH = 120
EDITOR = ["add_indicator", "change_indicator", "delete_indicator", "view_indicator", "view_figurechange"]
CONTRIBUTOR = ["view_indicator"]


def key(text):
    return "".join((text or "").split()).casefold()


def unique_slug(model, text):
    base = slugify(" ".join(lazy_pinyin(text))).strip("-")[: SLUG_MAX_LENGTH - 4].strip("-") or "indicator"
    slug, n = base, 2
    while model._default_manager.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


def seed(apps, schema_editor):
    Indicator = apps.get_model("articles", "Indicator")
    StatisticFigure = apps.get_model("articles", "StatisticFigure")

    with open(DATA, encoding="utf-8") as fh:
        rows = json.load(fh)
    for row in rows:
        entry = Indicator._default_manager.filter(name=row["name"]).first()
        if entry is None:
            entry = Indicator(name=row["name"], slug=unique_slug(Indicator, row["name"]), aliases=[])
        entry.aliases = list(dict.fromkeys([*entry.aliases, *row["aliases"]]))
        entry.unit = entry.unit or row["unit"]
        entry.description = entry.description or row["description"]
        entry.save()

    by_key = {}
    for entry in Indicator._default_manager.order_by("name"):
        for name in [entry.name, *entry.aliases]:
            by_key.setdefault(key(name), entry)
    unmatched = StatisticFigure._default_manager.filter(standard__isnull=True).exclude(indicator="")
    for figure in unmatched.only("pk", "indicator").iterator():
        entry = by_key.get(key(figure.indicator))
        if entry is not None:
            StatisticFigure._default_manager.filter(pk=figure.pk).update(standard=entry)


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure the new models' exist now.
    app_config = apps.get_app_config("articles")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group_name, codenames in (("Editor", EDITOR), ("Contributor", CONTRIBUTOR)):
        group = Group.objects.filter(name=group_name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label="articles", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0010_figure_review"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
