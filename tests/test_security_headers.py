"""The browser-side walls: Content-Security-Policy and the other security headers on every surface, and
no inline script or style anywhere the policy would have to allow one.

The policy (newsroom/settings.py) allows scripts and styles from our own static files only. These tests
read the headers of every public page, every admin page (each registered model's list, add and change
page, the desk's own views) and the API, and parse each HTML page for what the policy would block: a
<script> without src (JSON-LD data blocks excepted), <style>, style="", on* handlers and javascript:
URLs. tests/browser/test_csp_browser.py then watches Chromium report no violation.
"""

import re
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from articles.importer.run import import_markdown_file
from articles.models import Article, Image, Source
from articles.preview import signed_preview_url

from .factories import SEED, client_for, make_article, make_rich_article, png_upload

pytestmark = pytest.mark.django_db

EXPECTED_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "https:", "http:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
OTHER_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "data", "poster", "srcset")
INDICATOR = "地区生产总值"


def policy_of(response) -> dict:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, header
        directives[name] = values
    return directives


def assert_walls(response, url):
    """The policy, exactly, and the other headers."""
    assert policy_of(response) == EXPECTED_POLICY, url
    header = response.headers["Content-Security-Policy"]
    assert "unsafe" not in header and "nonce-" not in header and "data:" not in header, url
    for name, value in OTHER_HEADERS.items():
        assert response.headers.get(name) == value, (url, name, response.headers.get(name))


def inline_code(html: str) -> list[str]:
    """Everything in ``html`` the policy blocks: inline scripts, styles, handlers, javascript: URLs,
    scripts and stylesheets from elsewhere."""
    found = []
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(True):
        for name, value in tag.attrs.items():
            value = " ".join(value) if isinstance(value, list) else value
            if name.lower().startswith("on"):
                found.append(f"<{tag.name} {name}=...>")
            elif name.lower() == "style":
                found.append(f'<{tag.name} style="{value}">')
            elif name.lower() in URL_ATTRIBUTES and re.sub(r"[\s\x00-\x1f]", "", value).lower().startswith(
                ("javascript:", "vbscript:")
            ):
                found.append(f'<{tag.name} {name}="{value}">')
    for style in soup.find_all("style"):
        found.append(f"<style>{style.get_text()[:60]}</style>")
    for script in soup.find_all("script"):
        if script.get("type") == "application/ld+json" and not script.get("src"):
            continue  # a data block: browsers never run it
        src = script.get("src")
        if not src:
            found.append(f"<script>{script.get_text()[:60]}</script>")
        elif urlsplit(src).netloc:
            found.append(f'<script src="{src}">')
    for link in soup.find_all("link", rel="stylesheet"):
        if urlsplit(link.get("href", "")).netloc:
            found.append(f'<link rel="stylesheet" href="{link["href"]}">')
    return found


def check(client, url, *, method="get", data=None, status=200, follow=False):
    """GET (or POST) ``url``: the expected status, every header, and no inline code in an HTML answer."""
    response = getattr(client, method)(url, data or {}, follow=follow)
    assert response.status_code == status, (url, response.status_code)
    assert_walls(response, url)
    if response.headers.get("Content-Type", "").startswith("text/html"):
        assert inline_code(response.content.decode()) == [], url
    return response


# --- a site with something on every page -------------------------------------------------------------------


@pytest.fixture
def site(django_user_model):
    """The imported seed article (remote pictures, credits, figure candidates) and an article with a lead picture,
    a gallery of uploads and a remote picture, verified figures over two years (a chart), two revisions."""
    seed = Article.objects.get(slug=import_markdown_file(SEED, publish=True).slug)
    editor = django_user_model.objects.create_superuser("boss", password="pw")
    remote = Image.objects.create(remote_url="http://img.example.cn/remote.jpg", width=800, height=600, alt_text="远程")
    article = make_rich_article(
        editor=editor, indicator=INDICATOR, tags=["重庆"], remote_images=[remote],
        uploads=[png_upload("a.png", (200, 40, 40), (640, 400)), png_upload("b.png", (40, 200, 40), (640, 400))],
        body='<p>重庆市地区生产总值达 2.9 万亿元。</p><p><img src="https://img.example.cn/body.jpg" alt="正文图"></p>',
    )
    return {"seed": seed, "article": article, "editor": editor, "region": article.regions.get()}


def public_urls(site) -> list[str]:
    article, seed, region = site["article"], site["seed"], site["region"]
    author = seed.authors.first()
    return [
        reverse("articles:home"),
        reverse("articles:list"),
        article.get_absolute_url(),
        seed.get_absolute_url(),
        reverse("articles:tag", kwargs={"slug": "重庆"}),
        region.get_absolute_url(),
        reverse("articles:region_figures", kwargs={"slug": region.slug}),
        reverse("articles:figures"),
        reverse("articles:figures") + f"?indicator={INDICATOR}",
        seed.publisher.get_absolute_url(),
        *([author.get_absolute_url()] if author else []),
        reverse("articles:search") + "?q=智能制造",
        reverse("articles:search") + "?q=",
        reverse("articles:feed_latest"),
        reverse("articles:feed_latest_atom"),
        reverse("sitemap"),
        reverse("robots"),
        reverse("healthz"),
        "/api/v1/articles/",
        f"/api/v1/articles/{article.slug}/",
    ]


def test_public_pages(client, site, suite_summary):
    urls = public_urls(site)
    for url in urls:
        check(client, url)
    page = client.get(site["article"].get_absolute_url()).content.decode()
    # What the pages really show: the gallery with its script, JSON-LD, remote pictures (img-src http(s)), a chart.
    assert "articles/lightbox.js" in page and 'type="application/ld+json"' in page
    assert 'src="http://img.example.cn/remote.jpg"' in page and 'src="https://img.example.cn/body.jpg"' in page
    chart = client.get(reverse("articles:figures") + f"?indicator={INDICATOR}").content.decode()
    assert 'class="chart-svg"' in chart
    suite_summary.append(f"CSP and security headers: {len(urls)} public URLs, no inline script or style")


def test_cached_pages_keep_the_headers(client, site):
    url = site["article"].get_absolute_url()
    first = check(client, url)
    again = check(client, url)  # from the page cache now
    assert again.content == first.content
    conditional = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert conditional.status_code == 304


def test_previews_errors_and_static_files(client, site):
    draft = make_article(title="草稿预览", status=Article.Status.DRAFT)
    check(client_for(site["editor"]), reverse("articles:preview", args=[draft.pk]))
    check(client, urlsplit(signed_preview_url(draft)).path)
    check(client, "/articles/no-such-article/", status=404)
    # whitenoise answers before the clickjacking middleware (X-Frame-Options); CSP's frame-ancestors still
    # applies, and nosniff keeps a script or stylesheet from being read as anything else.
    for path in ("/static/articles/lightbox.js", "/static/articles/site.css", "/static/admin/js/core.js"):
        response = client.get(path)
        assert response.status_code == 200 and policy_of(response) == EXPECTED_POLICY, path
        assert response["X-Content-Type-Options"] == "nosniff" and response["Referrer-Policy"] == "same-origin", path


# --- the admin --------------------------------------------------------------------------------------------


def admin_urls(site) -> list[str]:
    """Every registered model's list, add and change page, the desk's own views and the login pages."""
    urls = []
    request = RequestFactory().get("/admin/")
    request.user = site["editor"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        if model_admin.has_add_permission(request):  # axes' records, for one, are never added by hand
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]))
            urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[obj.pk]))
    article = site["article"]
    first, second = article.revisions.order_by("number")[:2]
    urls += [
        reverse("admin:index"),
        reverse("admin:articles_article_change", args=[article.pk]),
        reverse("admin:articles_article_revisions", args=[article.pk]),
        reverse("admin:articles_article_revisions_compare", args=[article.pk]) + f"?a={first.number}&b={second.number}",
        reverse("admin:articles_article_revision_restore", args=[article.pk, first.number]),
        reverse("admin:articles_article_changelist") + "?q=智能",
        reverse("admin:articles_statisticfigure_changelist") + "?status__exact=candidate",
        reverse("admin:password_change"),
        reverse("admin:jsi18n"),
    ]
    return urls


def test_admin_pages(site, suite_summary):
    client = client_for(site["editor"])
    # Deleted last: a delete confirmation page too.
    urls = admin_urls(site) + [reverse("admin:articles_article_delete", args=[site["article"].pk])]
    for url in urls:
        check(client, url, follow=True)  # the admin's history pages redirect to the revisions
    # Admin markup that used style="" now uses the desk's stylesheet, which every admin page links.
    article_page = client.get(reverse("admin:articles_article_change", args=[site["seed"].pk])).content.decode()
    assert "articles/admin/desk.css" in article_page and 'class="desk-raw-source"' in article_page
    figure = site["seed"].figures.first()
    figure_page = client.get(reverse("admin:articles_statisticfigure_change", args=[figure.pk])).content.decode()
    assert 'class="desk-quote"' in figure_page
    # The merge confirmation (an action's intermediate page).
    sources = list(Source.objects.order_by("pk")[:2])
    check(client, reverse("admin:articles_source_changelist"), method="post",
          data={"action": "merge_selected", "_selected_action": [s.pk for s in sources]})
    suite_summary.append(f"CSP and security headers: {len(urls) + 1} admin URLs ({len(admin.site._registry)} models)")


def test_login_pages_and_the_lockout_page(client, site, settings):
    check(client, reverse("admin:login"))
    check(client, reverse("admin:login"), method="post", data={"username": "boss", "password": "wrong"})
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(reverse("admin:login"), {"username": "boss", "password": "wrong"})
    locked = check(client, reverse("admin:login"), method="post", data={"username": "boss", "password": "pw"}, status=429)
    assert "登录已暂停" in locked.content.decode()


def test_the_check_finds_what_it_looks_for():
    """The inline-code scan itself, on what it must catch and what it must let through."""
    caught = inline_code(
        '<p style="color:red" onclick="x()">a</p><a href=" JaVa&#x09;script:alert(1)">b</a><style>p{}</style>'
        "<script>alert(1)</script><script src=\"https://cdn.example.com/x.js\"></script>"
        '<svg><a xlink:href="javascript:alert(1)"><text>c</text></a></svg>'
        '<link rel="stylesheet" href="https://cdn.example.com/x.css"><img src="x" onerror="alert(1)">'
    )
    assert len(caught) == 9, caught
    assert inline_code(
        '<script type="application/ld+json">{"a": 1}</script><script src="/static/a.js" defer></script>'
        '<link rel="stylesheet" href="/static/a.css"><a href="https://example.com/">out</a><img src="http://x/y.jpg">'
    ) == []

