"""robots.txt, /healthz and the friendly 404 and 500 pages."""

import json
from pathlib import Path

import pytest
from django.db import OperationalError, connections
from django.template.loader import render_to_string
from django.views.defaults import server_error

from articles.models import Article

from .factories import make_article

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parent.parent / "articles" / "templates"


def test_robots_txt_is_plain_text_and_points_to_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert {"User-agent: *", "Allow: /", "Disallow: /admin/", "Disallow: /preview/"} <= set(lines)
    assert "Sitemap: http://testserver/sitemap.xml" in lines


def test_healthz_ok_without_caching(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"] and "max-age=0" in response["Cache-Control"]


def test_healthz_503_names_only_the_error_class(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError('could not connect to server at "db.internal" (10.0.0.5), port 5432')

    monkeypatch.setattr(connections["default"], "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "OperationalError", "cache": "ok"}
    assert b"db.internal" not in response.content
    assert "no-store" in response["Cache-Control"]


def test_missing_article_gets_the_friendly_404(client, settings):
    settings.DEBUG = False
    draft = make_article(status=Article.Status.DRAFT, title="草稿标题")
    for url in ("/articles/no-such-article/", draft.get_absolute_url()):
        response = client.get(url)
        assert response.status_code == 404
        html = response.content.decode()
        assert "没有找到这个页面" in html and 'action="/search/"' in html and 'name="q"' in html
        assert "草稿标题" not in html


def test_500_template_is_standalone():
    source = (TEMPLATES / "500.html").read_text(encoding="utf-8")
    # Rendered while something is already broken: no inheritance, tags or variables that could fail.
    assert "{%" not in source and "{{" not in source
    assert "服务器出错了" in render_to_string("500.html")


def test_server_error_view_renders_the_500_page(rf):
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "服务器出错了" in response.content.decode()
