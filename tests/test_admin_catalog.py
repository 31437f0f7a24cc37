"""The catalogue admin (sources, authors, regions, images, figures, taggit tags) and its merge action."""

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from taggit.models import Tag

from articles.models import Article, ArticleAuthor, Author, Image, Region, Source, StatisticFigure

from .factories import make_article

pytestmark = pytest.mark.django_db

CATALOG = ["source", "author", "region", "image", "statisticfigure"]


def changelist(name, app="articles"):
    return reverse(f"admin:{app}_{name}_changelist")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


@pytest.fixture
def rows():
    """One row of every catalogue model, linked together, and a tag."""
    publisher = Source.objects.create(name="测试日报", kind=Source.Kind.PUBLISHER, aliases=["测日"], domains=["ceshi.cn"])
    person = Author.objects.create(name="测试记者", aliases=["测 试"])
    place = Region.objects.create(name="测试市", kind=Region.Kind.CITY, parent=Region.objects.get(name="重庆市"))
    article = make_article(publisher=publisher)
    article.regions.add(place)
    article.tags.add("重庆")
    ArticleAuthor.objects.create(article=article, author=person)
    image = Image.objects.create(remote_url="https://ceshi.cn/pic.jpg", credit="测试记者 摄", photographer=person)
    figure = StatisticFigure.objects.create(
        article=article, value=1, value_text="1", quote="一", start_offset=0, end_offset=1, region=place, source=publisher
    )
    return {"source": publisher, "author": person, "region": place, "image": image, "statisticfigure": figure}


# --- pages ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CATALOG)
def test_catalog_changelist_add_and_change_pages_load(admin_client, rows, name):
    assert admin_client.get(changelist(name)).status_code == 200
    assert admin_client.get(reverse(f"admin:articles_{name}_add")).status_code == 200
    assert admin_client.get(reverse(f"admin:articles_{name}_change", args=[rows[name].pk])).status_code == 200


@pytest.mark.parametrize(
    "name, query, expected",
    [("source", "测日", "测试日报"), ("source", "ceshi.cn", "测试日报"), ("author", "测 试", "测试记者"),
     ("region", "测试", "测试市"), ("image", "pic.jpg", "pic.jpg")],
)
def test_catalog_search_covers_aliases_and_domains(admin_client, rows, name, query, expected):
    response = admin_client.get(changelist(name), {"q": query})
    assert [str(obj) for obj in response.context["cl"].result_list] == [str(rows[name])]
    assert expected in response.content.decode()


def test_taggit_tag_admin_loads_and_supports_autocomplete(admin_client, rows):
    assert admin_client.get(changelist("tag", app="taggit")).status_code == 200
    assert admin_client.get(reverse("admin:taggit_tag_add")).status_code == 200
    assert admin.site._registry[Tag].search_fields  # needed by autocomplete_fields elsewhere


def test_source_changelist_counts_articles_by_role(admin_client, rows):
    publisher = rows["source"]
    make_article(syndicator=publisher)
    make_article().data_sources.add(publisher)
    response = admin_client.get(changelist("source"), {"q": "测试日报"})
    [row] = response.context["cl"].result_list
    assert (row.published_count, row.syndicated_count, row.data_count) == (1, 1, 1)


def test_author_changelist_shows_aliases_and_byline_count(admin_client, rows):
    response = admin_client.get(changelist("author"), {"q": "测试记者"})
    [row] = response.context["cl"].result_list
    assert row.byline_count == 1 and "测 试" in response.content.decode()


def test_image_changelist_has_thumbnail(admin_client, rows):
    html = admin_client.get(changelist("image")).content.decode()
    assert '<img src="https://ceshi.cn/pic.jpg"' in html


@pytest.mark.parametrize("name", ["source", "author", "image"])
def test_catalog_changelist_query_count_does_not_grow(admin_client, rows, name):
    def count():
        with CaptureQueriesContext(connection) as context:
            assert admin_client.get(changelist(name)).status_code == 200
        return len(context)

    few = count()
    for n in range(5):
        article = make_article(publisher=rows["source"])
        ArticleAuthor.objects.create(article=article, author=Author.objects.create(name=f"批量作者{n}"))
        Image.objects.create(remote_url=f"https://ceshi.cn/{n}.jpg")
    assert count() == few


# --- merge action -----------------------------------------------------------------------------------------------


def make_duplicates(name):
    if name == "source":
        return Source.objects.create(name="重庆统计局", kind="data"), Source.objects.create(name="重庆统计局（旧）", kind="data")
    if name == "author":
        return Author.objects.create(name="何超"), Author.objects.create(name="何超（重复）")
    return Region.objects.create(name="测试区甲", kind="county"), Region.objects.create(name="测试区乙", kind="county")


def merge_post(pks, **extra):
    return {"action": "merge_selected", helpers.ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], **extra}


@pytest.mark.parametrize("name", ["source", "author", "region"])
def test_merge_action_confirms_then_merges(admin_client, name):
    keep, dup = make_duplicates(name)
    article = make_article()
    if name == "source":
        article.data_sources.add(dup)
        relations = "1 篇文章的数据来源"
    elif name == "author":
        ArticleAuthor.objects.create(article=article, author=dup)
        relations = "1 条署名"
    else:
        article.regions.add(dup)
        relations = "1 篇文章的地区"

    confirm = admin_client.post(changelist(name), merge_post([keep.pk, dup.pk]))
    assert confirm.status_code == 200
    assert "admin/articles/merge_confirm.html" in [t.name for t in confirm.templates]
    html = confirm.content.decode()
    assert str(keep) in html and str(dup) in html and relations in html and "没有关联" in html
    assert f'name="keep" value="{keep.pk}"' in html and 'name="post" value="yes"' in html
    assert type(dup).objects.filter(pk=dup.pk).exists()  # nothing happens before confirming

    done = admin_client.post(changelist(name), merge_post([keep.pk, dup.pk], keep=str(keep.pk), post="yes"), follow=True)
    assert done.status_code == 200
    assert not type(dup).objects.filter(pk=dup.pk).exists()
    [message] = messages_of(done)
    assert message.startswith(f"已合并 1 个{type(keep)._meta.verbose_name}到「{keep}」：转移 {relations}")
    keep.refresh_from_db()
    assert str(dup) in keep.aliases


def test_merge_action_needs_a_choice_of_keep(admin_client):
    keep, dup = make_duplicates("source")
    response = admin_client.post(changelist("source"), merge_post([keep.pk, dup.pk], post="yes"))
    assert response.status_code == 200 and "请选择要保留的一项" in response.content.decode()
    assert Source.objects.filter(pk__in=[keep.pk, dup.pk]).count() == 2


def test_merge_action_warns_with_fewer_than_two_rows(admin_client):
    keep, _ = make_duplicates("author")
    response = admin_client.post(changelist("author"), merge_post([keep.pk], keep=str(keep.pk), post="yes"), follow=True)
    assert messages_of(response) == ["请至少选择两项再合并。"]
    assert Author.objects.filter(name__startswith="何超").count() == 2


def test_merge_action_reports_a_refused_merge(admin_client):
    parent = Region.objects.create(name="测试上级", kind="city")
    child = Region.objects.create(name="测试下级", kind="county", parent=parent)
    response = admin_client.post(
        changelist("region"), merge_post([parent.pk, child.pk], keep=str(child.pk), post="yes"), follow=True
    )
    assert messages_of(response) == ["不能把地区「测试上级」合并到它的下级地区「测试下级」。"]
    assert Region.objects.filter(pk__in=[parent.pk, child.pk]).count() == 2


def staff_with(django_user_model, *codenames):
    user = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="articles", codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("codenames", [("view_source", "change_source"), ("view_source", "delete_source")])
def test_merge_action_needs_change_and_delete_permission(django_user_model, codenames):
    keep, dup = make_duplicates("source")
    client = staff_with(django_user_model, *codenames)

    page = client.get(changelist("source"))
    assert page.status_code == 200 and "merge_selected" not in page.content.decode()
    client.post(changelist("source"), merge_post([keep.pk, dup.pk]))
    client.post(changelist("source"), merge_post([keep.pk, dup.pk], keep=str(keep.pk), post="yes"))
    assert Source.objects.filter(pk__in=[keep.pk, dup.pk]).count() == 2
    keep.refresh_from_db()
    assert keep.aliases == []


def test_merge_action_offered_with_change_and_delete_permission(django_user_model):
    keep, dup = make_duplicates("source")
    client = staff_with(django_user_model, "view_source", "change_source", "delete_source")
    assert "merge_selected" in client.get(changelist("source")).content.decode()
    client.post(changelist("source"), merge_post([keep.pk, dup.pk], keep=str(keep.pk), post="yes"))
    assert list(Source.objects.filter(pk__in=[keep.pk, dup.pk])) == [keep]


def test_merged_article_keeps_its_source(admin_client):
    keep, dup = make_duplicates("source")
    article = make_article(publisher=dup, syndicator=dup)
    admin_client.post(changelist("source"), merge_post([keep.pk, dup.pk], keep=str(keep.pk), post="yes"))
    article = Article.objects.get(pk=article.pk)
    assert article.publisher == keep and article.syndicator == keep
