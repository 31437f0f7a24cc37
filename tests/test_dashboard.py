"""The admin index's "待处理" module: counts of what needs attention, linked to filtered lists."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.template.loader import get_template
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.dashboard import attention_items
from articles.models import Article, Image, ImportRun, StatisticFigure

from .factories import make_article

pytestmark = pytest.mark.django_db

INDEX = "/admin/"


def make_figure(article, **overrides):
    fields = {"value": 1, "value_text": "1 万元", "quote": "增长 1 万元", "start_offset": 0, "end_offset": 4}
    return StatisticFigure.objects.create(article=article, **{**fields, **overrides})


@pytest.fixture
def attention():
    """Two of everything that needs attention, next to rows that do not."""
    later = timezone.now() + timezone.timedelta(days=2)
    for _ in range(2):
        make_article(status=Article.Status.REVIEW)
    make_article(published_at=later)
    make_article(status=Article.Status.PUBLISHED)
    make_article(status=Article.Status.DRAFT, published_at=later)
    make_article(status=Article.Status.ARCHIVED)
    Image.objects.create(remote_url="https://example.com/a.jpg", fetch_status=Image.FetchStatus.FAILED)
    Image.objects.create(remote_url="https://example.com/b.jpg", fetch_status=Image.FetchStatus.FETCHED)
    article = make_article()
    make_figure(article)
    make_figure(article, status=StatisticFigure.Status.VERIFIED)
    ImportRun.objects.create(summary="2 file(s): 1 created, 1 failed", failed_count=1)
    ImportRun.objects.create(summary="1 file(s): 1 created", failed_count=0)


def test_attention_items_count_with_one_query_per_model(attention, django_assert_num_queries):
    with django_assert_num_queries(4):
        items = attention_items()
    assert [(item["key"], item["count"], item["url"]) for item in items] == [
        ("review", 2, "/admin/articles/article/?status__exact=review"),
        ("scheduled", 1, "/admin/articles/article/?publication=scheduled"),
        ("failed_imports", 1, "/admin/articles/importrun/?failed=yes"),
        ("failed_images", 1, "/admin/articles/image/?fetch_status__exact=failed"),
        ("candidate_figures", 1, "/admin/articles/statisticfigure/?status__exact=candidate"),
    ]
    assert [item["label"] for item in items] == [
        "待审文章", "定时发布的文章", "有失败文件的导入", "下载失败的图片", "待核实的统计数字"
    ]


def test_attention_items_show_only_what_the_user_may_view(django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_article"))
    assert [item["key"] for item in attention_items(user=viewer)] == ["review", "scheduled"]
    contributor = django_user_model.objects.create_user("contributor", password="pw", is_staff=True)
    contributor.groups.add(Group.objects.get(name="Contributor"))
    assert len(attention_items(user=contributor)) == 5  # importers see the import records too


def test_index_uses_the_newsroom_template():
    origin = get_template("admin/index.html").origin.name
    assert origin.endswith("articles/templates/admin/index.html"), (
        "the admin's own index.html wins: list 'articles' before 'django.contrib.admin' in INSTALLED_APPS"
    )


def test_index_shows_what_needs_attention(admin_client, attention):
    html = admin_client.get(INDEX).content.decode()
    assert "待处理" in html
    assert '<a href="/admin/articles/article/?status__exact=review">待审文章</a>' in html
    assert '<span class="attention-count">2</span>' in html
    assert 'href="/admin/articles/statisticfigure/?status__exact=candidate"' in html
    assert html.index("待处理") < html.index('id="content-main"')  # above the app list


def test_index_greys_out_zero_counts(admin_client):
    html = admin_client.get(INDEX).content.decode()
    assert '<a href="/admin/articles/article/?status__exact=review" class="quiet">待审文章</a>' in html
    assert '<span class="quiet">0</span>' in html


def test_index_hides_the_module_from_users_who_cannot_view_articles(client, django_user_model, attention):
    staff = django_user_model.objects.create_user("staff", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get(INDEX)
    assert response.status_code == 200 and "待处理" not in response.content.decode()


def test_index_queries_do_not_grow_with_articles(admin_client, attention, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as few:
        admin_client.get(INDEX)
    for n in range(20):
        make_article(status=Article.Status.REVIEW if n % 2 else Article.Status.DRAFT)
        Image.objects.create(remote_url=f"https://example.com/{n}.jpg", fetch_status=Image.FetchStatus.FAILED)
    with django_assert_max_num_queries(len(few)):
        html = admin_client.get(INDEX).content.decode()
    assert '<span class="attention-count">12</span>' in html  # 2 + 10 in review
