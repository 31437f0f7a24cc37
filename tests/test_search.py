"""Chinese full-text search: search_articles() on both databases, the snippet, and the /search/ page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.importer.run import import_markdown_file
from articles.models import Article
from articles.search import highlight_snippet, normalize_query, search_articles, search_terms, to_tsquery_text
from articles.segment import segment

from .factories import SEED, make_article

only_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL full-text search")


@pytest.fixture
def seed(db):
    result = import_markdown_file(SEED, publish=True)
    assert result.status == "created", result.reason
    return Article.objects.get(slug=result.slug)


def found(query, **kwargs):
    return [hit.article for hit in search_articles(query, **kwargs)]


# --- search_articles() ----------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["智能制造", "港口", "重庆 港口", "  智能制造\n港口  ", "推动高质量发展"])
def test_finds_the_seed_article(seed, query):
    assert found(query) == [seed]


@pytest.mark.parametrize("query", ["上海", "港口 上海", "制造智能", "智能手机"])
def test_word_absent_from_the_text_finds_nothing(seed, query):
    assert found(query) == []


@pytest.mark.parametrize("query", ["", "   ", "，。！？", "%", "'", "\\", "\x00", "--", "_"])
def test_empty_or_punctuation_only_query_finds_nothing(seed, query):
    assert search_articles(query) == []


def test_hostile_query_text_is_only_searched_for(seed):
    assert found("港口' & !'x") == []  # "x" is a term too, and absent
    assert found("港口') | ('上海") == []
    assert found("%港口%") == [seed]
    assert found("港口\x00") == [seed]


def test_drafts_review_archived_and_scheduled_articles_are_never_found(db):
    visible = make_article(title="港口新闻")
    for status in (Article.Status.DRAFT, Article.Status.REVIEW, Article.Status.ARCHIVED):
        make_article(title=f"港口{status}", status=status)
    make_article(title="港口定时", published_at=timezone.now() + timezone.timedelta(days=1))
    make_article(title="港口无时间", published_at=None)
    assert found("港口") == [visible]
    # A caller's narrower queryset is still restricted to published articles.
    assert found("港口", queryset=Article.objects.all()) == [visible]


def test_queryset_narrows_the_search(db):
    first = make_article(body="<p>果园港口岸繁忙，港口吞吐量创新高。</p>")
    make_article(body="<p>长江上游的港口群。</p>")
    assert found("港口", queryset=Article.objects.filter(pk=first.pk)) == [first]


def test_title_match_ranks_above_a_body_match(db):
    body_only = make_article(title="西部城市新闻", body="<p>今年这座城市的港口建设取得进展，也改善了交通。</p>")
    in_title = make_article(
        title="港口建设提速",
        body="<p>今年这座城市的港口建设取得进展，也改善了交通。</p>",
        published_at=timezone.now() - timezone.timedelta(days=3),  # older, still first
    )
    hits = search_articles("港口")
    assert [hit.article for hit in hits] == [in_title, body_only]
    assert hits[0].score > hits[1].score


def test_equal_scores_show_the_newest_first(db):
    older = make_article(title="港口一", published_at=timezone.now() - timezone.timedelta(days=2))
    newer = make_article(title="港口二", published_at=timezone.now() - timezone.timedelta(days=1))
    assert found("港口") == [newer, older]


def test_every_term_must_match(db):
    both = make_article(body="<p>重庆的港口和铁路一起发展。</p>")
    make_article(body="<p>重庆的铁路发展很快。</p>")
    make_article(body="<p>宁波的港口很繁忙。</p>")
    assert found("重庆 港口") == [both]
    assert found("重庆，港口") == [both]


def test_hit_has_a_highlighted_snippet(seed):
    [hit] = search_articles("智能制造")
    assert "<mark>智能制造</mark>" in hit.snippet_html
    assert hit.snippet_html.startswith("…")


def test_hits_do_not_load_heavy_columns(seed):
    [hit] = search_articles("港口")
    assert {"raw_source", "body", "body_html", "search_text"} <= hit.article.get_deferred_fields()


@only_postgresql
def test_postgresql_matches_words_not_substrings(db):
    """港口 is not a word of 香港口岸 (香港 / 口岸): a substring search would find it, jieba's tokens do not."""
    make_article(body="<p>香港口岸客流恢复。</p>")
    port = make_article(body="<p>果园港是重要的内河港口。</p>")
    assert found("港口") == [port]


@only_postgresql
def test_postgresql_search_uses_the_gin_index(db):
    now = timezone.now()
    articles = [
        Article(
            title=f"第{n}篇 城市交通",
            slug=f"bulk-{n}",
            body_text=f"第{n}段 城市交通和公园建设",
            search_text=segment(f"第{n}篇 城市交通 第{n}段 城市交通和公园建设"),
            status=Article.Status.PUBLISHED,
            published_at=now - timezone.timedelta(hours=n + 1),
        )
        for n in range(300)
    ]
    Article.objects.bulk_create(articles)
    target = make_article(title="港口建设", body="<p>长江上游港口。</p>")
    with connection.cursor() as cursor:
        # Earlier tests' rolled-back rows leave dead entries in the GIN index, which make the
        # planner price it higher than it would on a vacuumed table: rebuild it (in this transaction).
        cursor.execute("REINDEX INDEX articles_article_search_gin")
        cursor.execute("ANALYZE articles_article")
        cursor.execute("SET LOCAL enable_seqscan = off")
        with CaptureQueriesContext(connection) as captured:
            assert found("港口") == [target]
        query, read = captured.captured_queries  # the ranking, then the hits' articles
        assert "ts_rank" in query["sql"] and "ts_rank" not in read["sql"]
        cursor.execute("EXPLAIN " + query["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "articles_article_search_gin" in plan, plan
    assert "to_tsvector('simple'::regconfig, search_text)" in plan, plan
    assert "COALESCE" not in query["sql"]


def test_tsquery_text_is_a_quoted_phrase_per_term():
    assert to_tsquery_text(["智能制造"]) == "('智能' <-> '制造')"
    assert to_tsquery_text(["重庆", "港口"]) == "('重庆') & ('港口')"
    assert to_tsquery_text(["高质量"]) == "('高质' <-> '质量' <-> '高质量')"


# --- normalize_query(), search_terms() -----------------------------------------------------------


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  智能制造  ", "智能制造"),
        ("重庆\t\n  港口", "重庆 港口"),
        ("港口\x00上海", "港口 上海"),
        ("，。！？", ""),
        ("%", ""),
        ("", ""),
        (None, ""),
        ("长" * 500, "长" * 100),
    ],
)
def test_normalize_query(raw, expected):
    assert normalize_query(raw) == expected


def test_search_terms_are_word_runs_lower_cased_and_distinct():
    assert search_terms("5G 港口，港口 GDP's") == ["5g", "港口", "gdp", "s"]


# --- highlight_snippet() -------------------------------------------------------------------------


def test_snippet_marks_every_occurrence_of_every_term():
    snippet = highlight_snippet("重庆港口与重庆铁路，港口繁忙。", ["港口", "重庆"])
    assert snippet == "<mark>重庆</mark><mark>港口</mark>与<mark>重庆</mark>铁路，<mark>港口</mark>繁忙。"


def test_snippet_prefers_the_longer_term():
    assert highlight_snippet("发展智能制造", ["智能", "智能制造"]) == "发展<mark>智能制造</mark>"


def test_snippet_is_case_insensitive_and_keeps_the_text_case():
    assert highlight_snippet("全市 GDP 增长", ["gdp"]) == "全市 <mark>GDP</mark> 增长"


def test_snippet_escapes_hostile_text():
    text = '<script>alert("港口")</script> & <b>港口</b>'
    snippet = highlight_snippet(text, ["港口", "script"])
    assert "<script" not in snippet and "<b>" not in snippet
    assert snippet == (
        "&lt;<mark>script</mark>&gt;alert(&quot;<mark>港口</mark>&quot;)&lt;/<mark>script</mark>&gt; "
        "&amp; &lt;b&gt;<mark>港口</mark>&lt;/b&gt;"
    )


def test_snippet_windows_around_the_first_match_with_ellipses():
    text = "甲" * 300 + "港口" + "乙" * 300
    snippet = highlight_snippet(text, ["港口"], width=40)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>港口</mark>" in snippet
    assert len(snippet.replace("<mark>", "").replace("</mark>", "")) == 42


def test_snippet_without_a_match_is_the_beginning():
    assert highlight_snippet("一二三四五六", ["港口"], width=4) == "一二三四…"
    assert highlight_snippet("一二  三\n四", [], width=10) == "一二 三 四"
    assert highlight_snippet("", ["港口"]) == ""


# --- the /search/ page ----------------------------------------------------------------------------


def test_search_page_shows_ranked_hits(client, seed):
    response = client.get("/search/", {"q": "智能制造"})
    assert response.status_code == 200
    assert response.templates[0].name == "articles/search.html"
    assert [hit.article for hit in response.context["hits"]] == [seed]
    assert response.context["result_count"] == 1
    page = response.content.decode()
    assert f'href="{seed.get_absolute_url()}"' in page
    assert "<mark>智能制造</mark>" in page
    assert 'value="智能制造"' in page
    assert "2022年8月1日" in page  # published 2022-07-31 22:26 UTC, shown in Beijing time
    assert response["X-Robots-Tag"] == "noindex"
    assert '<meta name="robots" content="noindex">' in page
    assert "<title>「智能制造」的搜索结果 · " in page


@pytest.mark.parametrize(
    "raw, message",
    [
        ("", "请输入要搜索的词"),
        ("   ", "请输入要搜索的词"),
        ("，。！？", "没有可以检索的文字"),
        ("%", "没有可以检索的文字"),
        ("'", "没有可以检索的文字"),
        ("\\", "没有可以检索的文字"),
        ("\x00", "没有可以检索的文字"),
        ("\x00港口", "找到 1 篇"),
        ("上海", "没有找到与「上海」相关的文章"),
        ("<script>", "没有找到与「&lt;script&gt;」相关的文章"),
        ("港" * 500, "只按前 100 个字符搜索"),
    ],
)
def test_bad_queries_get_a_normal_page(client, seed, raw, message):
    response = client.get("/search/", {"q": raw})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_search_page_without_q(client, db):
    response = client.get("/search/")
    assert response.status_code == 200
    assert "请输入要搜索的词" in response.content.decode()


def test_search_page_paginates_and_keeps_the_query(client, db):
    for n in range(25):
        make_article(title=f"港口 {n}", published_at=timezone.now() - timezone.timedelta(hours=n + 1))
    first = client.get("/search/", {"q": "港口"})
    assert len(first.context["hits"]) == 20
    assert first.context["result_count"] == 25
    assert "?q=%E6%B8%AF%E5%8F%A3&amp;page=2" in first.content.decode()
    second = client.get("/search/", {"q": "港口", "page": "2"})
    assert [hit.article.title for hit in second.context["hits"]] == [f"港口 {n}" for n in range(20, 25)]
    assert "?q=%E6%B8%AF%E5%8F%A3&amp;page=1" in second.content.decode()
    assert client.get("/search/", {"q": "港口", "page": "99"}).status_code == 200
    assert client.get("/search/", {"q": "港口", "page": "x"}).status_code == 200


def test_search_page_query_count_does_not_grow_with_hits(client, db):
    def queries_for(count):
        Article.objects.all().delete()
        for n in range(count):
            make_article(title=f"港口 {n}", body=f"<p>第{n}个港口的新闻。</p>")
        with CaptureQueriesContext(connection) as captured:
            response = client.get("/search/", {"q": "港口"})
        assert len(response.context["hits"]) == count
        return len(captured)

    assert queries_for(3) == queries_for(15)


def test_a_page_of_a_common_words_results_reads_only_that_pages_articles(db):
    """The ranking returns keys and scores; articles (and their snippets) are read for the slice shown."""
    for n in range(30):
        make_article(title=f"港口 {n}", body=f"<p>第{n}个港口，{'港口' * (n % 3)}。</p>",
                     published_at=timezone.now() - timezone.timedelta(hours=n + 1))
    with CaptureQueriesContext(connection) as captured:
        hits = search_articles("港口")
        page = hits[20:25]
    assert len(hits) == 30 and len(page) == 5
    ranking, read = captured.captured_queries
    assert "LIMIT 500" in ranking["sql"]
    ids = re.search(r'"id" IN \(([^)]*)\)', read["sql"]).group(1).split(",")
    assert sorted(int(pk) for pk in ids) == sorted(hit.article.pk for hit in page)
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert all("<mark>港口</mark>" in hit.snippet_html for hit in page)


def test_segmentation_keeps_names_numbers_and_sub_words():
    """jieba's dictionary and HMM (rjieba): an unknown name stays one token, a word gives its sub-words too,
    and numbers written with %, . or - are indexed by their digits (they used to be dropped whole)."""
    from articles.segment import query_terms, segment

    assert segment("刘绪海说，上半年") == "刘绪海 说 上半 半年 上半年"
    assert segment("普及率达到83%，超3.5万亿元，1-7月") == "普及 普及率 达到 83 超 3 5 万亿 亿元 万亿元 1 7 月"
    assert set(segment("Percentage_Point zi-yang").split()) == {"percentage", "point", "zi", "yang"}
    assert query_terms("Percentage_Point zi-yang，重庆 港口，重庆") == ["percentage", "point", "zi", "yang", "重庆", "港口"]


@only_postgresql
def test_a_percentage_is_found_by_its_number(db):
    article = make_article(title="农村供水", body="<p>全国农村自来水普及率达到83%。</p>")
    assert found("83%") == [article]
    assert found("84%") == []
