"""Who may do what, tried against the real admin and site: every admin page, every admin action and
every public URL for each role, signed preview links, and what is never public.

The pages, actions and URLs are enumerated from the admin site's registry and the URLconf, not
listed by hand: a new admin page, action or URL fails ``test_every_*_has_an_expectation`` until
its expected outcome per role is written in the tables below. The tables are the README's roles
("The editor desk" → "Workflow and roles"; "Statistics figures" → "Who"):

- anonymous: the admin login page for every admin page; the public site.
- staff (a staff account in no role): the admin index, nothing else.
- contributor: view the desk; add articles, images, authors, tags and imports (Markdown); change
  their own drafts (and the pictures only those show); submit them for review. Never publish,
  delete, review figures, or change others' work or work they submitted.
- editor: everything on articles, the catalogue, figures and tags; publish, review figures, merge.
- superuser: everything, accounts too.
"""

import io
import json
import zipfile
from contextlib import contextmanager
from datetime import timedelta
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image as PILImage
from taggit.models import Tag

from articles import preview
from articles.api import cursor as api_cursor
from articles.export import iter_export_lines
from articles.models import (
    Article,
    ArticleAuthor,
    ArticleImage,
    Author,
    Image,
    ImportRun,
    Indicator,
    Region,
    Source,
    StatisticFigure,
    TrashedArticle,
)
from articles.revisions import record_revision

from .adminform import form_data
from .factories import make_article, make_article_in_each_state, make_markdown

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "staff", "contributor", "editor", "superuser")
LOGIN = "login"  # a redirect to the admin login page
EDITORS = frozenset({"editor", "superuser"})
WRITERS = frozenset({"contributor", "editor", "superuser"})


# --- people ---------------------------------------------------------------------------------------------------


@pytest.fixture
def people(make_user, django_user_model):
    """One account per role; anonymous is None."""
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    boss = django_user_model.objects.create_superuser("boss", password="pw")
    return {"anonymous": None, "staff": staff, "contributor": make_user("co", "Contributor"),
            "editor": make_user("ed", "Editor"), "superuser": boss}


def client_as(people, role) -> Client:
    client = Client()
    if people[role] is not None:
        client.force_login(people[role])
    return client


def outcome(response) -> int | str:
    """The status, or LOGIN for a redirect to the admin login page."""
    if response.status_code == 302 and response["Location"].startswith(reverse("admin:login")):
        return LOGIN
    return response.status_code


@contextmanager
def undone():
    """Whatever a request inside changes is rolled back after it (a savepoint), so that every role
    meets the same desk: one desk per test instead of one per role and page."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def mismatches_table(rows):
    return "\n".join(f"{where}: expected {expected}, got {got}" for where, expected, got in rows)


# --- the desk: one object of each model the admin registers ------------------------------------------------------


def remote_image(n, **fields):
    return Image.objects.create(remote_url=f"https://img.example.cn/perm-{n}.jpg", width=800, height=600, **fields)


def png_upload(name="photo.png", colour=(200, 40, 40)):
    out = io.BytesIO()
    PILImage.new("RGB", (60, 40), colour).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture
def desk(people):
    """The editor's published article with everything it shows, the contributor's own draft, and one
    row of every other model the admin registers."""
    editor, contributor = people["editor"], people["contributor"]
    source = Source.objects.create(name="权限日报", kind=Source.Kind.PUBLISHER)
    author = Author.objects.create(name="权限记者")
    region = Region.objects.create(name="权限测试区", kind=Region.Kind.COUNTY, parent=Region.objects.get(name="重庆市"))
    image = remote_image(1, caption="公开文章的题图")
    published = make_article(title="编辑的公开文章", created_by=editor, publisher=source, lead_image=image)
    ArticleImage.objects.create(article=published, image=image, order=0)
    ArticleAuthor.objects.create(article=published, author=author, role=ArticleAuthor.Role.REPORTER)
    published.tags.add("重庆")
    published.regions.add(region)
    figure = StatisticFigure.objects.create(
        article=published, indicator="地区生产总值", value=1, value_text="1 万亿元", quote="总量达 1 万亿元。",
        start_offset=0, end_offset=5, status=StatisticFigure.Status.CANDIDATE, region=region,
    )
    record_revision(published, user=editor, message="新建")
    published.title = "编辑的公开文章（改）"
    published.save()
    record_revision(published, user=editor, message="修改")

    own_image = remote_image(2, caption="投稿人草稿的图")
    own_draft = make_article(title="投稿人的草稿", status=Article.Status.DRAFT, published_at=None, created_by=contributor,
                             lead_image=own_image)
    ArticleImage.objects.create(article=own_draft, image=own_image, order=0)
    record_revision(own_draft, user=contributor, message="新建")
    editors_draft = make_article(title="编辑的草稿", status=Article.Status.DRAFT, published_at=None, created_by=editor)

    group = Group.objects.create(name="临时组")
    account = type(people["editor"]).objects.create_user("someone", password="pw")
    task = DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="articles.tasks.noop",
                                       backend_name="default", run_after=timezone.now(), exception_class_path="",
                                       traceback="")
    # Deleting needs a row nothing uses (a row in use is refused: tests/test_trash.py): the delete pages get these.
    deletable = {
        "articles.author": Author.objects.create(name="没有署名的作者"),
        "articles.source": Source.objects.create(name="没人用的来源", kind=Source.Kind.DATA),
        "articles.region": Region.objects.create(name="没人用的测试区", kind=Region.Kind.COUNTY),
        "articles.image": remote_image(3, caption="没人用的图"),
        "taggit.tag": Tag.objects.create(name="没人用的标签"),
    }
    trashed = make_article(title="回收站里的文章", created_by=editor, status=Article.Status.TRASHED)
    objects = {
        "articles.article": published,
        "articles.source": source,
        "articles.author": author,
        "articles.region": region,
        "articles.image": image,
        "articles.statisticfigure": figure,
        "articles.indicator": Indicator.objects.create(name="权限测试指标", slug="quan-xian-ce-shi"),
        "articles.importrun": ImportRun.objects.create(created_by=editor, summary="1 created", lines=["[1/1] created"]),
        "articles.trashedarticle": TrashedArticle.objects.get(pk=trashed.pk),
        "taggit.tag": Tag.objects.get(name="重庆"),
        "auth.user": account,
        "auth.group": group,
        "django_tasks_database.dbtaskresult": task,
        # Login throttling's records (django-axes): a lockout, a login.
        "axes.accessattempt": AccessAttempt.objects.create(username="ed", ip_address="198.51.100.7", user_agent="x",
                                                           failures_since_start=5, attempt_time=timezone.now()),
        "axes.accesslog": AccessLog.objects.create(username="ed", ip_address="198.51.100.7", user_agent="x",
                                                   attempt_time=timezone.now()),
    }
    return SimpleNamespace(objects=objects, deletable=deletable, published=published, own_draft=own_draft, own_image=own_image,
                           editors_draft=editors_draft, image=image, tag=Tag.objects.get(name="重庆"))


# --- the table: model pages ---------------------------------------------------------------------------------------

# What each role may do on each registered model's admin pages: v = view (list, read-only form,
# history), a = add, c = change, d = delete. Anonymous users always get the login page. The object
# is the editor's published article, or a row it shows (its source, author, region, lead image,
# figure, tag) or a row nobody's article shows (an indicator, an import record, an account, a group,
# a background task). A contributor changes only their own drafts and the pictures only those show:
# see test_contributor_changes_own_drafts_and_their_pictures_only.
RIGHTS = {
    #                                       staff  contributor  editor   superuser
    "articles.article":                     ("",   "va",        "vacd",  "vacd"),
    "articles.source":                      ("",   "v",         "vacd",  "vacd"),
    "articles.author":                      ("",   "va",        "vacd",  "vacd"),
    "articles.region":                      ("",   "v",         "vacd",  "vacd"),
    "articles.image":                       ("",   "va",        "vacd",  "vacd"),
    "articles.statisticfigure":             ("",   "v",         "vacd",  "vacd"),  # reviewing: editors
    "articles.indicator":                   ("",   "v",         "vacd",  "vacd"),
    "articles.importrun":                   ("",   "va",        "va",    "vad"),   # a record is what the import printed
    "articles.trashedarticle":              ("",   "",          "v",     "vd"),    # restore: editors; purge: superusers
    "taggit.tag":                           ("",   "va",        "vacd",  "vacd"),
    "auth.user":                            ("",   "",          "",      "vacd"),
    "auth.group":                           ("",   "",          "",      "vacd"),
    "django_tasks_database.dbtaskresult":   ("",   "",          "",      "v"),
    # Unlocking a login is deleting its AccessAttempt: superusers, who manage accounts.
    "axes.accessattempt":                   ("",   "",          "",      "vcd"),
    "axes.accesslog":                       ("",   "",          "",      "vcd"),
}

# Each model page, the right it needs, and what the page answers with that right and without it.
MODEL_PAGES = {
    #  page             (url name, method, right, allowed, refused)
    "changelist":       ("changelist", "get", "v", 200, 403),
    "add":              ("add", "get", "a", 200, 403),
    "change":           ("change", "get", "v", 200, 403),
    "change (save)":    ("change", "post", "c", 302, 403),
    "delete":           ("delete", "get", "d", 200, 403),
    "delete (confirm)": ("delete", "post", "d", 302, 403),
    "history":          ("history", "get", "v", 200, 403),
}


def registered():
    return {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}


def expected_for(label, page, role):
    if role == "anonymous":
        return LOGIN
    _, _, right, allowed, refused = MODEL_PAGES[page]
    rights = RIGHTS[label][ROLES.index(role) - 1]
    if right == "v":
        return allowed if ("v" in rights or "c" in rights) else refused
    return allowed if right in rights else refused


def test_every_registered_model_has_an_expectation(suite_summary):
    assert set(registered()) == set(RIGHTS), "add the model's rights per role to RIGHTS"
    suite_summary.append(
        f"Permissions: {len(ROLES)} roles × {len(RIGHTS) * len(MODEL_PAGES)} model admin pages "
        f"({len(RIGHTS)} models), {len(CUSTOM_PAGES) + len(SITE_PAGES)} other admin views, {len(ACTIONS)} admin "
        f"actions, {len(PUBLIC_URLS)} public URLs; {len(HIDDEN)} hidden states kept off {len(SURFACE_KINDS)} "
        "kinds of public surface"
    )


@pytest.mark.parametrize("label", sorted(RIGHTS))
def test_model_admin_pages(people, desk, label):
    """Every page of the model for every role, against RIGHTS; all mismatches reported at once."""
    wrong = []
    for page, (name, method, *_) in MODEL_PAGES.items():
        obj = desk.deletable.get(label, desk.objects[label]) if name == "delete" else desk.objects[label]
        opts = obj._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=[] if name in ("changelist", "add") else [obj.pk])
        data = {}
        if page == "change (save)":
            # The form as the superuser sees it, sent back unchanged by each role.
            form_page = client_as(people, "superuser").get(url)
            data = form_data(form_page) if f'id="{opts.model_name}_form"' in form_page.content.decode() else {}
        elif page == "delete (confirm)":
            data = {"post": "yes"}
        for role in ROLES:
            client = client_as(people, role)
            with undone():
                response = getattr(client, method)(url, data)
                got = outcome(response)
                still_there = type(obj).objects.filter(pk=obj.pk).exclude(
                    status=Article.Status.TRASHED).exists() if label == "articles.article" else (
                    type(obj).objects.filter(pk=obj.pk).exists())  # an article's delete moves it to the trash
            expected = expected_for(label, page, role)
            if label == "articles.article" and page == "history" and role != "anonymous":
                # The article's history is its revisions page, which checks the permission (CUSTOM_PAGES).
                expected, got = "revisions", "revisions" if response["Location"].endswith(f"/{obj.pk}/revisions/") else got
            if page == "delete (confirm)" and still_there != (expected != 302):
                got = f"{got}, row {'kept' if still_there else 'deleted'}"
            if got != expected:
                wrong.append((f"{method.upper()} {url} as {role}", expected, got))
    assert not wrong, mismatches_table(wrong)


# --- the table: the admin's own views and the models' custom views -------------------------------------------------

STANDARD_MODEL_VIEWS = {"changelist", "add", "change", "delete", "history"}

# Views beyond the five per model, by URL name: (method, target, query, expected per role in ROLES order).
CUSTOM_PAGES = {
    "articles_article_revisions": [
        ("get", "published", {}, (LOGIN, 403, 200, 200, 200)),
        ("get", "own_draft", {}, (LOGIN, 403, 200, 200, 200)),
    ],
    "articles_article_revisions_compare": [
        ("get", "published", {"a": 1, "b": 2}, (LOGIN, 403, 200, 200, 200)),
    ],
    "articles_article_revision_restore": [  # number 1
        ("get", "published", {}, (LOGIN, 403, 403, 200, 200)),
        ("post", "published", {}, (LOGIN, 403, 403, 302, 302)),
        ("get", "own_draft", {}, (LOGIN, 403, 200, 200, 200)),
        ("post", "own_draft", {}, (LOGIN, 403, 302, 302, 302)),
    ],
    "taggit_tag_merge_tags": [
        ("get", None, {}, (LOGIN, 403, 403, 200, 200)),
        ("post", None, {"new_tag_name": "合并后的标签"}, (LOGIN, 403, 403, 302, 302)),
    ],
    "auth_user_password_change": [
        ("get", "account", {}, (LOGIN, 403, 403, 403, 200)),
    ],
}

SITE_PAGES = {
    "index": [("get", {}, (LOGIN, 200, 200, 200, 200))],
    "login": [("get", {}, (200, 302, 302, 302, 302))],  # signed in: on to the index
    "logout": [("post", {}, (302, 200, 200, 200, 200))],  # signed out already: back to the index
    "password_change": [("get", {}, (LOGIN, 200, 200, 200, 200))],
    "password_change_done": [("get", {}, (LOGIN, 200, 200, 200, 200))],
    "jsi18n": [("get", {}, (LOGIN, 200, 200, 200, 200))],
    "autocomplete": [  # the article form's publisher field
        ("get", {"app_label": "articles", "model_name": "article", "field_name": "publisher", "term": "权限"},
         (LOGIN, 403, 200, 200, 200)),
    ],
    "view_on_site": [("get", {}, (LOGIN, 302, 302, 302, 302))],  # to the staff preview, which checks (PUBLIC_URLS)
    "app_list": [  # the articles app
        ("get", {}, (LOGIN, 404, 200, 200, 200)),
    ],
}


def custom_view_names():
    names = set()
    for model_admin in registered().values():
        opts = model_admin.model._meta
        standard = {f"{opts.app_label}_{opts.model_name}_{view}" for view in STANDARD_MODEL_VIEWS}
        names |= {p.name for p in model_admin.get_urls() if p.name and p.name not in standard}
    return names


def site_view_names():
    return {p.name for p in admin.site.get_urls() if isinstance(p, URLPattern) and p.name}


def test_every_custom_admin_view_has_an_expectation():
    assert custom_view_names() == set(CUSTOM_PAGES), "add the view's expected outcome per role to CUSTOM_PAGES"
    assert site_view_names() == set(SITE_PAGES), "add the view's expected outcome per role to SITE_PAGES"


def custom_url(name, target, desk):
    if name == "taggit_tag_merge_tags":
        return reverse("admin:taggit_tag_merge_tags")
    obj = {"published": desk.published, "own_draft": desk.own_draft, "account": desk.objects["auth.user"]}[target]
    if name == "articles_article_revision_restore":
        return reverse(f"admin:{name}", args=[obj.pk, 1])
    return reverse(f"admin:{name}", args=[obj.pk])


@pytest.mark.parametrize("name", sorted(CUSTOM_PAGES))
def test_custom_admin_views(people, desk, name):
    wrong = []
    for method, target, query, expected in CUSTOM_PAGES[name]:
        url = custom_url(name, target, desk)
        for role, want in zip(ROLES, expected, strict=True):
            client = client_as(people, role)
            if name == "taggit_tag_merge_tags" and people[role] is not None:
                session = client.session
                session["selected_tag_ids"] = str(desk.tag.pk)  # what taggit's merge action leaves in the session
                session.save()
            with undone():
                got = outcome(client.get(url, query) if method == "get" else client.post(url, query))
            if got != want:
                wrong.append((f"{method.upper()} {url} ({target}) as {role}", want, got))
    assert not wrong, mismatches_table(wrong)


@pytest.mark.parametrize("name", sorted(SITE_PAGES))
def test_admin_site_views(people, desk, name):
    wrong = []
    for method, query, expected in SITE_PAGES[name]:
        if name == "view_on_site":
            url = reverse("admin:view_on_site", args=[ContentType.objects.get_for_model(Article).pk, desk.published.pk])
        elif name == "app_list":
            url = reverse("admin:app_list", args=["articles"])
        else:
            url = reverse(f"admin:{name}")
        for role, want in zip(ROLES, expected, strict=True):
            got = outcome(getattr(client_as(people, role), method)(url, query))
            if got != want:
                wrong.append((f"{method.upper()} {url} as {role}", want, got))
    assert not wrong, mismatches_table(wrong)


# --- the table: admin actions ---------------------------------------------------------------------------------------

# Who may run each action of each ModelAdmin (Django's delete_selected included), POSTed to the
# changelist with the table's object selected. Contributors' article actions touch their own drafts
# only: test_contributor_actions_touch_own_drafts_only.
ACTIONS = {
    ("articles.article", "delete_selected"): set(),  # never offered: trash_selected replaces it
    ("articles.article", "trash_selected"): EDITORS,  # the article list's delete: to the trash
    ("articles.trashedarticle", "restore_selected"): EDITORS,
    ("articles.trashedarticle", "restore_as_draft_selected"): EDITORS,
    ("articles.trashedarticle", "delete_selected"): {"superuser"},  # purge
    ("articles.article", "publish_selected"): EDITORS,
    ("articles.article", "unpublish_selected"): EDITORS,
    ("articles.article", "archive_selected"): EDITORS,
    ("articles.article", "submit_selected"): WRITERS,
    ("articles.article", "reextract_credits"): WRITERS,
    ("articles.article", "extract_figures_selected"): WRITERS,
    ("articles.source", "delete_selected"): EDITORS,
    ("articles.source", "merge_selected"): EDITORS,
    ("articles.author", "delete_selected"): EDITORS,
    ("articles.author", "merge_selected"): EDITORS,
    ("articles.region", "delete_selected"): EDITORS,
    ("articles.region", "merge_selected"): EDITORS,
    ("articles.image", "delete_selected"): EDITORS,
    ("articles.statisticfigure", "delete_selected"): EDITORS,
    ("articles.statisticfigure", "verify_selected"): EDITORS,
    ("articles.statisticfigure", "reject_selected"): EDITORS,
    ("articles.statisticfigure", "reopen_selected"): EDITORS,
    ("articles.indicator", "delete_selected"): EDITORS,
    ("articles.importrun", "delete_selected"): {"superuser"},
    ("taggit.tag", "delete_selected"): EDITORS,
    ("taggit.tag", "render_tag_form"): EDITORS,  # taggit's merge
    ("auth.user", "delete_selected"): {"superuser"},
    ("auth.group", "delete_selected"): {"superuser"},
    ("django_tasks_database.dbtaskresult", "delete_selected"): set(),
    ("axes.accessattempt", "delete_selected"): {"superuser"},  # unlock
    ("axes.accessattempt", "cleanup_expired_attempts"): {"superuser"},
    ("axes.accesslog", "delete_selected"): {"superuser"},
}


def all_actions():
    """(model label, action name) for every action any user could be offered."""
    found = set()
    for label, model_admin in registered().items():
        found |= {(label, name) for _, name, _ in model_admin._get_base_actions()}
    return found


def test_every_admin_action_has_an_expectation():
    assert all_actions() == set(ACTIONS), "add who may run the action to ACTIONS"


@pytest.mark.parametrize("label", sorted({label for label, _ in ACTIONS}))
def test_admin_actions(people, desk, monkeypatch, label):
    """Each action of the model POSTed by each role with the table's object selected: did it run?"""
    model_admin = registered()[label]
    ran = []
    offered = model_admin.get_actions

    def spied(request):
        """The actions Django offers this request (its permission filter untouched), each noting its call."""
        def spy(name, func):
            def call(modeladmin, request, queryset):
                ran.append(name)
                return func(modeladmin, request, queryset)
            return call
        return {name: (spy(name, func), name, text) for name, (func, _, text) in offered(request).items()}

    monkeypatch.setattr(model_admin, "get_actions", spied)
    obj = desk.objects[label]
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_changelist")
    wrong = []
    for action in sorted(action for model, action in ACTIONS if model == label):
        for role in ROLES:
            client = client_as(people, role)
            ran.clear()
            with undone():
                response = client.post(url, {"action": action, "_selected_action": [obj.pk]})
            may = role in ACTIONS[(label, action)]
            if bool(ran) != may or (role == "anonymous" and outcome(response) != LOGIN):
                wrong.append((f"{action} as {role}", "runs" if may else "refused",
                              f"{'ran' if ran else 'refused'} ({outcome(response)})"))
    assert not wrong, mismatches_table(wrong)


# --- object level: whose work a contributor may touch ------------------------------------------------------------------


def article_form(client, article):
    return form_data(client.get(reverse("admin:articles_article_change", args=[article.pk])))


def test_contributor_changes_own_drafts_and_their_pictures_only(people, desk, make_user):
    contributor = client_as(people, "contributor")
    # Own draft: the form saves.
    url = reverse("admin:articles_article_change", args=[desk.own_draft.pk])
    data = article_form(contributor, desk.own_draft) | {"title": "投稿人改过的草稿"}
    assert contributor.post(url, data).status_code == 302
    desk.own_draft.refresh_from_db()
    assert desk.own_draft.title == "投稿人改过的草稿"
    # Another contributor's draft and an editor's draft: read-only page, refused save.
    other = make_user("co2", "Contributor")
    theirs = make_article(title="别人的草稿", status=Article.Status.DRAFT, published_at=None, created_by=other)
    for article in (theirs, desk.editors_draft, desk.published):
        url = reverse("admin:articles_article_change", args=[article.pk])
        page = contributor.get(url)
        assert page.status_code == 200 and 'name="title"' not in page.content.decode()
        superuser_form = article_form(client_as(people, "superuser"), article)
        assert contributor.post(url, superuser_form | {"title": "改了别人的"}).status_code == 403
        article.refresh_from_db()
        assert article.title != "改了别人的"
    # An editor changes anyone's work.
    editor = client_as(people, "editor")
    url = reverse("admin:articles_article_change", args=[theirs.pk])
    assert editor.post(url, article_form(editor, theirs) | {"title": "编辑改过"}).status_code == 302
    theirs.refresh_from_db()
    assert theirs.title == "编辑改过"
    # Pictures: the own draft's may be replaced; the published article's (also via the gallery
    # table of the own draft, when the picture is shared) may not.
    own_url = reverse("admin:articles_image_change", args=[desk.own_image.pk])
    assert contributor.post(own_url, {"file": png_upload()}).status_code == 302
    desk.own_image.refresh_from_db()
    assert desk.own_image.file
    public_url = reverse("admin:articles_image_change", args=[desk.image.pk])
    assert contributor.post(public_url, {"file": png_upload(colour=(0, 0, 0))}).status_code == 403
    desk.image.refresh_from_db()
    assert not desk.image.file


def test_a_picture_shared_with_a_published_article_keeps_its_caption(people, desk):
    """The importer reuses one Image per remote URL: a contributor's draft may show the published
    article's picture, and its gallery row must not rewrite the caption the public page shows."""
    ArticleImage.objects.create(article=desk.own_draft, image=desk.image, order=1)
    contributor = client_as(people, "contributor")
    url = reverse("admin:articles_article_change", args=[desk.own_draft.pk])
    data = article_form(contributor, desk.own_draft)
    row = next(key for key, value in data.items() if key.startswith("gallery-") and key.endswith("-caption")
               and value.strip() == "公开文章的题图")
    response = contributor.post(url, data | {row: "投稿人改的图说"})
    assert response.status_code == 200 and "只能由编辑修改" in response.content.decode()
    desk.image.refresh_from_db()
    assert desk.image.caption == "公开文章的题图"
    # The editor may: the picture is theirs to caption.
    editor = client_as(people, "editor")
    data = article_form(editor, desk.own_draft)
    assert editor.post(url, data | {row: "编辑改的图说"}).status_code == 302
    desk.image.refresh_from_db()
    assert desk.image.caption == "编辑改的图说"


def test_contributor_loses_a_draft_once_submitted(people, desk):
    contributor = client_as(people, "contributor")
    url = reverse("admin:articles_article_change", args=[desk.own_draft.pk])
    assert contributor.post(url, article_form(contributor, desk.own_draft) | {"status": "review"}).status_code == 302
    desk.own_draft.refresh_from_db()
    assert desk.own_draft.status == Article.Status.REVIEW
    assert contributor.post(url, article_form(client_as(people, "superuser"), desk.own_draft)).status_code == 403


def test_contributor_cannot_publish_through_the_form(people, desk):
    contributor = client_as(people, "contributor")
    url = reverse("admin:articles_article_change", args=[desk.own_draft.pk])
    response = contributor.post(url, article_form(contributor, desk.own_draft) | {"status": "published"})
    assert response.status_code == 200  # the form again, with the reason
    desk.own_draft.refresh_from_db()
    assert desk.own_draft.status == Article.Status.DRAFT


def test_contributor_actions_touch_own_drafts_only(people, desk):
    contributor = client_as(people, "contributor")
    url = reverse("admin:articles_article_changelist")
    others = [desk.editors_draft, desk.published]
    selected = [desk.own_draft.pk] + [a.pk for a in others]
    before = {a.pk: (a.status, a.version) for a in others}
    contributor.post(url, {"action": "submit_selected", "_selected_action": selected})
    contributor.post(url, {"action": "reextract_credits", "_selected_action": selected})
    contributor.post(url, {"action": "extract_figures_selected", "_selected_action": selected})
    for action in ("publish_selected", "archive_selected", "unpublish_selected", "trash_selected"):
        contributor.post(url, {"action": action, "_selected_action": selected, "post": "yes"})
    desk.own_draft.refresh_from_db()
    assert desk.own_draft.status == Article.Status.REVIEW
    for article in others:
        article.refresh_from_db()
        assert (article.status, article.version) == before[article.pk]
    assert not StatisticFigure.objects.filter(article__in=[desk.editors_draft]).exists()


def test_only_editors_attach_tags_to_articles_from_the_tag_admin(people, desk):
    """taggit's tag form has a table of the objects carrying the tag: a row there tags any article,
    published ones included, around the article form."""
    article_type = ContentType.objects.get_for_model(Article)
    prefix = "taggit_taggeditem_items"
    for role, allowed in (("contributor", False), ("editor", True)):
        name = f"{role}-加的标签"
        data = {"name": name, "slug": f"{role}-tag", f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-0-content_type": article_type.pk, f"{prefix}-0-object_id": desk.published.pk}
        client_as(people, role).post(reverse("admin:taggit_tag_add"), data)
        assert (name in desk.published.tags.names()) == allowed, role
    assert Tag.objects.filter(name="contributor-加的标签").exists()  # the tag itself may be added


def test_only_editors_merge_tags(people, desk):
    desk.published.tags.add("甲", "乙")
    ids = list(Tag.objects.filter(name__in=["甲", "乙"]).values_list("pk", flat=True))
    for role, allowed in (("staff", False), ("contributor", False), ("editor", True)):
        client = client_as(people, role)
        client.post(reverse("admin:taggit_tag_changelist"), {"action": "render_tag_form", "_selected_action": ids})
        session = client.session
        session["selected_tag_ids"] = ",".join(map(str, ids))  # as if the action had run
        session.save()
        client.post(reverse("admin:taggit_tag_merge_tags"), {"new_tag_name": f"{role}-合并"})
        assert (f"{role}-合并" in desk.published.tags.names()) == allowed, role


def dump_of(article, **changes) -> bytes:
    (line,) = iter_export_lines(Article.objects.filter(pk=article.pk), full=True)
    return (json.dumps(json.loads(line) | changes, ensure_ascii=False) + "\n").encode()


def test_contributor_cannot_import_a_dump(people, desk):
    """A full dump restores status and overwrites the article of the same key or slug: an editor's work."""
    dump = dump_of(desk.published, title="被投稿人覆盖")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("folder/articles.ndjson", dump)
    url = reverse("admin:articles_importrun_add")
    contributor = client_as(people, "contributor")
    for upload in (SimpleUploadedFile("articles.ndjson", dump), SimpleUploadedFile("dump.zip", archive.getvalue())):
        response = contributor.post(url, {"files": upload})
        assert response.status_code == 200 and "只有编辑可以导入" in response.content.decode()
    desk.published.refresh_from_db()
    assert desk.published.title == "编辑的公开文章（改）" and not ImportRun.objects.exclude(created_by=people["editor"])
    # Markdown is theirs to import, as drafts.
    response = contributor.post(url, {"files": SimpleUploadedFile("new.md", make_markdown(title="投稿人导入").encode())})
    assert response.status_code == 302
    assert Article.objects.get(title="投稿人导入").status == Article.Status.DRAFT
    # The editor restores the dump.
    response = client_as(people, "editor").post(url, {"files": SimpleUploadedFile("articles.ndjson", dump)})
    assert response.status_code == 302
    desk.published.refresh_from_db()
    assert desk.published.title == "被投稿人覆盖"


def test_contributor_cannot_overwrite_anothers_article_by_importing_it_again(people):
    link = '<p><a href="http://iphone.myzaker.com/zaker/link.php?pk=62e71e708e9f0940445abfff">打开 APP 阅读全文</a></p>'
    text = make_markdown(title="编辑导入的文章",
                         body="<p>重庆市第一版段落，内容足够长，用来确认导入器保留每一个自然段落的文字和顺序。</p>" * 3 + link)
    url = reverse("admin:articles_importrun_add")
    client_as(people, "editor").post(url, {"files": SimpleUploadedFile("a.md", text.encode()), "publish": "on"})
    article = Article.objects.get(title="编辑导入的文章")
    assert article.status == Article.Status.PUBLISHED
    changed = text.replace("第一版", "投稿人改")
    client_as(people, "contributor").post(url, {"files": SimpleUploadedFile("a.md", changed.encode())})
    article.refresh_from_db()
    assert "投稿人改" not in article.body


def test_contributor_import_leaves_a_published_articles_picture_alone(people, desk):
    url = desk.image.remote_url
    body = (f'<div class="img_box"><img data-original="{url}" src="{url}"></div><p>投稿人的图说</p>'
            + "<p>重庆市的测试段落，内容足够长，用来确认导入器保留每一个自然段落的文字和顺序。</p>" * 3)
    upload = SimpleUploadedFile("mine.md", make_markdown(title="投稿人的稿子", body=body).encode())
    assert client_as(people, "contributor").post(reverse("admin:articles_importrun_add"), {"files": upload}).status_code == 302
    assert Article.objects.filter(title="投稿人的稿子").exists()
    desk.image.refresh_from_db()
    assert desk.image.caption == "公开文章的题图"


# --- the table: public URLs ---------------------------------------------------------------------------------------------

# Every URL of newsroom/urls.py, articles/urls.py and the API (the admin and media aside), by name:
# its outcome per role (ROLES order). The public site is the same for everyone; the staff preview
# needs a staff account allowed to view articles.
PUBLIC = (200, 200, 200, 200, 200)
PUBLIC_URLS = {
    "sitemap": PUBLIC, "robots": PUBLIC, "healthz": PUBLIC,
    "api:articles": PUBLIC, "api:article": PUBLIC, "api:withdrawals": PUBLIC, "api:export": PUBLIC,
    "api:figures": PUBLIC, "api:openapi": PUBLIC,
    "articles:home": PUBLIC, "articles:list": PUBLIC, "articles:detail": PUBLIC, "articles:tag": PUBLIC,
    "articles:region": PUBLIC, "articles:region_figures": PUBLIC, "articles:figures": PUBLIC,
    "articles:source": PUBLIC, "articles:author": PUBLIC, "articles:search": PUBLIC,
    "articles:feed_latest": PUBLIC, "articles:feed_latest_atom": PUBLIC, "articles:feed_region": PUBLIC,
    "articles:feed_tag": PUBLIC,
    "articles:preview": (LOGIN, 403, 200, 200, 200),  # any article, drafts too (an editor's draft here)
    "articles:signed_preview": PUBLIC,  # with a valid token; see the preview tests below
}


def public_url_names():
    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if str(pattern.pattern) == "admin/":
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, inner)
            elif pattern.name:
                yield namespace + pattern.name
            else:  # only the media files DEBUG serves are nameless
                assert pattern.callback.__module__ == "django.views.static", pattern
    return set(walk(get_resolver().url_patterns))


def test_every_public_url_has_an_expectation():
    assert public_url_names() == set(PUBLIC_URLS), "add the URL's outcome per role to PUBLIC_URLS"


def public_url(name, desk):
    article = desk.published
    kwargs = {
        "articles:detail": {"slug": article.slug}, "api:article": {"slug": article.slug},
        "articles:tag": {"slug": desk.tag.slug}, "articles:feed_tag": {"slug": desk.tag.slug},
        "articles:region": {"slug": desk.objects["articles.region"].slug},
        "articles:region_figures": {"slug": desk.objects["articles.region"].slug},
        "articles:feed_region": {"slug": desk.objects["articles.region"].slug},
        "articles:source": {"slug": article.publisher.slug},
        "articles:author": {"slug": desk.objects["articles.author"].slug},
        "articles:preview": {"pk": desk.editors_draft.pk},
        "articles:signed_preview": {"token": preview.preview_token(desk.editors_draft)},
    }.get(name, {})
    return reverse(name, kwargs=kwargs) + ("?q=公开" if name == "articles:search" else "")


def test_public_urls(people, desk):
    wrong = []
    for name, expected in sorted(PUBLIC_URLS.items()):
        url = public_url(name, desk)
        for role, want in zip(ROLES, expected, strict=True):
            got = outcome(client_as(people, role).get(url))
            if got != want:
                wrong.append((f"GET {url} ({name}) as {role}", want, got))
    assert not wrong, mismatches_table(wrong)


# --- signed preview links ----------------------------------------------------------------------------------------------


@pytest.fixture
def drafts():
    return (make_article(title="预览草稿甲", body="<p>甲的正文</p>", status=Article.Status.DRAFT, published_at=None),
            make_article(title="预览草稿乙", body="<p>乙的正文</p>", status=Article.Status.DRAFT, published_at=None))


class Seconds:
    """``time.time`` for django.core.signing that stands still until moved."""

    def __init__(self, start):
        self.now = start

    def time(self):
        return self.now


@pytest.fixture
def signing_clock(monkeypatch):
    import time as real_time

    clock = Seconds(int(real_time.time()))  # a whole second: a token's age is then exact
    monkeypatch.setattr(signing, "time", clock)
    return clock


def preview_of(token):
    return Client().get(reverse("articles:signed_preview", args=[token]))


def test_signed_preview_shows_the_draft_to_anyone_and_keeps_it_out_of_caches_and_indexes(drafts):
    first, _ = drafts
    response = preview_of(preview.preview_token(first))
    page = response.content.decode()
    assert response.status_code == 200 and "甲的正文" in page
    assert '<meta name="robots" content="noindex">' in page
    assert response["Referrer-Policy"] in ("same-origin", "no-referrer")  # the token stays on this site
    cache_control = response.get("Cache-Control", "")
    assert "private" in cache_control and "no-store" in cache_control
    assert Client().get(first.get_absolute_url()).status_code == 404  # the public page is still 404


def test_signed_preview_expires(drafts, signing_clock, settings):
    first, _ = drafts
    settings.NEWSROOM_PREVIEW_MAX_AGE = 3600
    token = preview.preview_token(first)
    signing_clock.now += 3600
    assert preview_of(token).status_code == 200  # NEWSROOM_PREVIEW_MAX_AGE seconds old: still valid
    signing_clock.now += 1
    assert preview_of(token).status_code == 404
    signing_clock.now -= 2
    assert preview_of(token).status_code == 200  # expiry is the token's age, nothing stored
    settings.NEWSROOM_PREVIEW_MAX_AGE = 60  # shortening the setting shortens links already given
    assert preview_of(token).status_code == 404


def test_signed_preview_cannot_be_forged(drafts, settings):
    first, second = drafts
    token = preview.preview_token(first)
    pk, stamp, signature = token.split(":")
    other = preview.preview_token(second)
    forgeries = {
        "tampered signature": f"{pk}:{stamp}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",
        "another article's id": f"{second.pk}:{stamp}:{signature}",
        "another article's signature": f"{pk}:{other.split(':')[1]}:{other.split(':')[2]}",
        "a later timestamp": f"{pk}:{signing.b62_encode(signing.b62_decode(stamp) + 86400)}:{signature}",
        "no timestamp": signing.Signer(salt=preview.SALT).sign(str(first.pk)),
        "another salt": signing.TimestampSigner(salt="articles.other").sign(str(first.pk)),
        "another key": signing.TimestampSigner(key="not-our-secret", salt=preview.SALT).sign(str(first.pk)),
        "an API cursor": signing.dumps({"o": "newest", "k": ["2022-01-01T00:00:00+00:00", first.pk]},
                                       salt=api_cursor.SALT, compress=True),
        "a figures cursor": signing.Signer(salt="articles.api.figures.cursor").sign(str(first.pk)),
        "the id alone": str(first.pk),
        "empty": ":",
    }
    for what, forged in forgeries.items():
        response = preview_of(forged)
        assert response.status_code == 404, what
        assert "甲的正文" not in response.content.decode() and "乙的正文" not in response.content.decode(), what
    assert preview_of(token).status_code == 200
    settings.SECRET_KEY = "a-new-secret-key-rotates-every-link-" + "x" * 30
    assert preview_of(token).status_code == 404


def test_staff_preview_needs_a_staff_account_allowed_to_view(people, drafts):
    first, _ = drafts
    url = reverse("articles:preview", args=[first.pk])
    assert outcome(Client().get(url)) == LOGIN
    assert client_as(people, "staff").get(url).status_code == 403
    for role in ("contributor", "editor", "superuser"):
        assert "甲的正文" in client_as(people, role).get(url).content.decode(), role
    not_staff = type(people["editor"]).objects.create_user("reader", password="pw")
    reader = Client()
    reader.force_login(not_staff)
    assert outcome(reader.get(url)) == LOGIN


# --- never public: drafts, articles in review, scheduled, archived -------------------------------------------------------

HIDDEN = ("draft", "review", "scheduled", "archived", "unpublished", "dated_review", "trashed")
SURFACE_KINDS = ("article page by slug", "API detail", "API list filters", "API cursors", "NDJSON dump", "feeds",
                 "search", "sitemap", "lists by tag/region/source/author", "related articles", "figure pages",
                 "figure CSV", "figures API", "withdrawals", "home")


@pytest.fixture
def world():
    """One article per state sharing a tag (重庆), a region (万州区), a publisher and data source and a
    reporter, each with a verified figure; two more hidden states (a draft and an article in review
    that keep an earlier publication date, as unpublishing leaves them); a published sibling for
    related articles; and a tag, author and source that only the draft has."""
    articles = make_article_in_each_state(title="{state}-标题-{state}", summary="{state} 摘要")
    shared = articles["published"]
    now = timezone.now()
    for state, status in (("unpublished", Article.Status.DRAFT), ("dated_review", Article.Status.REVIEW),
                          ("trashed", Article.Status.TRASHED)):
        article = make_article(title=f"{state}-标题-{state}", summary=f"{state} 摘要", status=status,
                               published_at=now - timedelta(days=5), publisher=shared.publisher)
        article.tags.add("重庆")
        article.regions.add(*shared.regions.all())
        article.data_sources.add(*shared.data_sources.all())
        ArticleAuthor.objects.create(article=article, author=shared.bylines.get().author, role=ArticleAuthor.Role.REPORTER)
        articles[state] = article
    sibling = make_article(title="sibling-标题-sibling", published_at=now - timedelta(hours=3))
    sibling.tags.add("重庆")
    sibling.regions.add(*shared.regions.all())
    articles["sibling"] = sibling
    wanzhou = Region.objects.get(name="万州区")
    for n, (state, article) in enumerate(articles.items(), start=1):
        StatisticFigure.objects.create(
            article=article, indicator="地区生产总值", value=n, value_text=f"{n} 万亿元", quote=f"{state}-数字句",
            start_offset=0, end_offset=3, period="2021", region=wanzhou, status=StatisticFigure.Status.VERIFIED,
        )
    draft = articles["draft"]
    draft.tags.add("仅草稿标签")
    ArticleAuthor.objects.create(article=draft, author=Author.objects.create(name="仅草稿作者"), order=1)
    draft.data_sources.add(Source.objects.create(name="仅草稿来源", kind=Source.Kind.DATA))
    for article in articles.values():
        article.refresh_from_db()  # the page documents and related ids the saves above rebuilt
    return articles


def markers(state):
    return (f"{state}-标题", f"{state} 摘要", f"{state}-数字句")


def assert_only_public(text, where, *, expect=("published",)):
    for state in expect:
        assert f"{state}-标题" in text or f"{state}-数字句" in text, (where, f"{state} missing: the test sees nothing")
    for state in HIDDEN:
        for marker in markers(state):
            assert marker not in text, (where, state, marker)


def surfaces(world):
    """Every public page, feed, dump and figure table that lists articles or figures."""
    shared = world["published"]
    region = Region.objects.get(name="万州区")
    tag = Tag.objects.get(name="重庆")
    author = shared.bylines.get().author
    pages = [
        "/", "/articles/", "/articles/?page=1", shared.get_absolute_url(), world["sibling"].get_absolute_url(),
        reverse("articles:tag", args=[tag.slug]), region.get_absolute_url(),
        Region.objects.get(name="重庆市").get_absolute_url(), Region.objects.get(name="成渝地区双城经济圈").get_absolute_url(),
        shared.publisher.get_absolute_url(), author.get_absolute_url(),
        reverse("articles:search") + "?q=标题",
        reverse("articles:feed_latest"), reverse("articles:feed_latest_atom"),
        reverse("articles:feed_region", args=[region.slug]), reverse("articles:feed_tag", args=[tag.slug]),
        reverse("articles:figures") + "?indicator=地区生产总值",
        reverse("articles:figures") + "?indicator=地区生产总值&format=csv",
        reverse("articles:region_figures", args=[region.slug]),
        reverse("articles:region_figures", args=[region.slug]) + "?format=csv",
        reverse("api:export"), reverse("api:figures"), reverse("api:figures") + "?format=csv",
        reverse("api:figures") + f"?region={region.slug}&indicator=地区生产总值&period=2021",
        reverse("api:article", args=[shared.slug]),
    ]
    api = reverse("api:articles")
    filters = [
        {}, {"tag": tag.slug}, {"region": region.slug}, {"source": shared.publisher.slug}, {"author": author.slug},
        {"q": "标题"}, {"published_before": "2100-01-01"}, {"published_after": "2000-01-01"},
        {"updated_since": "2000-01-01"}, {"updated_since": "2000-01-01", "region": region.slug, "tag": tag.slug},
        {"published_after": (timezone.now() - timedelta(days=10)).date().isoformat(), "limit": "100"},
    ]
    return pages + [api + "?" + "&".join(f"{k}={v}" for k, v in f.items()) for f in filters]


@pytest.mark.parametrize("role", ["anonymous", "editor"])
def test_every_public_surface_shows_published_articles_only(people, world, role):
    client = client_as(people, role)  # signed in changes nothing: the public site is the public set
    for url in surfaces(world):
        response = client.get(url)
        assert response.status_code == 200, url
        text = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
        assert_only_public(text, url)
    # The indicator list shows counts, not sentences: the public articles' two figures.
    (summary,) = client.get(reverse("articles:figures")).context["indicators"]
    assert (summary.name, summary.figure_count) == ("地区生产总值", 2)


def test_sitemap_lists_no_hidden_article_nor_what_only_they_have(client, world):
    text = client.get("/sitemap.xml").content.decode()
    assert world["published"].get_absolute_url() in text
    for state in HIDDEN:
        assert world[state].get_absolute_url() not in text, state
    draft_only = [reverse("articles:tag", args=[Tag.objects.get(name="仅草稿标签").slug]),
                  Author.objects.get(name="仅草稿作者").get_absolute_url(),
                  Source.objects.get(name="仅草稿来源").get_absolute_url()]
    for url in draft_only:
        assert url not in text


def test_a_guessed_slug_finds_nothing(people, world):
    missing = Client().get("/articles/no-such-article/")
    for role in ROLES:
        client = client_as(people, role)
        for state in HIDDEN:
            article = world[state]
            page = client.get(article.get_absolute_url())
            assert page.status_code == 404 == missing.status_code, (role, state)
            assert f"{state}-标题" not in page.content.decode()
            api = client.get(reverse("api:article", args=[article.slug]))
            assert api.status_code == 404 and f"{state}-标题" not in api.content.decode(), (role, state)


def test_names_only_hidden_articles_have_are_unknown_everywhere(client, world):
    """A tag, author or source only a draft has answers exactly as one that does not exist."""
    tag = Tag.objects.get(name="仅草稿标签")
    author = Author.objects.get(name="仅草稿作者")
    source = Source.objects.get(name="仅草稿来源")
    for url in (reverse("articles:tag", args=[tag.slug]), reverse("articles:feed_tag", args=[tag.slug]),
                author.get_absolute_url(), source.get_absolute_url()):
        assert client.get(url).status_code == 404, url
        assert "仅草稿" not in client.get(url).content.decode(), url
    for api, name, slug in (("api:articles", "tag", tag.slug), ("api:articles", "author", author.slug),
                            ("api:articles", "source", source.slug), ("api:figures", "source", source.slug)):
        hidden = client.get(reverse(api), {name: slug})
        unknown = client.get(reverse(api), {name: "no-such-" + name})
        assert hidden.status_code == unknown.status_code == 400, (api, name)
        assert hidden.json()["error"]["parameter"] == unknown.json()["error"]["parameter"] == name
        assert (hidden.json()["error"]["message"].replace(slug, "?")
                == unknown.json()["error"]["message"].replace("no-such-" + name, "?")), (api, name)


def public_ids(world):
    return {world["published"].pk, world["sibling"].pk}


def follow(client, url):
    """Every id on every page, following ``next``; and the cursors seen."""
    ids, cursors = [], []
    while url:
        body = client.get(url).json()
        assert "results" in body, body
        ids += [row["id"] for row in body["results"]]
        url = body["next"]
        if url:
            cursors.append(url.split("cursor=")[1].split("&")[0])
    return ids, cursors


def test_api_pages_and_cursors_hold_published_articles_only(client, world):
    for query in ("?limit=1", "?limit=1&updated_since=2000-01-01", "?limit=1&region=" + Region.objects.get(name="万州区").slug):
        ids, _ = follow(client, reverse("api:articles") + query)
        assert sorted(ids) == sorted(public_ids(world)), query
    export = [json.loads(line)["id"] for line in b"".join(client.get(reverse("api:export")).streaming_content).splitlines()]
    assert sorted(export) == sorted(public_ids(world))


def test_a_cursor_is_a_position_not_a_key(client, world, clock):
    """Tampered or foreign cursors are refused; even a validly signed cursor (made here with the
    server's key, which no client has) only says where to start: the rows are still the public set."""
    api = reverse("api:articles")
    body = client.get(api, {"limit": 1}).json()
    cursor = body["next"].split("cursor=")[1]
    from urllib.parse import unquote

    cursor = unquote(cursor)
    refused = {
        "tampered": cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),
        "signed elsewhere": signing.dumps({"o": "newest", "k": [timezone.now().isoformat(), 10**9]},
                                          key="attacker", salt=api_cursor.SALT, compress=True),
        "sync order": signing.dumps({"o": "sync", "k": [timezone.now().isoformat(), 1]}, salt=api_cursor.SALT),
        "preview token": preview.preview_token(world["draft"]),
        "figures cursor": signing.Signer(salt="articles.api.figures.cursor").sign("1"),
    }
    for what, forged in refused.items():
        response = client.get(api, {"cursor": forged})
        assert response.status_code == 400 and response.json()["error"]["parameter"] == "cursor", what
    # The worst case, a cursor signed with our key placed just past the scheduled article: public rows only.
    scheduled = world["scheduled"]
    for order, key in ((api_cursor.NEWEST, [(scheduled.published_at + timedelta(days=1)).isoformat(), 10**9]),
                       (api_cursor.SYNC, ["2000-01-01T00:00:00+00:00", 0])):
        made = signing.dumps({"o": order, "k": key}, salt=api_cursor.SALT, compress=True)
        query = {"cursor": made, "limit": 100} | ({"updated_since": "2000-01-01"} if order == api_cursor.SYNC else {})
        ids = [row["id"] for row in client.get(api, query).json()["results"]]
        assert set(ids) <= public_ids(world) and ids, order
    # Replaying a cursor after an article left the public set: it is not on the page.
    world["sibling"].status = Article.Status.DRAFT
    world["sibling"].save()
    clock.advance(seconds=1)
    ids = [row["id"] for row in client.get(api, {"cursor": cursor, "limit": 100}).json()["results"]]
    assert world["sibling"].pk not in ids


def test_withdrawals_name_only_articles_that_were_public(client, world, clock):
    url = reverse("api:withdrawals")
    assert client.get(url).json()["results"] == []  # none of the hidden articles was ever public
    clock.advance(seconds=1)
    world["published"].status = Article.Status.DRAFT
    world["published"].save()
    rows = client.get(url).json()["results"]
    assert [row["id"] for row in rows] == [world["published"].pk]


def test_a_scheduled_article_appears_when_its_time_comes_and_not_before(client, world, clock):
    scheduled = world["scheduled"]
    assert client.get(scheduled.get_absolute_url()).status_code == 404
    assert scheduled.pk not in [row["id"] for row in client.get(reverse("api:articles")).json()["results"]]
    clock.advance(days=2)
    assert client.get(scheduled.get_absolute_url()).status_code == 200
    assert scheduled.pk in [row["id"] for row in client.get(reverse("api:articles")).json()["results"]]


def test_related_articles_are_public_ones_only(client, world):
    response = client.get(world["sibling"].get_absolute_url())
    related = response.context["related_articles"]
    assert world["published"] in related
    assert not {article.pk for article in related} & {world[state].pk for state in HIDDEN}
