"""Bad input: a clear error naming the file, nothing saved for it, the batch goes on."""

import pytest
from django.core.management import CommandError, call_command

from articles.importer.run import import_markdown_file, import_paths
from articles.models import Article, Author, Image

from .factories import make_markdown, write_markdown

pytestmark = pytest.mark.django_db


def write_bytes(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("no_front_matter.md", "<p>只有正文，没有 front matter。</p>".encode(), "no front matter"),
        ("unclosed.md", b"---\ntitle: 'x'\n<p>body</p>\n", "not closed"),
        ("bad_yaml.md", b"\n---\ntitle: 'ok'\ncategories: [a, b\nauthor: ZAKER\n---\n<p>x</p>",
         "invalid YAML in front matter at line"),
        ("no_title.md", "---\nauthor: ZAKER\n---\n<p>正文</p>".encode(), "no title"),
        ("bad_date.md", "---\ntitle: '标题'\ndate: yesterday-ish\n---\n<p>正文</p>".encode(), "unreadable date"),
        ("nul.md", make_markdown().replace("测试段落", "测试\x00段落", 1).encode(), "NUL"),
        ("latin1.md", b"---\ntitle: 'caf\xe9'\n---\n<p>caf\xe9 \xff\xfe</p>", "not UTF-8"),
    ],
)
def test_bad_file_is_rejected_with_a_reason(tmp_path, name, data, message):
    path = write_bytes(tmp_path, name, data)
    result = import_markdown_file(path)
    assert result.status == "failed"
    assert message in result.reason
    assert name in result.path
    assert Article.objects.count() == 0
    assert Image.objects.count() == 0 and Author.objects.count() == 0


def test_invalid_yaml_names_the_line_of_the_file(tmp_path):
    path = write_bytes(tmp_path, "bad.md", b"\n---\ntitle: 'ok'\ncategories: [a, b\nauthor: ZAKER\n---\n")
    assert "line 5" in import_markdown_file(path).reason


def test_gbk_file_is_decoded(tmp_path):
    path = write_bytes(tmp_path, "gbk.md", make_markdown(title="重庆GBK编码").encode("gb18030"))
    result = import_markdown_file(path)
    assert result.status == "created", result.reason
    article = Article.objects.get()
    assert article.title == "重庆GBK编码" and article.source_encoding == "gb18030"


def test_oversized_body_is_rejected(tmp_path, settings):
    settings.NEWSROOM_MAX_SOURCE_BYTES = 2_000
    path = write_markdown(tmp_path, "big.md", body="<p>" + "很长的段落。" * 500 + "</p>")
    result = import_markdown_file(path)
    assert result.status == "failed" and "over the limit of 2,000 bytes" in result.reason


def test_missing_date_is_not_invented(tmp_path):
    path = tmp_path / "nodate.md"
    path.write_text(make_markdown().replace("date: Mon, 01 Aug 2022 02:00:00 GMT\n", ""), encoding="utf-8")
    result = import_markdown_file(path, publish=True)
    article = Article.objects.get(slug=result.slug)
    assert article.published_at is None
    assert article.status == Article.Status.DRAFT
    assert "no date in front matter" in article.quality_warnings


def test_batch_goes_on_after_a_failure_and_exits_1(tmp_path, capsys):
    write_bytes(tmp_path, "a_bad.md", b"no front matter")
    write_markdown(tmp_path, "b_good.md", title="好文章")
    report = import_paths([tmp_path])
    assert [r.status for r in report.results] == ["failed", "created"]
    Article.objects.all().delete()
    with pytest.raises(CommandError, match="1 file\\(s\\) failed"):
        call_command("import_articles", str(tmp_path))
    out = capsys.readouterr().out
    assert "[1/2] failed" in out and "a_bad.md: no front matter" in out
    assert "[2/2] created" in out
    assert "2 file(s): 1 created, 1 failed" in out
    assert Article.objects.get().title == "好文章"


def test_title_is_plain_text(tmp_path):
    path = write_markdown(tmp_path, "html_title.md", title='<b>重庆</b> & "两江" <script>alert(1)</script>')
    title = Article.objects.get(slug=import_markdown_file(path).slug).title
    assert "<b>" not in title and "<script>" not in title
    assert "重庆" in title and '& "两江"' in title


def test_stub_page_is_flagged_and_never_published(tmp_path):
    body = "<p>此为临时链接，仅用于预览，将在 48 小时后失效</p><p><b>前往 央视新闻</b></p>"
    path = write_markdown(tmp_path, "stub.md", body=body)
    article = Article.objects.get(slug=import_markdown_file(path, publish=True).slug)
    assert article.status == Article.Status.DRAFT
    assert any("stub" in w for w in article.quality_warnings)


def test_unstorable_urls_are_left_out_with_a_note(tmp_path):
    import base64

    long_url = "https://mp.weixin.qq.com/s?" + "x" * 1200
    link = base64.b64encode(long_url.encode()).decode()
    body = (
        "<p>重庆的产业转型正在加快，一批智能工厂相继投产，带动上下游企业协同发展，成效明显。</p>"
        f'<p><a href="http://iphone.myzaker.com/zaker/link.php?pk=abc123&b={link}">打开 APP 阅读全文</a></p>'
        '<div class="img_box"><img data-original="http://bad host/1.jpg"></div>'
    )
    result = import_markdown_file(write_markdown(tmp_path, "urls.md", body=body))
    assert result.status == "created"
    assert any("original URL left out: 1227 characters" in w for w in result.warnings)
    assert any("image left out: not a valid URL" in w for w in result.warnings)
    article = Article.objects.get()
    assert article.original_url == "" and article.gallery.count() == 0
    assert any("original URL left out" in w for w in article.quality_warnings)


def test_no_pending_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
