"""GET /api/v1/withdrawals/: articles that left the public set, for consumers syncing with updated_since."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles import workflow
from articles.models import Article, Withdrawal

from .adminform import form_data
from .factories import make_article

pytestmark = pytest.mark.django_db

URL = "/api/v1/withdrawals/"
ARTICLES = "/api/v1/articles/"


@pytest.fixture
def editor(admin_user):
    return admin_user


def body(client, url=URL, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content
    return response.json()


def everything(client, url=URL, **params):
    """Every row, following ``next``."""
    rows, data = [], body(client, url, **params)
    while True:
        rows += data["results"]
        if not data["next"]:
            return rows
        data = body(client, data["next"])


def withdrawn(client, **params):
    return {row["id"]: row["slug"] for row in everything(client, **params)}


def iso(moment):
    return moment.isoformat()


# --- what counts as leaving --------------------------------------------------------------------------------------


def test_every_way_of_leaving_the_public_set_is_listed(client, clock, editor):
    unpublished, archived, in_review, rescheduled, deleted, bulk_deleted, stays = (
        make_article(title=f"公开 {n}") for n in range(7)
    )
    gone = sorted((a.pk, a.slug) for a in (unpublished, archived, in_review, rescheduled, deleted, bulk_deleted))
    clock.advance(minutes=1)
    workflow.unpublish(Article.objects.filter(pk=unpublished.pk), user=editor)
    workflow.archive(Article.objects.filter(pk=archived.pk), user=editor)
    in_review.status = Article.Status.REVIEW
    in_review.save()
    rescheduled.published_at = clock.now + timedelta(days=1)
    rescheduled.save()
    deleted.delete()
    Article.objects.filter(pk=bulk_deleted.pk).delete()  # a queryset delete, as the admin's action does

    data = body(client)
    assert data["version"] == "1.0" and data["next"] is None
    assert [(row["id"], row["slug"]) for row in data["results"]] == gone
    assert {row["withdrawn_at"] for row in data["results"]} == {iso(clock.now)}
    assert set(data["results"][0]) == {"id", "slug", "withdrawn_at"}
    assert stays.pk not in withdrawn(client)


def test_leaving_through_the_admin_is_listed(admin_client):
    by_form, by_action, by_delete, by_bulk_delete = (make_article(title=f"后台 {n}") for n in range(4))
    change = reverse("admin:articles_article_change", args=[by_form.pk])
    data = form_data(admin_client.get(change))
    data["status"] = Article.Status.DRAFT
    assert admin_client.post(change, data).status_code == 302
    changelist = reverse("admin:articles_article_changelist")
    admin_client.post(changelist, {"action": "archive_selected", "_selected_action": [by_action.pk]})
    delete = reverse("admin:articles_article_delete", args=[by_delete.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    admin_client.post(changelist, {"action": "trash_selected", "_selected_action": [by_bulk_delete.pk], "post": "yes"})
    # The admin's delete moves to the trash (tests/test_trash.py): out of the public set, row kept.
    trashed = Article.objects.filter(pk__in=[by_delete.pk, by_bulk_delete.pk], status=Article.Status.TRASHED)
    assert trashed.count() == 2
    assert withdrawn(client=admin_client) == {a.pk: a.slug for a in (by_form, by_action, by_delete, by_bulk_delete)}


def test_articles_never_public_leave_no_trace(client, clock, editor):
    draft = make_article(status=Article.Status.DRAFT, slug="cao-gao-mi-mi")
    draft.title = "改过"
    draft.save()
    scheduled = make_article(published_at=clock.now + timedelta(hours=1), slug="ding-shi-mi-mi")
    scheduled.status = Article.Status.DRAFT  # unscheduled before its time: never public
    scheduled.save()
    review = make_article(status=Article.Status.REVIEW)
    workflow.archive(Article.objects.filter(pk=review.pk), user=editor)
    never = make_article(status=Article.Status.DRAFT)
    never.delete()
    Article.objects.filter(pk=draft.pk).delete()
    assert body(client)["results"] == [] and not Withdrawal.objects.exists()


def test_public_again_leaves_the_withdrawals_and_returns_through_updated_since(client, clock, editor):
    article = make_article(title="回来的文章")
    synced_at = clock.now
    clock.advance(minutes=1)
    workflow.unpublish(Article.objects.filter(pk=article.pk), user=editor)
    assert withdrawn(client) == {article.pk: article.slug}
    assert [d["slug"] for d in everything(client, ARTICLES, updated_since=iso(synced_at))] == []

    clock.advance(minutes=1)
    workflow.publish(Article.objects.filter(pk=article.pk), user=editor)
    assert withdrawn(client) == {}  # public again: not withdrawn any more
    [document] = everything(client, ARTICLES, updated_since=iso(synced_at))
    assert document["id"] == article.pk and document["updated_at"] == iso(clock.now)

    # Moved to a future time: withdrawn until then, and back when the clock gets there.
    clock.advance(minutes=1)
    article.refresh_from_db()
    article.published_at = clock.now + timedelta(hours=2)
    article.save()
    assert withdrawn(client) == {article.pk: article.slug}
    watermark = clock.now
    clock.advance(hours=2, seconds=1)
    assert withdrawn(client) == {}
    assert [d["id"] for d in everything(client, ARTICLES, updated_since=iso(watermark))] == [article.pk]


def test_a_withdrawal_names_the_slug_consumers_knew(client, clock, editor):
    article = make_article(slug="jiu-de-wang-zhi")
    article.slug = "xin-de-wang-zhi"
    article.status = Article.Status.DRAFT  # renamed and unpublished in one save
    article.save()
    article.slug = "cao-gao-li-gai-de"  # renamed again as a draft: nobody saw that one
    article.save()
    assert withdrawn(client) == {article.pk: "jiu-de-wang-zhi"}


def test_withdrawing_again_moves_the_row_to_the_end(client, clock, editor):
    first, second = make_article(), make_article()
    clock.advance(minutes=1)
    workflow.unpublish(Article.objects.filter(pk=first.pk), user=editor)
    clock.advance(minutes=1)
    workflow.unpublish(Article.objects.filter(pk=second.pk), user=editor)
    page = body(client, limit=1)
    assert [row["id"] for row in page["results"]] == [first.pk]
    clock.advance(minutes=1)
    workflow.publish(Article.objects.filter(pk=first.pk), user=editor)
    first.refresh_from_db()
    first.slug = "gai-hou-zai-che"
    first.save()
    clock.advance(minutes=1)
    workflow.archive(Article.objects.filter(pk=first.pk), user=editor)
    rest = everything(client, page["next"])
    assert [(row["id"], row["slug"], row["withdrawn_at"]) for row in rest] == [
        (second.pk, second.slug, iso(clock.now - timedelta(minutes=2))),
        (first.pk, "gai-hou-zai-che", iso(clock.now)),  # delivered again, with its new time and slug
    ]
    assert Withdrawal.objects.count() == 2  # one row per article


# --- since, pages, errors ------------------------------------------------------------------------------------------


def test_since_is_inclusive_and_pages_cover_every_row_once(client, clock):
    articles = [make_article() for _ in range(5)]
    ids = [a.pk for a in articles]
    times = []
    for article in articles:
        clock.advance(minutes=1)
        times.append(clock.now)
        article.delete()
    assert [row["id"] for row in everything(client, limit=2)] == ids
    assert [row["id"] for row in everything(client, since=iso(times[2]))] == ids[2:]
    naive_beijing = f"{times[3].astimezone(ZoneInfo('Asia/Shanghai')):%Y-%m-%dT%H:%M:%S}"
    assert [row["id"] for row in everything(client, since=naive_beijing)] == ids[3:]
    assert everything(client, since=iso(times[-1] + timedelta(seconds=1))) == []

    page = body(client, limit=2)
    late = make_article()
    late_id = late.pk
    clock.advance(minutes=1)
    late.delete()  # while the consumer pages
    assert [row["id"] for row in page["results"] + everything(client, page["next"])] == [*ids, late_id]


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("since=yesterday", "since"),
        ("since=2022-02-30", "since"),
        ("since=0001-01-01", "since"),
        ("since=2022-07-31%00", "since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        (f"limit={10**9}", "limit"),
        ("limit=ten", "limit"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_parameter_is_a_400_naming_it(client, query, name):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["parameter"] == name and response.json()["error"]["message"]
    assert response["Access-Control-Allow-Origin"] == "*"


def test_a_cursor_from_elsewhere_or_tampered_is_a_400(client, clock):
    for _ in range(3):
        make_article().delete()
        make_article()
    next_url = body(client, limit=1)["next"]
    cursor = next_url.split("cursor=")[1]
    assert client.get(URL, {"limit": 1, "cursor": cursor[:-2] + "xx"}).status_code == 400
    articles_cursor = body(client, ARTICLES, limit=1, updated_since="2000-01-01")["next"].split("cursor=")[1].split("&")[0]
    for url, value in ((URL, articles_cursor), (ARTICLES, cursor)):
        response = client.get(url, {"limit": 1, "cursor": value, "updated_since": "2000-01-01"})
        assert response.status_code == 400 and response.json()["error"]["parameter"] == "cursor"


# --- HTTP and queries ------------------------------------------------------------------------------------------------


def test_cors_cache_control_conditional_get_and_methods(client):
    make_article().delete()
    response = client.get(URL)
    assert response["Access-Control-Allow-Origin"] == "*" and "Access-Control-Allow-Credentials" not in response
    assert "ETag" in response["Access-Control-Expose-Headers"]
    assert "public" in response["Cache-Control"] and "max-age=60" in response["Cache-Control"]
    assert client.get(URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(URL, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    make_article().delete()  # a new withdrawal: a new generation
    assert client.get(URL, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 200
    assert client.post(URL).status_code == 405
    preflight = client.options(URL, HTTP_ORIGIN="https://partner.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="if-none-match")
    assert preflight.status_code == 204 and preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "if-none-match" in preflight["Access-Control-Allow-Headers"].lower()


def test_constant_queries_per_page(client):
    for _ in range(60):
        make_article().delete()

    def count(limit):
        with CaptureQueriesContext(connection) as queries:
            assert len(body(client, limit=limit)["results"]) == limit
        return len(queries)

    assert count(5) == count(50)
