"""Backup and restore, end to end, as README "Backup and restore" tells an operator to do it.

A site with articles in every state (the trash included), bylines, tags, regions, sources, figures
(verified, candidates, rejected), pictures stored with their renditions (Pillow-made), a shared
picture, a remote one, a reordered gallery and revisions is dumped with ``export_articles`` and its
media folder copied. Then, in other processes, as on a new server: a new empty database (SQLite file,
or a new PostgreSQL database when the suite runs on PostgreSQL) is migrated, the media copy is put in
place of an empty media folder, and ``import_articles`` reads the dump. The restored site must export
the same documents (ids aside), hold byte-identical files, and render the same article pages.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from articles import workflow
from articles.importer.ndjson import import_ndjson_file
from articles.importer.run import import_markdown_file
from articles.models import Article, ArticleImage, ArticleRevision, Image
from articles.revisions import article_document, restore_revision

from .factories import SEED
from .richsite import article_html, rich_article

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
# Rendered in the restored site's process: each public article's page, as article_html() reads it.
RENDER_PAGES = """
import json, os
from django.test import Client
from django.test.utils import setup_test_environment
from tests.richsite import article_html
setup_test_environment()
client = Client()
pages = {}
for slug in json.loads(os.environ["RESTORE_SLUGS"]):
    response = client.get(f"/articles/{slug}/")
    pages[slug] = [response.status_code, article_html(response.content.decode()) if response.status_code == 200 else ""]
print("PAGES " + json.dumps(pages, ensure_ascii=False))
"""


@pytest.fixture
def site(editor):
    """One article in each state, and what their pages show."""
    now = timezone.now()
    articles = {
        "published": rich_article(user=editor, title="已发布的报告", pictures=3),
        "draft": rich_article(user=editor, title="草稿", status=Article.Status.DRAFT),
        "review": rich_article(user=editor, title="待审", status=Article.Status.REVIEW, pictures=1),
        "scheduled": rich_article(user=editor, title="定时发布", published_at=now + timedelta(days=2), pictures=1),
        "archived": rich_article(user=editor, title="归档", status=Article.Status.ARCHIVED, pictures=1),
        "trashed": rich_article(user=editor, title="回收站里的", pictures=1),
        "imported": Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug),  # remote pictures
    }
    workflow.trash(Article.objects.filter(pk=articles["trashed"].pk), user=editor)
    # A picture two articles show, and a remote one placed in a stored gallery.
    shared = articles["published"].gallery.order_by("order").first().image
    ArticleImage.objects.create(article=articles["archived"], image=shared, order=5)
    remote = Image.objects.create(remote_url="https://img.example.cn/remote.jpg", width=640, height=480,
                                  caption="远程图片", credit="网络")
    ArticleImage.objects.create(article=articles["published"], image=remote, order=9)
    return articles


def documents(lines) -> dict:
    """Full export documents by identity (source key), without the database id a copy does not keep."""
    found = {}
    for line in lines:
        document = json.loads(line)
        found[document["source_key"]] = {key: value for key, value in document.items() if key != "id"}
    return found


def stored_files(document) -> list[str]:
    """Every media file an article document names: its pictures and their renditions."""
    images = [*document["images"], *([document["lead_image"]] if document["lead_image"] else [])]
    return sorted({name for image in images for name in
                   [image["file"], *(r.get("file") for r in image["renditions"])] if name})


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@contextmanager
def empty_database(tmp_path):
    """The DATABASE_URL of a new, empty database of the suite's kind; dropped afterwards."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    assert connection.vendor == "postgresql", connection.vendor
    import psycopg

    params = connection.settings_dict
    name = f"{params['NAME']}_restore"[:63]
    server = {"host": params["HOST"] or "localhost", "port": params["PORT"] or 5432, "user": params["USER"],
              "password": params["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        auth = quote(params["USER"] or "") + (f":{quote(params['PASSWORD'])}" if params["PASSWORD"] else "")
        yield f"postgres://{auth}@{server['host']}:{server['port']}/{name}"
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args, env, stdin=None) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def restored_environment(database_url, media_root) -> dict:
    env = {name: value for name, value in os.environ.items()
           if name not in ("REDIS_URL", "NEWSROOM_S3_BUCKET", "AWS_STORAGE_BUCKET_NAME", "DATABASE_URL", "MEDIA_ROOT")}
    return env | {"DEBUG": "1", "DATABASE_URL": database_url, "MEDIA_ROOT": str(media_root),
                  "TASKS_BACKEND": "immediate", "REQUEST_LOG_LEVEL": "WARNING", "CONN_MAX_AGE": "0"}


def test_the_dump_and_the_media_folder_restore_the_site(site, client, tmp_path):
    # The site as it is: its full dump, its media folder, its public article pages.
    backup = tmp_path / "backup"
    backup.mkdir()
    dump = backup / "articles.ndjson"
    call_command("export_articles", "--output", str(dump))
    shutil.copytree(settings.MEDIA_ROOT, backup / "media")
    original = documents(dump.read_text(encoding="utf-8").splitlines())
    assert len(original) == len(site)
    assert {document["status"] for document in original.values()} == {
        "published", "draft", "review", "archived", "trashed"}
    public = sorted(Article.objects.published().values_list("slug", flat=True))
    assert len(public) == 2  # the published and the imported article
    pages = {}
    for slug in public:
        response = client.get(f"/articles/{slug}/")
        assert response.status_code == 200
        pages[slug] = [200, article_html(response.content.decode())]
    assert 'class="gallery"' in pages[site["published"].slug][1]

    # A new server: an empty database, an empty media folder, then the backup's media and dump.
    media = tmp_path / "restored-media"
    with empty_database(tmp_path) as database_url:
        env = restored_environment(database_url, media)
        manage("migrate", "--no-input", "-v", "0", env=env)
        assert not media.exists() or not any(media.iterdir())
        shutil.copytree(backup / "media", media, dirs_exist_ok=True)
        printed = manage("import_articles", str(dump), env=env)
        assert "failed" not in printed.split("\n")[-2], printed
        restored_dump = tmp_path / "restored.ndjson"
        manage("export_articles", "--output", str(restored_dump), env=env)
        rendered = manage("shell", "-c", RENDER_PAGES, env=env | {"RESTORE_SLUGS": json.dumps(public)})

    restored = documents(restored_dump.read_text(encoding="utf-8").splitlines())
    assert set(restored) == set(original)
    for key, document in original.items():
        assert restored[key] == document, key

    # Every stored file the documents name is there, byte for byte.
    names = sorted({name for document in original.values() for name in stored_files(document)})
    assert len(names) == 9 * 5  # nine stored pictures, each with 4 renditions (320 and 640 px, WEBP and JPEG)
    for name in names:
        assert digest(media / name) == digest(Path(settings.MEDIA_ROOT) / name), name

    # The same pages: header, lead picture, body, gallery (in its order), figures, provenance.
    [line] = [line for line in rendered.splitlines() if line.startswith("PAGES ")]
    assert json.loads(line.removeprefix("PAGES ")) == pages


def full_document(article):
    return json.loads(json.dumps(article_document(article)))


def test_a_dump_restores_only_rendition_names_that_are_renditions(editor, tmp_path):
    """A dump is untrusted input: a rendition ``file`` is a storage key the site links to (and deletes when the
    picture is replaced), so only names under renditions/ with a rendition's format are recorded."""
    article = rich_article(user=editor, pictures=1)
    image = article.gallery.get().image
    document = full_document(article)
    [good, *_] = document["images"][0]["renditions"]
    hostile = ["../../newsroom/settings.py", "images/2026/11/other-picture.png", "renditions/../images/x.webp",
               "/etc/passwd", "renditions/ok/but-a.svg"]
    for data in (document["images"][0], document["lead_image"]):
        data["caption"] = "换过的图说"  # so that the picture is written again
        data["renditions"] = [good, *({**good, "file": name} for name in hostile)]
    dump = tmp_path / "hostile.ndjson"
    dump.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    [result] = import_ndjson_file(dump)
    assert result.status == "updated", result
    image.refresh_from_db()
    assert image.caption == "换过的图说"
    assert image.renditions == [{key: good[key] for key in ("width", "height", "format", "file")}]


def test_an_older_revision_without_rendition_names_keeps_the_pictures_renditions(editor):
    """Revisions recorded before full documents named rendition files carry their URLs only: restoring one
    leaves the pictures' renditions as they are (and their files where they are)."""
    article = rich_article(user=editor, pictures=2)
    images = {image.pk: image.renditions for image in Image.objects.filter(placements__article=article)}
    assert all(len(renditions) == 4 for renditions in images.values())
    revision = ArticleRevision.objects.filter(article=article).latest("number")
    for data in [*revision.data["images"], revision.data["lead_image"]]:
        data["renditions"] = [{key: r[key] for key in ("url", "width", "format")} for r in data["renditions"]]
        data["caption"] = "旧版本的图说"
    revision.save()
    restore_revision(revision, user=editor)
    for image in Image.objects.filter(placements__article=article):
        assert image.caption == "旧版本的图说" and image.renditions == images[image.pk]
