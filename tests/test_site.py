"""The demo-level public pages and the plain admin registration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.importer.run import import_markdown_file
from articles.models import Article

from .factories import SEED, make_article

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_home_lists_only_published_articles(client):
    visible = make_article(title="已发布的文章")
    make_article(title="草稿文章", status=Article.Status.DRAFT)
    make_article(title="定时文章", published_at=timezone.now() + timezone.timedelta(days=1))
    response = client.get("/")
    assert response.status_code == 200
    assert response.context["lead_article"] == visible and response.context["articles"] == []
    assert "草稿文章" not in response.content.decode() and "定时文章" not in response.content.decode()


def test_detail_shows_sanitized_body_and_provenance(client):
    article = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "智能车间" in html and "人民日报" in html and "王斌来" in html
    assert "onclick" not in html and "cors.zfour" not in html


def test_unpublished_detail_is_404(client):
    draft = make_article(status=Article.Status.DRAFT)
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_admin_pages_load(admin_client):
    article = Article.objects.get(slug=import_markdown_file(SEED).slug)
    for name in ("article", "source", "author", "region", "image", "statisticfigure"):
        assert admin_client.get(reverse(f"admin:articles_{name}_changelist")).status_code == 200
        assert admin_client.get(reverse(f"admin:articles_{name}_add")).status_code == 200
    assert admin_client.get(reverse("admin:articles_article_change", args=[article.pk])).status_code == 200


def test_demo_users_command_is_idempotent(django_user_model, capsys):
    call_command("create_demo_users", "--password", "pw-12345-x")
    call_command("create_demo_users", "--password", "pw-12345-x")
    editor = django_user_model.objects.get(username="editor")
    contributor = django_user_model.objects.get(username="contributor")
    assert editor.has_perm("articles.publish_article") and editor.check_password("pw-12345-x")
    assert contributor.is_staff and not contributor.has_perm("articles.publish_article")
    assert [g.name for g in contributor.groups.all()] == ["Contributor"]
    out = capsys.readouterr().out
    assert "editor / pw-12345-x" in out and "contributor / pw-12345-x" in out


def test_demo_folder_imports_cleanly():
    call_command("import_articles", str(ROOT / "demo"), "--publish")
    call_command("import_articles", str(ROOT / "demo"), "--publish")
    assert Article.objects.count() == len(list((ROOT / "demo").glob("*.md")))
    assert Article.objects.published().count() == Article.objects.count()


def run_check(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)


def test_secret_key_required_without_debug():
    result = run_check({})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_settings_accept_production_values():
    result = run_check({"SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "news.example"})
    assert result.returncode == 0, result.stderr
