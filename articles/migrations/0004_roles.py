"""Create the two newsroom roles: Contributor and Editor (see README "Roles")."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTRIBUTOR = {
    "articles": {
        "article": ["add", "change", "view"],
        "articleauthor": ["add", "change", "delete", "view"],
        "articleimage": ["add", "change", "delete", "view"],
        "statisticfigure": ["add", "change", "delete", "view"],
        "image": ["add", "change", "view"],
        "author": ["add", "view"],
        "source": ["view"],
        "region": ["view"],
        "articlerevision": ["view"],
    },
    "taggit": {"tag": ["add", "view"], "taggeditem": ["add", "change", "delete", "view"]},
}
EDITOR_APPS = ("articles", "taggit")
EXTRA_EDITOR = [("articles", "publish_article")]


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    contributor, _ = Group.objects.get_or_create(name="Contributor")
    wanted = []
    for app_label, models in CONTRIBUTOR.items():
        for model, actions in models.items():
            wanted += [f"{action}_{model}" for action in actions]
    contributor.permissions.set(
        Permission.objects.filter(content_type__app_label__in=CONTRIBUTOR.keys(), codename__in=wanted)
    )

    editor, _ = Group.objects.get_or_create(name="Editor")
    editor.permissions.set(Permission.objects.filter(content_type__app_label__in=EDITOR_APPS))


class Migration(migrations.Migration):
    dependencies = [
        ("articles", "0003_desk"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
