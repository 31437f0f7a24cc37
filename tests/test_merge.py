"""articles.merge against the real database: every relation moves, nothing is lost or duplicated."""

import datetime
import itertools

import pytest
from django.db.models import ManyToManyRel

from articles.merge import MergeResult, describe_relations, merge_authors, merge_regions, merge_sources, relation_counts
from articles.models import Article, ArticleAuthor, Author, Image, Region, Source, StatisticFigure

from .factories import make_article

pytestmark = pytest.mark.django_db
_n = itertools.count(1)

MERGES = [(Source, merge_sources), (Author, merge_authors), (Region, merge_regions)]


def source(name, **fields):
    return Source.objects.create(name=name, kind=fields.pop("kind", Source.Kind.DATA), **fields)


def author(name, **fields):
    return Author.objects.create(name=name, **fields)


def region(name, **fields):
    return Region.objects.create(name=name, kind=fields.pop("kind", Region.Kind.CITY), **fields)


def figure(article, **fields):
    n = next(_n)
    return StatisticFigure.objects.create(
        article=article, value=n, value_text=str(n), quote=f"第{n}句", start_offset=0, end_offset=1, **fields
    )


def byline(article, person, role=ArticleAuthor.Role.REPORTER, order=0):
    return ArticleAuthor.objects.create(article=article, author=person, role=role, order=order)


def pointing_at(model, pks) -> list[str]:
    """Relations of ``model`` (read from its meta, not from articles.merge) that still reference ``pks``."""
    left = []
    for rel in model._meta.related_objects:
        if isinstance(rel, ManyToManyRel):
            rows = rel.through._base_manager.filter(**{f"{rel.field.m2m_reverse_field_name()}__in": pks})
        else:
            rows = rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": pks})
        if rows.exists():
            left.append(rel.get_accessor_name())
    for m2m in model._meta.many_to_many:
        if m2m.remote_field.through._base_manager.filter(**{f"{m2m.m2m_field_name()}__in": pks}).exists():
            left.append(m2m.name)
    return left


def reported_key(rel) -> str:
    """The MergeResult key expected for a related object: an explicit through table reports its own rows."""
    if isinstance(rel, ManyToManyRel) and not rel.through._meta.auto_created:
        return rel.through._meta.get_field(rel.field.m2m_reverse_field_name()).remote_field.get_accessor_name()
    return rel.get_accessor_name()


def make_pair(model):
    if model is Source:
        return source("测试来源甲"), source("测试来源乙")
    if model is Author:
        return author("测试作者甲"), author("测试作者乙")
    return region("测试地区甲"), region("测试地区乙")


# --- refusals, for all three ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model, merge", MERGES)
def test_refuses_empty_duplicates(model, merge):
    keep, _ = make_pair(model)
    with pytest.raises(ValueError, match="没有选择"):
        merge(keep=keep, duplicates=[])


@pytest.mark.parametrize("model, merge", MERGES)
def test_refuses_keep_among_duplicates(model, merge):
    keep, other = make_pair(model)
    with pytest.raises(ValueError, match="既是要保留"):
        merge(keep=keep, duplicates=[other, keep])
    assert model.objects.filter(pk__in=[keep.pk, other.pk]).count() == 2


@pytest.mark.parametrize("model, merge", MERGES)
def test_every_related_object_is_reported_and_emptied(model, merge):
    keep, dup = make_pair(model)
    result = merge(keep=keep, duplicates=[dup])
    assert {reported_key(rel) for rel in model._meta.related_objects} <= set(result.moved)
    assert set(result.moved) == set(result.dropped) == set(relation_counts(keep))
    assert pointing_at(model, [dup.pk]) == []
    assert not model.objects.filter(pk=dup.pk).exists()


# --- sources ----------------------------------------------------------------------------------------------------


@pytest.fixture
def bureau():
    """重庆市统计局 (seeded) and two spellings of it, each with some articles and figures."""
    keep = Source.objects.get(name="重庆市统计局")
    keep.aliases, keep.domains, keep.homepage = ["市统计局"], ["tjj.cq.gov.cn"], ""
    keep.producer = "重庆市统计局"
    keep.save()
    short = source("重庆统计局", aliases=["渝统计"], domains=["TJJ.cq.gov.cn", "cqtj.gov.cn"],
                   homepage="https://tjj.cq.gov.cn/", producer="别的机构", url="https://tjj.cq.gov.cn/zwgk/",
                   accessed_date=datetime.date(2024, 5, 1))
    web = source("重庆市统计局网站", domains=["stats.cq.cn"], accessed_date=datetime.date(2023, 1, 1))
    return keep, short, web


def test_merge_sources_moves_articles_figures_and_data_sources(bureau):
    keep, short, web = bureau
    published = [make_article(publisher=short), make_article(publisher=web)]
    syndicated = make_article(syndicator=web)
    both = make_article()
    both.data_sources.set([keep, short])
    dup_only = make_article()
    dup_only.data_sources.set([short, web])
    fig = figure(both, source=web)

    result = merge_sources(keep=keep, duplicates=[short, web])

    assert isinstance(result, MergeResult)
    assert {k: n for k, n in result.moved.items() if n} == {
        "published_articles": 2, "syndicated_articles": 1, "data_articles": 1, "figures": 1,
    }
    assert {k: n for k, n in result.dropped.items() if n} == {"data_articles": 2}
    assert sorted(keep.published_articles.values_list("pk", flat=True)) == sorted(a.pk for a in published)
    assert list(keep.syndicated_articles.all()) == [syndicated]
    assert sorted(keep.data_articles.values_list("pk", flat=True)) == sorted([both.pk, dup_only.pk])
    for article in (both, dup_only):  # no duplicate M2M rows
        assert Article.data_sources.through.objects.filter(article=article).count() == 1
    fig.refresh_from_db()
    assert fig.source == keep
    assert pointing_at(Source, [short.pk, web.pk]) == []
    assert not Source.objects.filter(pk__in=[short.pk, web.pk]).exists()
    assert result.summary() == (
        "已合并 2 个来源到「重庆市统计局」：转移 2 篇文章的原发媒体、1 篇文章的转载平台、1 篇文章的数据来源、"
        "1 条统计数字的数据来源；去掉重复的 2 篇文章的数据来源。原名称已记为别名：重庆统计局、重庆市统计局网站。"
    )


def test_article_may_point_at_keep_twice(bureau):
    keep, short, web = bureau
    article = make_article(publisher=short, syndicator=web)
    result = merge_sources(keep=keep, duplicates=[short, web])
    article = Article.objects.get(pk=article.pk)
    assert (article.publisher, article.syndicator) == (keep, keep)
    assert result.moved["published_articles"] == result.moved["syndicated_articles"] == 1


def test_merge_sources_unions_lists_and_fills_blanks(bureau):
    keep, short, web = bureau
    merge_sources(keep=keep, duplicates=[short, web])
    keep.refresh_from_db()
    assert keep.aliases == ["市统计局", "重庆统计局", "渝统计", "重庆市统计局网站"]
    assert keep.domains == ["tjj.cq.gov.cn", "cqtj.gov.cn", "stats.cq.cn"]  # case-insensitive union
    assert keep.homepage == "https://tjj.cq.gov.cn/"  # was blank
    assert keep.url == "https://tjj.cq.gov.cn/zwgk/"
    assert keep.accessed_date == datetime.date(2024, 5, 1)  # first duplicate that has one
    assert keep.producer == "重庆市统计局"  # not blank: kept
    assert Source.objects.for_url("https://stats.cq.cn/x") == keep


def test_merge_sources_without_relations_says_so():
    keep, dup = source("来源丙"), source("来源丁")
    assert merge_sources(keep=keep, duplicates=[dup]).summary() == (
        "已合并 1 个来源到「来源丙」：没有需要转移的关联。原名称已记为别名：来源丁。"
    )


# --- authors ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "keep_order, dup_order, expected_order",
    [(2, 0, 0), (0, 3, 0), (1, 1, 1)],
)
def test_same_author_twice_in_one_role_leaves_one_byline_with_lower_order(keep_order, dup_order, expected_order):
    keep, dup = author("何超"), author("何超（重复导入）")
    article = make_article()
    byline(article, keep, order=keep_order)
    byline(article, dup, order=dup_order)

    result = merge_authors(keep=keep, duplicates=[dup])

    rows = list(ArticleAuthor.objects.filter(article=article).values_list("author_id", "role", "order"))
    assert rows == [(keep.pk, ArticleAuthor.Role.REPORTER, expected_order)]
    assert result.dropped["bylines"] == 1 and result.moved["bylines"] == 0


def test_merge_authors_moves_bylines_images_and_keeps_names():
    keep = author("王斌来", bio="", aliases=["王 斌来"])
    dup = author("Wang Binlai", bio="人民日报记者。")
    dup2 = author("王斌來", aliases=["斌来"], bio="另一段简介。")
    shared, other = make_article(), make_article()
    byline(shared, keep, ArticleAuthor.Role.REPORTER, order=0)
    byline(shared, dup, ArticleAuthor.Role.PHOTOGRAPHER, order=1)  # another role: stays as a second byline
    byline(shared, dup2, ArticleAuthor.Role.PHOTOGRAPHER, order=2)  # same as dup once merged: collapses
    byline(other, dup2, ArticleAuthor.Role.WRITER, order=0)
    photo = Image.objects.create(remote_url="https://example.cn/1.jpg", photographer=dup2)

    result = merge_authors(keep=keep, duplicates=[dup, dup2])

    assert list(ArticleAuthor.objects.filter(article=shared).values_list("author_id", "role", "order")) == [
        (keep.pk, ArticleAuthor.Role.REPORTER, 0), (keep.pk, ArticleAuthor.Role.PHOTOGRAPHER, 1),
    ]
    assert list(other.bylines.values_list("author_id", flat=True)) == [keep.pk]
    photo.refresh_from_db()
    assert photo.photographer == keep
    keep.refresh_from_db()
    assert keep.aliases == ["王 斌来", "Wang Binlai", "王斌來", "斌来"]
    assert keep.bio == "人民日报记者。\n\n另一段简介。"
    assert result.moved["bylines"] == 2 and result.dropped["bylines"] == 1 and result.moved["images"] == 1
    assert "转移 2 条署名、1 张图片的摄影者；去掉重复的 1 条署名" in result.summary()
    assert pointing_at(Author, [dup.pk, dup2.pk]) == []


def test_merge_authors_keeps_existing_bio():
    keep, dup = author("甲记者", bio="原简介"), author("乙记者", bio="新简介")
    merge_authors(keep=keep, duplicates=[dup])
    keep.refresh_from_db()
    assert keep.bio == "原简介"


# --- regions ----------------------------------------------------------------------------------------------------


@pytest.fixture
def chongqing():
    """The seeded 重庆市 (code blanked) and an imported duplicate 重庆 with children, areas, articles."""
    keep = Region.objects.get(name="重庆市")
    keep.code, keep.parent = "", None
    keep.save()
    keep.seeded_aliases = list(keep.aliases)
    dup = region("重庆（导入）", kind=Region.Kind.PROVINCE, short_name="渝州", code="500000", aliases=["山城"],
                 parent=Region.objects.get(name="中国"))
    return keep, dup


def test_merge_regions_moves_articles_figures_children_and_areas(chongqing):
    keep, dup = chongqing
    seeded_aliases = keep.seeded_aliases
    district = region("测试区", kind=Region.Kind.COUNTY, parent=dup)
    area = Region.objects.get(name="成渝地区双城经济圈")
    area.members.add(dup)  # keep is a seeded member already
    assert area.members.filter(pk=keep.pk).exists()
    dup.members.add(district)
    both, only_dup = make_article(), make_article()
    both.regions.set([keep, dup])
    only_dup.regions.set([dup])
    fig = figure(only_dup, region=dup)

    result = merge_regions(keep=keep, duplicates=[dup])

    assert {k: n for k, n in result.moved.items() if n} == {"articles": 1, "figures": 1, "children": 1, "members": 1}
    assert {k: n for k, n in result.dropped.items() if n} == {"articles": 1, "areas": 1}
    district.refresh_from_db()
    fig.refresh_from_db()
    assert district.parent == keep and fig.region == keep
    assert list(only_dup.regions.all()) == [keep]
    assert Article.regions.through.objects.filter(article=both).count() == 1
    assert Region.members.through.objects.filter(from_region=area, to_region=keep).count() == 1
    assert list(keep.members.all()) == [district]
    keep.refresh_from_db()
    assert keep.code == "500000" and keep.parent.name == "中国"
    assert keep.short_name == "重庆"  # not blank: kept
    assert keep.aliases == [*seeded_aliases, "重庆（导入）", "渝州", "山城"]
    assert pointing_at(Region, [dup.pk]) == []


def test_merge_regions_never_makes_a_region_its_own_member():
    keep = region("测试区域甲", kind=Region.Kind.AREA)
    dup = region("测试区域乙", kind=Region.Kind.AREA)
    keep.members.add(dup)  # keep contains dup, and dup contains keep
    dup.members.add(keep)
    result = merge_regions(keep=keep, duplicates=[dup])
    assert Region.members.through.objects.filter(from_region=keep, to_region=keep).count() == 0
    assert result.dropped["members"] + result.dropped["areas"] == 2


def test_merge_regions_refuses_merging_into_own_descendant(chongqing):
    _, dup = chongqing
    city = region("测试市", parent=dup)
    county = region("测试县", kind=Region.Kind.COUNTY, parent=city)
    with pytest.raises(ValueError, match="下级地区"):
        merge_regions(keep=county, duplicates=[dup])
    county.refresh_from_db()
    assert Region.objects.filter(pk=dup.pk).exists() and county.parent == city


def test_merge_regions_does_not_take_a_descendant_as_parent():
    keep = region("测试省", kind=Region.Kind.PROVINCE)
    child = region("测试省下的市", parent=keep)
    dup = region("测试省（重复）", kind=Region.Kind.PROVINCE, parent=child)  # a mistake in the duplicate
    merge_regions(keep=keep, duplicates=[dup])
    keep.refresh_from_db()
    assert keep.parent is None


def test_describe_relations_counts_rows_for_the_confirmation_page(bureau):
    keep, short, _ = bureau
    make_article(publisher=short).data_sources.add(short)
    assert describe_relations(short) == "1 篇文章的原发媒体、1 篇文章的数据来源"
    assert describe_relations(source("没人用的来源")) == "没有关联"


# --- what articles show: every relation kept, only the merged names change ------------------------------------------


def _renamed(value, objects, people):
    """``value`` (an export document) with each merged source/region object replaced by the kept one's
    document, each merged author by the kept author (role kept), each photographer name likewise."""
    if isinstance(value, dict):
        if value.get("name") in objects:
            return objects[value["name"]]
        if value.get("name") in people and "role" in value:
            return {**value, **people[value["name"]]}
        return {key: _renamed(item, objects, people) for key, item in value.items()}
    if isinstance(value, list):
        return sorted((_renamed(item, objects, people) for item in value), key=repr)
    if isinstance(value, str) and value in people:
        return people[value]["name"]
    return value


def _documents(*articles):
    from articles.revisions import article_document

    return {a.pk: {k: v for k, v in article_document(a).items() if k != "updated_at"} for a in articles}


def test_merges_keep_every_relation_articles_show_even_in_the_trash(editor, clock):
    """Sources, authors and regions merged into the rows to keep: each article, a trashed one too, shows
    exactly what it showed, with the kept rows' names; the articles move in the sync feed."""
    from articles import workflow
    from articles.export import serialize_region, serialize_source

    from .richsite import rich_article

    live, trashed = rich_article(user=editor, title="合并测试甲"), rich_article(user=editor, title="合并测试乙")
    keep_source, dup_source = Source.objects.get(name="测试日报社"), source("测试日报", kind=Source.Kind.PUBLISHER)
    keep_author, dup_author = Author.objects.get(name="何超"), author("何 超（导入）")
    keep_region, dup_region = Region.objects.get(name="万州区"), region("万州（导入）", kind=Region.Kind.COUNTY)
    Article.objects.filter(pk=trashed.pk).update(syndicator=dup_source)
    trashed.data_sources.add(dup_source)
    ArticleAuthor.objects.filter(article=trashed, author=keep_author).update(author=dup_author)
    Image.objects.filter(placements__article=live).update(photographer=dup_author)
    live.regions.remove(keep_region)
    live.regions.add(dup_region)
    StatisticFigure.objects.filter(article=live).update(region=dup_region, source=dup_source)
    workflow.trash(Article.objects.filter(pk=trashed.pk), user=editor)
    before = _documents(live, trashed)
    clock.advance(minutes=5)

    merge_sources(keep=keep_source, duplicates=[dup_source])
    merge_authors(keep=keep_author, duplicates=[dup_author])
    merge_regions(keep=keep_region, duplicates=[dup_region])

    objects = {"测试日报": serialize_source(keep_source), "万州（导入）": serialize_region(keep_region)}
    people = {dup_author.name: {"name": keep_author.name, "slug": keep_author.slug}}
    after = _documents(live, trashed)
    for article in (live, trashed):
        assert _renamed(after[article.pk], {}, {}) != _renamed(before[article.pk], {}, {})  # it showed the duplicates
        assert _renamed(after[article.pk], {}, {}) == _renamed(before[article.pk], objects, people), article.title
        article.refresh_from_db()
        assert article.updated_at == clock.now  # the sync feed hears of it
    assert Article.objects.get(pk=trashed.pk).status == Article.Status.TRASHED
    assert pointing_at(Source, [dup_source.pk]) == pointing_at(Author, [dup_author.pk]) == []
    assert pointing_at(Region, [dup_region.pk]) == []
