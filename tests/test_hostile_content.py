"""Hostile content: every XSS vector of tests/data/xss_vectors.py through every entry point, on every surface.

Entry points: a Markdown import (body, title, the syndicator ``author``, categories, ``headimg``, a body
picture's alt text and caption line; hostile addresses as ``headimg`` or ``thumbnail``), an NDJSON dump (source
homepages, picture addresses, ``original_url``), the real admin change form (title, summary, body; a gallery's
captions, alt texts and credits) and the search query (the site, the API's ``q``, the admin's search box).

Surfaces: the article page (body with its marked figure sentences, title, standfirst, lead picture, gallery,
figures panel, related cards), its OpenGraph and description meta tags and its JSON-LD; the home page and the
lists (all articles, tag, region, source, author); search results and their snippets; the region's figure page;
RSS and Atom; the JSON API list and detail and the NDJSON dump (``body_html`` parsed like a page); the admin
list, change form, picture list and revision comparison.

What is checked is in tests/hostile.py: pages are parsed with html5lib as a browser parses them, content
containers hold only the allow-list, no page gains an event handler, a script, a dangerous URL or any active
element its harmless twin lacks, text fields come out as exactly their text, and the paragraphs around each
vector survive, in order, on the page, in the feeds and in the API. The counts go to the end of the run's
output (``XSS corpus: N vectors × M entry points × K surfaces checked``).

One database for the whole module (``corpus``): every vector is imported once and saved once through the
admin, inside a transaction rolled back at the end; each test reads it in its own savepoint.
"""

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import pytest
import yaml
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils.text import Truncator

from articles import feeds
from articles.figure_review import verify
from articles.importer.run import import_markdown_file, import_paths
from articles.models import Article, ArticleImage, Author, Image, Region, StatisticFigure
from articles.sanitize import web_url
from articles.search import normalize_query
from articles.seo import describe

from .adminform import form_data
from .data.xss_vectors import URL_VECTORS, VECTORS, vector_html
from .factories import make_article
from .hostile import (
    REPORTER,
    SEARCH_TERM,
    Baseline,
    as_parsed,
    body_with,
    content_problems,
    elements,
    find,
    find_all,
    is_text_only,
    markdown_for,
    marker,
    page_problems,
    parse_fragment,
    parse_page,
    text_of,
    textarea_text,
    url_scheme,
)

pytestmark = pytest.mark.django_db

IMAGE_ORIGIN = "https://img.example"  # the harmless pictures' host (never fetched: the test client loads nothing)
HARMLESS = ("harmless", "<p>一段普通的文字，没有任何标记。</p>")
SITE = " · Newsroom · 区域发展观察"

IMPORT_ENTRIES = ("import: body", "import: title", "import: author", "import: categories", "import: headimg",
                  "import: picture alt and caption")
ADMIN_ENTRIES = ("admin: title", "admin: summary", "admin: body")
GALLERY_ENTRIES = ("admin: gallery caption", "admin: gallery alt text", "admin: gallery credit")
SEARCH_ENTRY = "search query"
ADDRESS = "address: "  # how the hostile addresses (URL_VECTORS) are named in the counts


# --- the articles --------------------------------------------------------------------------------------------


@dataclass
class Corpus:
    vectors: dict  # name -> html
    index: dict  # name -> number
    imported: dict  # name -> Article pk
    admin: dict  # name -> Article pk
    gallery: int  # the gallery article's pk
    gallery_images: dict  # name -> Image pk
    editor_pk: int
    baselines: dict  # surface -> Baseline
    checked: set = field(default_factory=set)  # (vector, entry point, surface)
    harmless: dict = field(default_factory=dict)  # "import"/"admin"/"gallery" -> Article pk
    lists: dict = field(default_factory=dict)  # list surface -> URL

    def __post_init__(self):
        self._names = {pk: name for name, pk in (*self.imported.items(), *self.admin.items())}

    def vector_of(self, pk):
        """The vector an article of the corpus carries (None for any other article)."""
        return self._names.get(pk)

    def entries_of(self, pk):
        return IMPORT_ENTRIES if pk in self.imported.values() else ADMIN_ENTRIES

    def record(self, name, entries, surface):
        for entry in entries:
            self.checked.add((name, entry, surface))


def _publish(article):
    """Imports with quality warnings stay drafts; the corpus needs every article public."""
    if not article.is_published():
        article.status = Article.Status.PUBLISHED
        article.save()


def _import(folder, index, name, vector):
    path = folder / f"{index:03d}-{re.sub(r'[^a-z0-9-]', '', name)}.md"
    path.write_text(markdown_for(index, vector_html(vector, IMAGE_ORIGIN), IMAGE_ORIGIN), encoding="utf-8")
    result = import_markdown_file(path, publish=True)
    assert result.status == "created", (name, result.line())
    article = Article.objects.get(slug=result.slug)
    _publish(article)
    return article.pk


def _admin_save(client, add_form, index, name, vector, chongqing, reporter):
    vector = vector_html(vector, IMAGE_ORIGIN)
    data = dict(
        add_form,
        title=vector,
        summary=vector,
        body=body_with(index, vector),
        status=Article.Status.PUBLISHED,
        published_at_0="2022-08-01",
        published_at_1="10:00:00",
        regions=[str(chongqing.pk)],
        new_tags="重庆",
        **{"bylines-TOTAL_FORMS": "1", "bylines-0-author": str(reporter.pk), "bylines-0-role": "reporter",
           "bylines-0-order": "0"},
    )
    before = Article.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = client.post(reverse("admin:articles_article_add"), data)
    assert response.status_code == 302, (name, response.context["adminform"].form.errors if response.context else "")
    return Article.objects.filter(pk__gt=before).get().pk


def _gallery(client, vectors, title):
    """One article whose gallery has a picture per vector, captions, alt texts and credits set in the admin form."""
    article = make_article(title=title, body=body_with(999, "<p>图集正文。</p>"))
    images = {}
    for order, name in enumerate(vectors):
        image = Image.objects.create(remote_url=f"{IMAGE_ORIGIN}/gallery-{order:03d}.jpg", width=640, height=480)
        ArticleImage.objects.create(article=article, image=image, order=order)
        images[name] = image.pk
    url = reverse("admin:articles_article_change", args=[article.pk])
    data = form_data(client.get(url))
    by_image = {placement.pk: placement.image_id for placement in article.gallery.all()}
    by_pk = {pk: name for name, pk in images.items()}
    for row in range(len(vectors)):
        name = by_pk[by_image[int(data[f"gallery-{row}-id"])]]
        vector = vector_html(vectors[name], IMAGE_ORIGIN)
        data[f"gallery-{row}-caption"] = vector
        data[f"gallery-{row}-alt_text"] = vector
        data[f"gallery-{row}-credit"] = vector[:200]  # the credit field's max_length
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    return article.pk, images


# Surfaces whose harmless twins are rendered before any hostile article exists.
LIST_URLS = {
    "home": "/",
    "article list": "/articles/",
    "tag list": "/tags/重庆/",
    "region list": "/regions/chong-qing/",
    "author list": "/authors/{author}/",
    "search results": f"/search/?q={SEARCH_TERM}",
    "region figures": "/regions/chong-qing/figures/",
    "admin changelist": "/admin/articles/article/",
    "admin picture list": "/admin/articles/image/",
}


@pytest.fixture(scope="module")
def corpus(django_db_setup, django_db_blocker, tmp_path_factory, suite_summary):
    folder = tmp_path_factory.mktemp("xss")
    overrides = override_settings(
        MEDIA_ROOT=folder / "media",
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "xss-corpus"}},
        TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
    )
    with django_db_blocker.unblock(), overrides, transaction.atomic():
        from django.contrib.auth import get_user_model

        editor = get_user_model().objects.create_superuser("xss-editor", password="pw")
        admin = Client()
        admin.force_login(editor)
        anonymous = Client()
        chongqing = Region.objects.get(slug="chong-qing")
        reporter, _ = Author.objects.get_or_create(name=REPORTER)
        add_form = form_data(admin.get(reverse("admin:articles_article_add")))

        # Harmless twins first: their pages are the baselines of what the site's own templates contain.
        harmless = {
            "import": _import(folder, 0, *HARMLESS),
            "admin": _admin_save(admin, add_form, 0, *HARMLESS, chongqing, reporter),
        }
        verify(StatisticFigure.objects.filter(article_id=harmless["import"]), user=editor)
        harmless["gallery"], _ = _gallery(admin, {"harmless": "普通图说"}, "普通图集")
        lists = {surface: url.format(author=reporter.slug) for surface, url in LIST_URLS.items()}
        baselines = {
            "article page": Baseline.of(
                [parse_page(anonymous.get(Article.objects.get(pk=pk).get_absolute_url()).content.decode())
                 for pk in harmless.values()]
            ),
            "admin change form": Baseline.of(
                [parse_page(admin.get(reverse("admin:articles_article_change", args=[pk])).content.decode())
                 for pk in harmless.values()]
            ),
            "source list": Baseline.of(
                [parse_page(anonymous.get(Article.objects.get(pk=harmless["import"]).syndicator.get_absolute_url())
                            .content.decode())]
            ),
            "search page": Baseline.of([parse_page(anonymous.get("/search/", {"q": "普通"}).content.decode())]),
            "admin search": Baseline.of([parse_page(admin.get("/admin/articles/image/", {"q": "普通"}).content.decode())]),
        }
        for surface, url in lists.items():
            baselines[surface] = Baseline.of([parse_page((admin if url.startswith("/admin/") else anonymous)
                                                         .get(url).content.decode())])

        vectors = dict(VECTORS)
        index = {name: number for number, (name, _) in enumerate(VECTORS, start=1)}
        imported = {name: _import(folder, index[name], name, vector) for name, vector in VECTORS}
        # Verified, the statistic before each vector is marked in the page's body and listed in its figures panel.
        verify(StatisticFigure.objects.filter(article_id__in=imported.values()), user=editor)
        saved = {name: _admin_save(admin, add_form, index[name], name, vector, chongqing, reporter)
                 for name, vector in VECTORS}
        gallery, gallery_images = _gallery(admin, vectors, "图集：每个样本一张图")
        data = Corpus(vectors, index, imported, saved, gallery, gallery_images, editor.pk, baselines,
                      harmless=harmless, lists=lists)
        yield data
        transaction.set_rollback(True)
    if data.checked:
        names = {name for name, _, _ in data.checked}
        addresses = {name for name in names if name.startswith(ADDRESS)}
        entries = {entry for _, entry, _ in data.checked}
        surfaces = {surface for _, _, surface in data.checked}
        suite_summary.append(
            f"XSS corpus: {len(names - addresses)} vectors and {len(addresses)} hostile addresses × {len(entries)} "
            f"entry points × {len(surfaces)} surfaces checked ({len(data.checked)} combinations)"
        )


@pytest.fixture
def admin(corpus):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(pk=corpus.editor_pk))
    return client


def get_page(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200, (url, response.status_code)
    return parse_page(response.content.decode())


def fail_on(problems, name):
    assert not problems, f"vector {name!r}:\n  " + "\n  ".join(problems)


# --- the checks of one article's surfaces ------------------------------------------------------------------------


def body_problems(container, index, where) -> list[str]:
    """The content allow-list, and the paragraphs before and after the vector, both there, in order."""
    if container is None:
        return [f"{where}: no body"]
    problems = content_problems(container, where=where) + page_problems(container, None, where=where)
    text = text_of(container)
    before, after = text.find(marker(index, "前")), text.find(marker(index, "后"))
    if before < 0 or after < 0 or after < before:
        problems.append(f"{where}: the paragraphs around the vector did not survive in order: {text[:300]!r}")
    return problems


def template_text_problems(container, vector, where) -> list[str]:
    """Template syntax in content stays literal text: pages are rendered once, never content through a template."""
    literal = re.sub(r"<[^>]+>", "", vector)
    if ("{{" in vector or "{%" in vector) and literal not in text_of(container):
        return [f"{where}: template syntax {literal!r} not shown as text"]
    return []


def article_page_problems(root, article, index, corpus) -> list[str]:
    where = "article page"
    problems = page_problems(root, corpus.baselines["article page"], where=where)
    problems += body_problems(find(root, "div", class_="article-body"), index, f"{where} body")
    problems += template_text_problems(find(root, "div", class_="article-body"), corpus.vectors[corpus.vector_of(article.pk)],
                                       f"{where} body")
    if not is_text_only(find(root, "h1", class_="article-title"), article.title):
        problems.append(f"{where}: title not shown as its text: {text_of(find(root, 'h1'))!r} != {article.title!r}")
    standfirst = find(root, "p", class_="standfirst")
    if standfirst is not None and not is_text_only(standfirst, article.summary):
        problems.append(f"{where}: standfirst is not the summary's text")
    if text_of(find(root, "title")) != article.title + SITE:
        problems.append(f"{where}: <title> {text_of(find(root, 'title'))!r}")
    return problems


def meta_problems(root, article) -> list[str]:
    """OpenGraph and description: the title and description as text, the picture as an http(s) address."""
    problems = []
    description = describe(article.summary or article.body_text)
    expected = {("property", "og:title"): article.title, ("property", "og:description"): description,
                ("name", "description"): description, ("property", "og:type"): "article"}
    for (attribute, value), text in expected.items():
        found = find_all(root, "meta", **{attribute: value})
        if len(found) != 1 or found[0].get("content") != text:
            problems.append(f"meta {value}: {[m.get('content') for m in found]!r} != {text!r}")
    for meta in find_all(root, "meta", property="og:image") + find_all(root, "meta", property="og:url"):
        if url_scheme(meta.get("content") or "") not in ("http", "https"):
            problems.append(f"meta {meta.get('property')}: {meta.get('content')!r}")
    return problems


def jsonld_problems(root, raw_html, article) -> list[str]:
    """JSON-LD: one script, its raw text free of "<", ">" and "&" (no </script> or <!-- can end it), parsing
    to the title and description as text and http(s) addresses."""
    scripts = find_all(root, "script", type="application/ld+json")
    if len(scripts) != 1:
        return [f"JSON-LD: {len(scripts)} scripts"]
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', raw_html, re.S)
    if raw is None or raw.group(1) != text_of(scripts[0]):
        return ["JSON-LD: the script the browser sees is not the one written"]
    problems = [f"JSON-LD: raw {c!r} in the script" for c in "<>&" if c in raw.group(1)]
    data = json.loads(raw.group(1))
    if data.get("headline") != Truncator(article.title).chars(110):
        problems.append(f"JSON-LD headline {data.get('headline')!r}")
    if data.get("description") != describe(article.summary or article.body_text):
        problems.append("JSON-LD description")
    for url in [*(data.get("image") or []), data.get("url"), data.get("isBasedOn")]:
        if url is not None and url_scheme(url) not in ("http", "https"):
            problems.append(f"JSON-LD URL {url!r}")
    return problems


def lead_and_gallery_problems(root, article) -> list[str]:
    """Pictures outside the body (lead, gallery): text as text, addresses http(s)."""
    problems = []
    for link in find_all(root, "a", class_="gallery-link"):
        if url_scheme(link.get("href") or "") not in ("http", "https", ""):
            problems.append(f"gallery link {link.get('href')!r}")
    lead = find(root, "figure", class_="lead-image")
    if lead is not None and article.lead_image is not None:
        img = find(lead, "img")
        if img is None or img.get("src") != article.lead_image.remote_url:
            problems.append(f"lead picture src {img is not None and img.get('src')!r} != {article.lead_image.remote_url!r}")
    return problems


def admin_form_problems(root, article, corpus) -> list[str]:
    where = "admin change form"
    problems = page_problems(root, corpus.baselines[where], where=where)
    title = find(root, "input", id="id_title")
    if title is None or title.get("value") != article.title:
        problems.append(f"{where}: title input {title is not None and title.get('value')!r}")
    for field_name in ("summary", "body"):
        textarea = find(root, "textarea", id=f"id_{field_name}")
        if not is_text_only(textarea, getattr(article, field_name)):
            problems.append(f"{where}: {field_name} textarea is not the stored text")
    categories = find(root, "textarea", id="id_categories")
    if categories is None or json.loads(text_of(categories) or "null") != article.categories:
        problems.append(f"{where}: categories {text_of(categories)!r}")
    if article.raw_source:
        raw = find(root, "pre")
        if not is_text_only(raw, article.raw_source):
            problems.append(f"{where}: raw source is not shown as its text")
    if article.syndicator_id:
        option = find(find(root, "select", id="id_syndicator") or root, "option", selected="")
        if option is None or text_of(option) != str(article.syndicator):
            problems.append(f"{where}: syndicator option {text_of(option)!r}")
    return problems


def document_problems(document, article, index, where) -> list[str]:
    """A JSON document (API, NDJSON): text fields equal to the stored text, body_html as safe as a page's body."""
    problems = []
    for key in ("title", "summary"):
        if document[key] != getattr(article, key):
            problems.append(f"{where}: {key} {document[key]!r} != {getattr(article, key)!r}")
    if document["categories"] != article.categories:
        problems.append(f"{where}: categories {document['categories']!r}")
    body = parse_fragment(document["body_html"])
    problems += body_problems(body, index, f"{where} body_html")
    if document["syndicator"] and document["syndicator"]["name"] != article.syndicator.name:
        problems.append(f"{where}: syndicator name")
    images = [document["lead_image"], *document["images"]] if document["lead_image"] else document["images"]
    for image in images:
        if url_scheme(image["url"] or "") not in ("http", "https"):
            problems.append(f"{where}: image URL {image['url']!r}")
        stored = Image.objects.filter(remote_url=image["url"]).first()
        if stored is not None and (image["caption"], image["alt"], image["credit"]) != (
                stored.caption, stored.alt_text, stored.credit):
            problems.append(f"{where}: picture texts differ from the stored ones for {image['url']!r}")
    if document["original_url"] and url_scheme(document["original_url"]) not in ("http", "https"):
        problems.append(f"{where}: original_url {document['original_url']!r}")
    return problems


def check_article(corpus, client, admin, name, pk, entries):
    """Every surface of one article that shows one article."""
    article = Article.objects.select_related("syndicator", "lead_image").get(pk=pk)
    index = corpus.index[name]
    problems = []
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    raw = response.content.decode()
    root = parse_page(raw)
    problems += article_page_problems(root, article, index, corpus)
    problems += lead_and_gallery_problems(root, article)
    if article.figures.filter(status=StatisticFigure.Status.VERIFIED).exists():
        marks = find_all(find(root, "div", class_="article-body") or root, "mark", class_="figure-quote")
        if not marks:  # so the body checked above is the marked one the page document stores
            problems.append("article page: the verified figure's sentence is not marked in the body")
    problems += meta_problems(root, article)
    problems += jsonld_problems(root, raw, article)
    corpus.record(name, entries, "article page")
    corpus.record(name, entries, "OpenGraph and meta tags")
    corpus.record(name, entries, "JSON-LD")

    response = client.get(f"/api/v1/articles/{article.slug}/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    problems += document_problems(response.json()["result"], article, index, "API detail")
    corpus.record(name, entries, "API detail")

    problems += admin_form_problems(get_page(admin, reverse("admin:articles_article_change", args=[pk])), article, corpus)
    corpus.record(name, entries, "admin change form")
    return problems


# --- one test per vector and entry point -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [name for name, _ in VECTORS])
def test_imported_vector(corpus, client, admin, name):
    """The vector in every field of an imported file: article page, meta, JSON-LD, API, admin form, source list."""
    pk = corpus.imported[name]
    problems = check_article(corpus, client, admin, name, pk, IMPORT_ENTRIES)
    article = Article.objects.select_related("syndicator").get(pk=pk)
    if article.syndicator is not None:  # the front matter's author, unless nothing of it was text
        root = get_page(client, article.syndicator.get_absolute_url())
        problems += page_problems(root, corpus.baselines["source list"], where="source list")
        if not is_text_only(find(root, "h1"), article.syndicator.name):
            problems.append(f"source list: heading {text_of(find(root, 'h1'))!r} != {article.syndicator.name!r}")
        corpus.record(name, ["import: author"], "source list")
    fail_on(problems, name)


@pytest.mark.parametrize("name", [name for name, _ in VECTORS])
def test_admin_saved_vector(corpus, client, admin, name):
    """The vector as title, summary and body of an article saved through the admin change form."""
    fail_on(check_article(corpus, client, admin, name, corpus.admin[name], ADMIN_ENTRIES), name)


@pytest.mark.parametrize("name", [name for name, _ in VECTORS])
def test_search_query_vector(corpus, client, admin, name):
    """The vector as a search query: on the search page, in the API's q and in the admin list's search."""
    vector = corpus.vectors[name]
    query = normalize_query(vector)
    problems = []
    root = get_page(client, "/search/", q=vector)
    problems += page_problems(root, corpus.baselines["search page"], where="search page")
    field_value = find(root, "input", id="search-q").get("value")
    if field_value != query:
        problems.append(f"search page: the field holds {field_value!r}, not {query!r}")
    expected_title = (f"「{query}」的搜索结果" if query else "搜索") + SITE
    if text_of(find(root, "title")) != expected_title:
        problems.append(f"search page: <title> {text_of(find(root, 'title'))!r}")
    for message in find_all(root, "p", class_="search-message") + find_all(root, "p", class_="search-count"):
        if elements(message)[1:]:
            problems.append(f"search page: markup in {text_of(message)!r}")
    corpus.record(name, [SEARCH_ENTRY], "search page")

    response = client.get("/api/v1/articles/", {"q": vector})
    assert response.status_code in (200, 400) and response["Content-Type"].startswith("application/json")
    json.loads(response.content)
    corpus.record(name, [SEARCH_ENTRY], "API list")

    # The picture list: the admin's search box is the same template everywhere, and the article list's filters
    # cost ten times as much to render.
    root = get_page(admin, "/admin/articles/image/", q=vector)
    problems += page_problems(root, corpus.baselines["admin search"], where="admin search")
    search_box = find(root, "input", id="searchbar")
    if search_box is None or search_box.get("value") != vector.strip():
        problems.append(f"admin search: the field holds {search_box is not None and search_box.get('value')!r}")
    corpus.record(name, [SEARCH_ENTRY], "admin picture list")
    fail_on(problems, name)


def ndjson_document(number, *, source_url="", picture_url="", original_url=None):
    """A public API document (the shape ``export.ndjson`` writes), with a hostile address where asked."""
    picture = {"url": picture_url, "width": 64, "height": 48, "alt": "图", "caption": "图说", "credit": "", "renditions": []}
    return {
        "slug": f"ndjson-{number}", "title": f"NDJSON 文章 {number}", "summary": "摘要。", "language": "zh-hans",
        "body_html": body_with(900 + number, "<p>正文。</p>"), "published_at": "2022-08-01T02:00:00+00:00",
        "original_url": original_url, "categories": [], "tags": [], "regions": [], "authors": [], "figures": [],
        "publisher": {"name": f"来源甲{number}", "slug": f"s-a-{number}", "kind": "publisher", "url": source_url},
        "syndicator": {"name": f"来源乙{number}", "slug": f"s-b-{number}", "kind": "syndicator", "url": source_url},
        "data_sources": [{"name": f"来源丙{number}", "slug": f"s-c-{number}", "kind": "data", "url": source_url}],
        "lead_image": picture if picture_url else None,
        "images": [{**picture, "url": picture_url + "#2"}] if picture_url else [],
    }


def shown_article_problems(corpus, client, admin, article) -> list[str]:
    """An article made for one hostile address: its page, its sources' pages, its API document, its admin form."""
    problems = page_problems(get_page(client, article.get_absolute_url()), corpus.baselines["article page"],
                             where="article page")
    document = client.get(f"/api/v1/articles/{article.slug}/").json()["result"]
    for source in [document["publisher"], document["syndicator"], *document["data_sources"]]:
        if source and source["url"] and url_scheme(source["url"]) not in ("http", "https"):
            problems.append(f"API: source URL {source['url']!r}")
    for image in [document["lead_image"], *document["images"]]:
        if image and image["url"] and url_scheme(image["url"]) not in ("http", "https"):
            problems.append(f"API: picture URL {image['url']!r}")
    for source in [article.publisher, article.syndicator, *article.data_sources.all()]:
        if source is not None:
            problems += page_problems(get_page(client, source.get_absolute_url()), corpus.baselines["source list"],
                                      where="source list")
    problems += page_problems(get_page(admin, reverse("admin:articles_article_change", args=[article.pk])),
                              corpus.baselines["admin change form"], where="admin change form")
    return problems


@pytest.mark.parametrize("name", [name for name, _ in URL_VECTORS])
def test_hostile_address(corpus, client, admin, tmp_path, name):
    """A hostile address where a file gives one URL: a Markdown file's headimg or thumbnail, an NDJSON document's
    source homepages, pictures or original URL. Refused with the field named, or stored where no page, API
    document or admin form shows it as a link or picture."""
    url = dict(URL_VECTORS)[name]
    problems = []
    for number, field_name in enumerate(("headimg", "thumbnail")):
        meta = {"title": f"地址 {name} {field_name}", "date": "Mon, 01 Aug 2022 02:00:00 GMT", field_name: url}
        path = tmp_path / f"{field_name}.md"
        path.write_text(f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n\n<div>\n{body_with(950 + number, '')}\n</div>\n",
                        encoding="utf-8")
        result = import_markdown_file(path, publish=True)
        assert result.status == "created", result.line()
        article = Article.objects.get(slug=result.slug)
        _publish(article)
        problems += [f"{field_name}: {problem}" for problem in shown_article_problems(corpus, client, admin, article)]
        for surface in ("article page", "API detail", "admin change form"):
            corpus.record(ADDRESS + name, [f"import: {field_name} (address)"], surface)

    documents = [ndjson_document(1, source_url=url), ndjson_document(2, picture_url=url),
                 ndjson_document(3, original_url=url)]
    path = tmp_path / "hostile.ndjson"
    path.write_text("".join(json.dumps(document, ensure_ascii=False) + "\n" for document in documents), encoding="utf-8")
    fields = ("homepage", "url", "original_url")
    for document, result in zip(documents, import_paths([path]).results, strict=True):
        where = f"NDJSON {document['slug']}"
        if result.status == "failed":
            if not any(field_name in result.reason for field_name in fields):
                problems.append(f"{where}: refused without naming the field: {result.reason!r}")
            continue
        assert result.status == "created", result.line()
        article = Article.objects.get(slug=result.slug)
        problems += [f"{where}: {problem}" for problem in shown_article_problems(corpus, client, admin, article)]
    entries = ["NDJSON: source homepages", "NDJSON: picture addresses", "NDJSON: original_url"]
    for surface in ("article page", "source list", "API detail", "admin change form"):
        corpus.record(ADDRESS + name, entries, surface)
    fail_on(problems, name)


def test_an_ndjson_documents_hostile_source_homepage_is_left_out_with_a_note(tmp_path):
    """The article and its sources are restored; the homepage a URLField refuses is blank, and the result says so."""
    path = tmp_path / "sources.ndjson"
    path.write_text(json.dumps(ndjson_document(7, source_url="javascript:alert(1)"), ensure_ascii=False) + "\n",
                    encoding="utf-8")
    [result] = import_paths([path]).results
    assert result.status == "created", result.line()
    article = Article.objects.get(slug=result.slug)
    sources = [article.publisher, article.syndicator, *article.data_sources.all()]
    assert [source.name for source in sources] == ["来源甲7", "来源乙7", "来源丙7"]
    assert all(source.homepage == "" for source in sources)
    notes = [warning for warning in result.warnings if "homepage of source" in warning]
    assert len(notes) == 3 and all("not a valid URL: javascript:alert(1)" in note for note in notes)


# --- surfaces that show many articles at once ----------------------------------------------------------------------


def article_pk_from(url, slugs):
    path = urlsplit(url).path
    match = re.match(r"^/articles/([^/]+)/$", path)
    return slugs.get(match.group(1)) if match else None


def walk(client, url):
    """Every page of a public paginated list, following its rel="next" links: (page number, parsed page)."""
    number = 1
    while url:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        root = parse_page(response.content.decode())
        yield number, root
        following = [a.get("href") for a in find_all(root, "a", rel="next")]
        url = urljoin(url, following[0]) if following else None
        number += 1


def walk_admin(client, url, model_admin, count):
    """Every page of an admin list (``?p=N``, as many as ``count`` rows need)."""
    pages = max(1, -(-count // model_admin.list_per_page))
    for number in range(1, pages + 1):
        yield number, get_page(client, url, **({"p": number} if number > 1 else {}))


# Where a list shows an article: (container element, its class, the title link's parent class, the summary's
# class and the length truncatechars cuts it to).
CARDS = (
    ("article", "card", "card-title", "card-summary", 96),
    ("article", "lead-story", "lead-story-title", "lead-story-summary", 150),
    ("li", "search-hit", None, None, None),
)


@pytest.mark.parametrize("surface", ["home", "article list", "tag list", "region list", "author list", "search results"])
def test_lists_show_titles_and_summaries_as_text(corpus, client, surface):
    """Cards and search hits: every corpus article's title and summary as exactly their text, snippets as text
    with <mark> around the search term only, nothing active on any page of the list."""
    slugs = dict(Article.objects.values_list("slug", "pk"))
    articles = {article.pk: article for article in Article.objects.only("title", "summary", "body_text")}
    seen, problems = set(), []
    for number, root in walk(client, corpus.lists[surface]):
        where = f"{surface} page {number}"
        problems += page_problems(root, corpus.baselines[surface], where=where)
        for tag, css_class, _, summary_class, length in CARDS:
            for card in find_all(root, tag, class_=css_class):
                links = [link for link in find_all(card, "a") if article_pk_from(link.get("href") or "", slugs)]
                pk = article_pk_from(links[0].get("href"), slugs) if links else None
                name = corpus.vector_of(pk)
                if name is None:
                    continue
                seen.add(pk)
                article = articles[pk]
                if not is_text_only(links[0], article.title):
                    problems.append(f"{where}: {name!r} title shown as {text_of(links[0])!r}")
                corpus.record(name, [e for e in corpus.entries_of(pk) if "title" in e], surface)
                summary = find(card, "p", class_=summary_class) if summary_class else None
                if summary is not None:
                    if not is_text_only(summary, Truncator(article.summary).chars(length)):
                        problems.append(f"{where}: {name!r} summary shown as {text_of(summary)!r}")
                    corpus.record(name, [e for e in corpus.entries_of(pk) if "summary" in e or "body" in e], surface)
                snippet = find(card, "p", class_="snippet")
                if snippet is not None:
                    problems += snippet_problems(snippet, article, f"{where}: {name!r} snippet")
                    corpus.record(name, [e for e in corpus.entries_of(pk) if "body" in e], surface)
    if surface != "home":
        expected = set(corpus.imported.values()) | set(corpus.admin.values())
        missing = sorted(corpus.vector_of(pk) for pk in expected - seen)
        assert not missing, f"{surface}: these articles never showed: {missing}"
    assert not problems, "\n".join(problems[:50])


def snippet_problems(snippet, article, where) -> list[str]:
    """A search snippet: a stretch of the article's plain text, the search term in <mark>, nothing else."""
    problems = []
    for child in elements(snippet)[1:]:
        if child.tag != "mark" or elements(child)[1:] or text_of(child).lower() != SEARCH_TERM.lower():
            problems.append(f"{where}: <{child.tag}> {text_of(child)[:60]!r}")
    text = text_of(snippet).strip("…")
    if text not in " ".join(as_parsed(article.body_text).split()):
        problems.append(f"{where}: {text[:80]!r} is not the article's text")
    return problems


def test_revision_history_and_compare(corpus, admin):
    """Two revisions of one article, the second with every vector in its summary, body and categories: the
    history list and the comparison (a character diff of the body's text, the fields before and after) as text."""
    article = Article.objects.get(pk=corpus.harmless["admin"])
    change = reverse("admin:articles_article_change", args=[article.pk])
    history = reverse("admin:articles_article_revisions", args=[article.pk])
    compare = reverse("admin:articles_article_revisions_compare", args=[article.pk])

    def save(**changes):
        data = form_data(admin.get(change))
        data.update(changes)
        response = admin.post(change, data)
        assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
        return article.revisions.order_by("-number").values_list("number", flat=True)[0]

    first = save(summary="普通的摘要。")
    second = save(summary="普通的摘要，改了一处。")
    baseline = Baseline.of([get_page(admin, compare, a=first, b=second), get_page(admin, history)])
    vectors = [vector_html(vector, IMAGE_ORIGIN) for _, vector in VECTORS]
    third = save(
        title=vectors[0],
        summary="\n".join(vectors),
        body="\n".join(body_with(number, vector) for number, vector in enumerate(vectors, start=1)),
        categories=json.dumps(vectors, ensure_ascii=False),
    )
    problems = page_problems(get_page(admin, history), baseline, where="revision history")
    root = get_page(admin, compare, a=second, b=third)
    problems += page_problems(root, baseline, where="revision comparison")
    body_diff = find(find(root, "tr", class_="diff-body") or root, "td", class_="diff-text")
    assert body_diff is not None, "no body diff"
    for cell in find_all(root, "td", class_="diff-text"):  # the character diffs (body, summary)
        for element in elements(cell)[1:]:
            if element.tag not in ("p", "del", "ins") or set(element.attrib) - {"class"}:
                problems.append(f"revision comparison: <{element.tag} {element.attrib}> in a text diff")
    text = new_side(body_diff)
    positions = [text.find(marker(number, where)) for number in range(1, len(vectors) + 1) for where in "前后"]
    if -1 in positions or positions != sorted(positions):
        problems.append("revision comparison: a paragraph around a vector is missing from the body diff")
    for cell in find_all(root, "del") + find_all(root, "ins"):
        if any(child.tag != "br" for child in elements(cell)[1:]):
            problems.append(f"revision comparison: markup in a field diff {text_of(cell)[:80]!r}")
    summary_row = find(root, "tr", class_="diff-summary")
    if summary_row is None or as_parsed("".join(vectors)).replace("\n", "") not in new_side(summary_row).replace("\n", ""):
        problems.append("revision comparison: the summary is not shown as its text")
    assert not problems, "\n".join(problems[:50])
    for name, _ in VECTORS:
        corpus.record(name, ["admin: summary", "admin: body"], "admin revisions")
    corpus.record(VECTORS[0][0], ["admin: title"], "admin revisions")


def new_side(element) -> str:
    """The text of a character diff as it reads after the change: everything but what is inside <del>."""
    parts = [] if element.tag == "del" else [element.text or ""]
    for child in element:
        parts.append(new_side(child))
        parts.append(child.tail or "")
    return "".join(parts)


def test_region_figures(corpus, client):
    """The region's figure page lists every imported article's verified figure, the article titles as text."""
    slugs = dict(Article.objects.values_list("slug", "pk"))
    titles = dict(Article.objects.values_list("pk", "title"))
    seen, problems = set(), []
    for number, root in walk(client, corpus.lists["region figures"]):
        problems += page_problems(root, corpus.baselines["region figures"], where=f"region figures page {number}")
        for link in find_all(root, "a"):
            pk = article_pk_from(link.get("href") or "", slugs)
            name = corpus.vector_of(pk)
            if name is None:
                continue
            seen.add(pk)
            if not is_text_only(link, Truncator(titles[pk]).chars(24)):
                problems.append(f"region figures: {name!r} title shown as {text_of(link)!r}")
            corpus.record(name, ["import: title", "import: body"], "region figures")
    expected = set(StatisticFigure.objects.filter(article_id__in=corpus.imported.values()).values_list("article_id", flat=True))
    assert len(expected) > len(corpus.imported) // 2 and expected <= seen
    assert not problems, "\n".join(problems[:50])


@pytest.mark.parametrize("surface", ["admin changelist", "admin picture list"])
def test_admin_lists(corpus, admin, surface):
    problems, seen = [], set()
    titles = dict(Article.objects.values_list("pk", "title"))
    from django.contrib import admin as django_admin

    model = Article if surface == "admin changelist" else Image
    pages = walk_admin(admin, corpus.lists[surface], django_admin.site._registry[model], model.objects.count())
    for number, root in pages:
        problems += page_problems(root, corpus.baselines[surface], where=f"{surface} page {number}")
        for link in find_all(root, "a"):
            match = re.match(r"^/admin/articles/article/(\d+)/change/", link.get("href") or "")
            if surface == "admin changelist" and match and corpus.vector_of(int(match.group(1))):
                pk = int(match.group(1))
                seen.add(pk)
                if not is_text_only(link, titles[pk]):
                    problems.append(f"{surface}: {corpus.vector_of(pk)!r} title shown as {text_of(link)!r}")
                corpus.record(corpus.vector_of(pk), [e for e in corpus.entries_of(pk) if "title" in e], surface)
    if surface == "admin changelist":
        assert seen == set(corpus.imported.values()) | set(corpus.admin.values())
    else:
        for name in corpus.gallery_images:
            corpus.record(name, GALLERY_ENTRIES, surface)
    assert not problems, "\n".join(problems[:50])


def test_gallery_texts(corpus, client, admin):
    """Captions, alt texts and credits typed into the admin gallery: as text on the page, the admin and the API."""
    article = Article.objects.get(pk=corpus.gallery)
    images = {pk: Image.objects.get(pk=pk) for pk in corpus.gallery_images.values()}
    by_url = {image.remote_url: image for image in images.values()}
    name_of = {pk: name for name, pk in corpus.gallery_images.items()}
    problems = []

    root = get_page(client, article.get_absolute_url())
    problems += page_problems(root, corpus.baselines["article page"], where="gallery page")
    shown = 0
    for item in find_all(root, "figure", class_="gallery-item"):
        link, img = find(item, "a", class_="gallery-link"), find(item, "img")
        image = by_url.get(link.get("href"))
        if image is None:
            problems.append(f"gallery page: a picture links to {link.get('href')!r}")
            continue
        shown += 1
        where = f"gallery page, {name_of[image.pk]!r}"
        for attribute, value in (("data-caption", image.caption), ("data-credit", image.credit),
                                 ("data-alt", image.alt_text)):
            if link.get(attribute) != value:
                problems.append(f"{where}: {attribute} {link.get(attribute)!r}")
        if img.get("alt") != image.alt_text:
            problems.append(f"{where}: alt {img.get('alt')!r}")
        if not is_text_only(find(item, "span", class_="gallery-caption"), image.caption):
            problems.append(f"{where}: caption not shown as its text")
        if not is_text_only(find(item, "span", class_="gallery-credit"), image.credit):
            problems.append(f"{where}: credit not shown as its text")
    assert shown == len(images), f"{shown} of {len(images)} pictures shown"

    root = get_page(admin, reverse("admin:articles_article_change", args=[article.pk]))
    problems += page_problems(root, corpus.baselines["admin change form"], where="gallery admin form")
    data = {element.get("name"): element for element in find_all(root, "textarea") + find_all(root, "input")}
    for row in range(len(images)):
        placement = ArticleImage.objects.get(pk=int(data[f"gallery-{row}-id"].get("value")))
        image = images[placement.image_id]
        if textarea_text(data[f"gallery-{row}-caption"]) != as_parsed(image.caption):
            problems.append(f"gallery admin form: {name_of[image.pk]!r} caption")
        for key in ("alt_text", "credit"):
            if data[f"gallery-{row}-{key}"].get("value") != getattr(image, key):
                problems.append(f"gallery admin form: {name_of[image.pk]!r} {key}")

    document = client.get(f"/api/v1/articles/{article.slug}/").json()["result"]
    for entry in document["images"]:
        image = by_url[entry["url"]]
        if (entry["caption"], entry["alt"], entry["credit"]) != (image.caption, image.alt_text, image.credit):
            problems.append(f"API: {name_of[image.pk]!r} picture texts")
    assert not problems, "\n".join(problems[:50])
    for name in corpus.gallery_images:
        for surface in ("article page", "admin change form", "API detail"):
            corpus.record(name, GALLERY_ENTRIES, surface)


def test_feeds(corpus, client, monkeypatch):
    """RSS and Atom (every corpus article in one feed): titles as text, the body's HTML as safe as on the page."""
    monkeypatch.setattr(feeds, "FEED_LENGTH", 10_000)
    slugs = dict(Article.objects.values_list("slug", "pk"))
    problems = []
    for surface, url in (("RSS", "/feeds/latest/"), ("Atom", "/feeds/latest/atom/")):
        response = client.get(url)
        assert response.status_code == 200
        root = ElementTree.fromstring(response.content)
        atom = "{http://www.w3.org/2005/Atom}"
        items = root.iter(f"{atom}entry") if surface == "Atom" else root.iter("item")
        seen = set()
        for item in items:
            if surface == "Atom":
                link = item.find(f"{atom}link").get("href")
                title, html_parts = item.find(f"{atom}title"), {
                    "content": item.find(f"{atom}content"), "summary": item.find(f"{atom}summary")}
            else:
                link = item.findtext("link")
                title, html_parts = item.find("title"), {"content": item.find("description")}
            pk = article_pk_from(link, slugs)
            name = corpus.vector_of(pk)
            if name is None:
                continue
            seen.add(pk)
            article = Article.objects.get(pk=pk)
            where = f"{surface} {name!r}"
            if title.get("type", "text") != "text" or title.text != article.title:
                problems.append(f"{where}: title {title.text!r} (type {title.get('type')})")
            content = html_parts["content"]
            if content is None or (surface == "Atom" and content.get("type") != "html"):
                problems.append(f"{where}: no HTML content")
            else:
                problems += body_problems(parse_fragment(content.text or ""), corpus.index[name], f"{where} content")
            summary = html_parts.get("summary")
            if summary is not None:
                # type="html": a reader renders it as HTML, so it must show exactly the plain-text summary.
                shown = parse_fragment(summary.text or "") if summary.get("type") == "html" else None
                if shown is not None and not is_text_only(shown, article.summary):
                    problems.append(f"{where}: the summary (type html) renders as {text_of(shown)!r}, "
                                    f"with {len(elements(shown)) - 1} elements, not as its text")
            corpus.record(name, corpus.entries_of(pk), surface)
        assert seen == set(corpus.imported.values()) | set(corpus.admin.values()), surface
    assert not problems, "\n".join(problems[:50])


def test_api_list_and_ndjson(corpus, client):
    """Every corpus document in the API list pages and the NDJSON dump."""
    problems = []
    articles = {article.pk: article for article in Article.objects.select_related("syndicator")}
    for surface in ("API list", "NDJSON dump"):
        documents = []
        if surface == "API list":
            url = "/api/v1/articles/?limit=100"
            while url:
                page = client.get(url).json()
                documents += page["results"]
                url = page["next"]
        else:
            response = client.get("/api/v1/export.ndjson")
            documents = [json.loads(line) for line in b"".join(response.streaming_content).splitlines() if line]
        seen = set()
        for document in documents:
            name = corpus.vector_of(document["id"])
            if name is None:
                continue
            seen.add(document["id"])
            problems += document_problems(document, articles[document["id"]], corpus.index[name], f"{surface} {name!r}")
            corpus.record(name, corpus.entries_of(document["id"]), surface)
        assert seen == set(corpus.imported.values()) | set(corpus.admin.values()), surface
    assert not problems, "\n".join(problems[:50])


def test_corpus_is_large_enough():
    assert len(VECTORS) >= 70 and len(URL_VECTORS) >= 10


@pytest.mark.parametrize("name, url", URL_VECTORS)
def test_web_url_keeps_http_addresses_only(name, url):
    """``sanitize.web_url``, the rule for addresses shown outside a body: exactly the ones a browser reads as http(s)."""
    expected = url if url_scheme(url) in ("http", "https") else ""
    assert web_url(url) == expected
    assert web_url(" https://img.example/a.jpg") == " https://img.example/a.jpg"  # a browser strips the space too
