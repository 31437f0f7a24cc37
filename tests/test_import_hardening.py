"""Importer hardening (issue 8): files read within their limits, dumps that cannot name storage keys, a
contributor's upload that cannot change others' work, and an image downloader that never reaches the
server's own network (server-side request forgery).

Real files, a real database, real HTTP servers on loopback addresses; DNS is replaced only where the
test is about what the resolver answers (a host name that changes its address between two lookups).
"""

import io
import json
import runpy
import socket
import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.export import iter_export_lines
from articles.images import ImageRejected, download_image_bytes, fetch_image, refused_address
from articles.importer.ndjson import import_ndjson_file, is_safe_image_name
from articles.importer.run import count_items, import_markdown_file, import_paths
from articles.models import Article, ArticleImage, Image, ImportRun

from .factories import client_for, make_article, make_markdown, write_markdown
from .test_images import JPEG_EXIF

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


def peak_memory(function, *args):
    """``function(*args)`` traced: (what it returns, the most memory Python had allocated while it ran)."""
    tracemalloc.start()
    try:
        result = function(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


# --- 1. a Markdown file's size is checked before it is read ---------------------------------------------------------


def test_an_oversized_markdown_file_is_refused_without_reading_it(tmp_path, settings):
    settings.NEWSROOM_MAX_SOURCE_BYTES = 1024
    path = tmp_path / "huge.md"
    with path.open("wb") as out:  # sparse: 64 MB on paper, nothing on disk
        out.truncate(64 * MB)
    result, peak = peak_memory(import_markdown_file, path)
    assert (result.status, result.reason) == ("failed", "file is 67,108,864 bytes, over the limit of 1,024 bytes")
    assert peak < 4 * MB, f"{peak:,} bytes allocated: the file was read before its size was checked"
    assert not Article.objects.exists()


def test_a_markdown_file_at_the_limit_is_imported(tmp_path, settings):
    path = write_markdown(tmp_path, "ok.md", title="刚好在上限")
    settings.NEWSROOM_MAX_SOURCE_BYTES = path.stat().st_size
    assert import_markdown_file(path).status == "created"


# --- 2. NDJSON dumps: one line at a time, each within its limit and decoded on its own -------------------------------


def dump_lines(count, **changes):
    """Full export lines of ``count`` new articles, as documents that would create new ones (fresh slug, no key)."""
    articles = [make_article(title=f"备份文章 {n}", body=f"<p>第 {n} 篇\u2028同段换行</p>") for n in range(count)]
    lines = list(iter_export_lines(Article.objects.filter(pk__in=[a.pk for a in articles]), full=True))
    documents = [json.loads(line) for line in lines]
    return [(json.dumps(d | {"slug": f"restored-{n}", "source_key": None} | changes, ensure_ascii=False) + "\n")
            .encode() for n, d in enumerate(documents)]


def write_dump(folder, *parts: bytes) -> Path:
    """``folder/dump.ndjson``: the ``parts`` (lines, or any bytes) one after another."""
    path = folder / "dump.ndjson"
    with path.open("wb") as out:
        for part in parts:
            out.write(part)
    return path


def test_a_line_over_the_limit_fails_alone_and_is_never_held_in_memory(tmp_path, settings):
    first, last = dump_lines(2)
    settings.NEWSROOM_MAX_NDJSON_LINE_BYTES = limit = 64 * 1024
    # 40 MB on one line, then the next document
    path = write_dump(tmp_path, first, b'{"title": "' + b"x" * (40 * MB) + b'"}\n', last)
    assert count_items(path) == 3
    results, peak = peak_memory(import_ndjson_file, path)
    assert [r.status for r in results] == ["created", "failed", "created"]
    assert results[1].path == f"{path}:2"
    assert results[1].reason == (f"line 2 is over the limit of {limit:,} bytes (NEWSROOM_MAX_NDJSON_LINE_BYTES); skipped")
    assert peak < 16 * MB, f"{peak:,} bytes allocated: the long line was read whole"
    assert sorted(Article.objects.filter(slug__startswith="restored-").values_list("slug", flat=True)) == [
        "restored-0", "restored-1"]
    assert "\u2028" in Article.objects.get(slug="restored-1").body  # lines still end at "\n" only


def test_a_line_exactly_at_the_limit_is_read(tmp_path, settings):
    (line,) = dump_lines(1)
    settings.NEWSROOM_MAX_NDJSON_LINE_BYTES = len(line) - 1  # the newline does not count
    path = write_dump(tmp_path, line)
    assert [r.status for r in import_ndjson_file(path)] == ["created"]
    settings.NEWSROOM_MAX_NDJSON_LINE_BYTES = len(line) - 2
    Article.objects.filter(slug="restored-0").update(title="改过")  # so the line is not "unchanged"
    (result,) = import_ndjson_file(path)
    assert result.status == "failed" and "over the limit" in result.reason


def test_a_line_that_is_not_utf8_or_nests_too_deeply_fails_alone(tmp_path):
    first, last = dump_lines(2)
    path = write_dump(tmp_path, b"\xef\xbb\xbf" + first, '{"title": "重庆"}\n'.encode("gb18030"), b"[" * 200_000 + b"\n", last)
    results = import_ndjson_file(path)
    assert [r.status for r in results] == ["created", "failed", "failed", "created"]
    assert results[1].reason == "line 2 is not UTF-8: byte 12 (d6) cannot be decoded"
    assert results[2].reason == "invalid JSON: nested too deeply"


def test_the_command_reports_each_bad_line_and_goes_on(tmp_path, settings, capsys):
    first, last = dump_lines(2)
    settings.NEWSROOM_MAX_NDJSON_LINE_BYTES = 64 * 1024
    path = write_dump(tmp_path, first, b"[" + b"1," * 100_000 + b"1]\n", last)
    with pytest.raises(CommandError, match=r"1 file\(s\) failed"):
        call_command("import_articles", str(path), "--no-progress")
    out = capsys.readouterr().out
    assert "line 2 is over the limit of 65,536 bytes" in out and "2 created" in out and "1 failed" in out


# --- 3. a dump cannot point an image at any key of the media storage -------------------------------------------------


@pytest.mark.parametrize("name", [
    "images/2026/11/0123abcd.jpg", "images/lead1.png", "images/a/b.JPEG", "images/x.gif", "images/重庆/夜景.webp",
])
def test_stored_picture_names_are_accepted(name):
    assert is_safe_image_name(name)


UNSAFE_NAMES = [
    "../../etc/passwd.jpg", "/etc/x.jpg", "images/../secrets/key.jpg", "images/./x.jpg", "images//x.jpg",
    "images\\..\\x.jpg", "backups/db.jpg", "renditions/0f/x_640.webp", "images/x.svg", "images/x.html",
    "images/x.jpg\x00.txt", "images/x\n.jpg", "images/.jpg", "Images/x.jpg", "images/" + "a" * 100 + ".jpg",
    "https://evil.example/x.jpg", "", None, 42,
]


@pytest.mark.parametrize("name", UNSAFE_NAMES)
def test_other_names_are_refused(name):
    assert not is_safe_image_name(name)


def test_a_dump_image_with_an_unsafe_file_name_keeps_only_its_remote_url(tmp_path, settings):
    good = settings.MEDIA_ROOT / "images/2026/01/good.jpg"
    good.parent.mkdir(parents=True)
    good.write_bytes(JPEG_EXIF)
    article = make_article(title="有图的文章")
    for order, name in enumerate(["images/2026/01/good.jpg", "private/db-backup.jpg", "../../etc/passwd.jpg"]):
        image = Image.objects.create(remote_url=f"https://img.example.cn/{order}.jpg", caption=f"图 {order}",
                                     width=40, height=20)
        Image.objects.filter(pk=image.pk).update(file=name, fetch_status=Image.FetchStatus.FETCHED)
        ArticleImage.objects.create(article=article, image=image, order=order)
    (line,) = iter_export_lines(Article.objects.filter(pk=article.pk), full=True)
    document = json.loads(line)
    assert [i["file"] for i in document["images"]] == ["images/2026/01/good.jpg", "private/db-backup.jpg",
                                                       "../../etc/passwd.jpg"]
    Image.objects.all().delete()
    path = tmp_path / "dump.ndjson"
    path.write_text(json.dumps(document | {"slug": "copy", "source_key": None}, ensure_ascii=False) + "\n")

    (result,) = import_ndjson_file(path)
    assert result.status == "created"
    assert result.warnings == [
        "image file name left out: 'private/db-backup.jpg' is not a picture under images/ "
        "(.jpg, .jpeg, .png, .gif, .webp); its remote URL is kept",
        "image file name left out: '../../etc/passwd.jpg' is not a picture under images/ "
        "(.jpg, .jpeg, .png, .gif, .webp); its remote URL is kept",
    ]
    restored = [p.image for p in Article.objects.get(slug="copy").gallery.select_related("image").order_by("order")]
    assert [(i.file.name or "", i.remote_url, i.fetch_status) for i in restored] == [
        ("images/2026/01/good.jpg", "https://img.example.cn/0.jpg", Image.FetchStatus.FETCHED),
        ("", "https://img.example.cn/1.jpg", Image.FetchStatus.REMOTE),
        ("", "https://img.example.cn/2.jpg", Image.FetchStatus.REMOTE),
    ]


# --- 4 and 5. a contributor's Markdown upload changes only their own drafts and pictures -----------------------------

ZAKER_LINK = '<p><a href="http://iphone.myzaker.com/zaker/link.php?pk=62e71e708e9f0940445a0001">打开 APP 阅读全文</a></p>'


def picture_box(url, caption):
    return (f'<div class="img_box"><div class="content_img_div"><img class="lazy" data-original="{url}" '
            f'src="{url}"></div></div>{caption}<p></p>')


def story(version, picture_url=None, caption="图说"):
    picture = picture_box(picture_url, caption) if picture_url else ""
    body = picture + f"<p>重庆市{version}段落，内容足够长，用来确认导入器保留每一个自然段落的文字和顺序。</p>" * 3 + ZAKER_LINK
    return make_markdown(title="同一篇稿子", body=body)


def upload(user, name, text):
    response = client_for(user).post(reverse("admin:articles_importrun_add"),
                                      {"files": SimpleUploadedFile(name, text.encode())})
    assert response.status_code == 302
    return ImportRun.objects.latest("pk")


def test_a_contributor_cannot_overwrite_an_editors_article_by_uploading_it_again(editor, contributor):
    upload(editor, "a.md", story("第一版"))
    article = Article.objects.get()
    run = upload(contributor, "a.md", story("投稿人改"))
    assert run.lines == [f"[1/1] skipped   a.md {article.slug}: 无权修改 {article.slug}：它是别人的文章，或已提交审核、已发布；"
                         "未覆盖（请联系编辑）"]
    article.refresh_from_db()
    assert "第一版" in article.body and article.updated_by == editor
    # The editor's own upload still updates it, and so does the command line (no user).
    upload(editor, "a.md", story("编辑第二版"))
    assert "编辑第二版" in Article.objects.get().body


def test_a_contributor_updates_their_own_draft_but_not_once_submitted(tmp_path, contributor):
    upload(contributor, "a.md", story("草稿一"))
    assert upload(contributor, "a.md", story("草稿二")).lines[0].startswith("[1/1] updated")
    article = Article.objects.get()
    assert "草稿二" in article.body and article.status == Article.Status.DRAFT
    Article.objects.filter(pk=article.pk).update(status=Article.Status.REVIEW)
    assert upload(contributor, "a.md", story("草稿三")).lines[0].startswith("[1/1] skipped")
    assert "草稿二" in Article.objects.get().body
    path = tmp_path / "a.md"
    path.write_text(story("命令行"), encoding="utf-8")
    assert import_paths([path]).results[0].status == "updated"  # the operator's command line is not limited


def test_import_paths_refuses_a_dump_from_a_contributor(tmp_path, contributor, editor):
    path = write_dump(tmp_path, *dump_lines(1))
    (result,) = import_paths([path], user=contributor).results
    assert result.status == "failed" and result.reason.startswith("只有编辑可以导入导出数据")
    assert not Article.objects.filter(slug="restored-0").exists()
    assert import_paths([path], user=editor).results[0].status == "created"


PICTURE = "https://img.example.cn/shared.jpg"


def test_a_contributors_import_leaves_a_published_articles_picture_alone(tmp_path, editor, contributor):
    shared = Image.objects.create(remote_url=PICTURE, caption="编辑写的图说", credit="记者 摄", width=800, height=600)
    published = make_article(title="编辑的文章", created_by=editor, lead_image=shared)
    ArticleImage.objects.create(article=published, image=shared, order=0)

    upload(contributor, "mine.md", story("投稿人", PICTURE, caption="投稿人的图说"))
    shared.refresh_from_db()
    assert (shared.caption, shared.credit, shared.width) == ("编辑写的图说", "记者 摄", 800)
    draft = Article.objects.get(title="同一篇稿子")
    (own,) = [p.image for p in draft.gallery.select_related("image")]
    assert own.pk != shared.pk and own.remote_url == PICTURE and own.caption == "投稿人的图说"

    # Uploading their draft again reuses their own picture: no new row each time.
    upload(contributor, "mine.md", story("投稿人第二版", PICTURE, caption="投稿人改的图说"))
    assert Image.objects.filter(remote_url=PICTURE).count() == 2
    own.refresh_from_db()
    assert own.caption == "投稿人改的图说"
    shared.refresh_from_db()
    assert shared.caption == "编辑写的图说"

    # An editor's import, and the command line, keep today's behaviour: the known picture follows the file.
    path = tmp_path / "other.md"
    path.write_text(make_markdown(title="另一篇", body=(
        picture_box(PICTURE, "命令行的图说")
        + "<p>重庆市另一段落，内容足够长，用来确认导入器保留每一个自然段落的文字和顺序。</p>" * 3)), encoding="utf-8")
    assert import_paths([path]).results[0].status == "created"
    shared.refresh_from_db()
    assert shared.caption == "命令行的图说"


# --- 6. the image downloader never reaches the server's own network --------------------------------------------------


class Recorder(BaseHTTPRequestHandler):
    """Serves /photo.jpg, redirects /to?<url>; records every request it sees."""

    seen: list

    def do_GET(self):
        self.seen.append((self.headers.get("Host"), self.path))
        if self.path.startswith("/to?"):
            return self._send(302, b"", [("Location", self.path[4:])])
        if self.path == "/photo.jpg":
            return self._send(200, JPEG_EXIF, [("Content-Type", "image/jpeg")])
        return self._send(404, b"missing", [])

    def _send(self, status, body, headers):
        self.send_response(status)
        for name, value in [*headers, ("Content-Length", str(len(body)))]:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def serve(host, family=ThreadingHTTPServer):
    """A recording HTTP server on ``host`` (any free port): (base URL, its list of requests, stop)."""
    seen = []
    httpd = family((host, 0), type("Handler", (Recorder,), {"seen": seen}))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    shown = f"[{host}]" if ":" in host else host

    def stop():
        httpd.shutdown()
        httpd.server_close()

    return f"http://{shown}:{httpd.server_address[1]}", seen, stop


@pytest.fixture
def loopback():
    url, seen, stop = serve("127.0.0.1")
    yield url, seen
    stop()


@pytest.fixture
def loopback_v6():
    try:
        url, seen, stop = serve("::1", IPv6Server)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    yield url, seen
    stop()


@pytest.fixture
def other_loopback():
    """A second server on 127.0.0.2: loopback too, but not the address the tests allow."""
    try:
        url, seen, stop = serve("127.0.0.2")
    except OSError:
        pytest.skip("cannot listen on 127.0.0.2 here")
    yield url, seen
    stop()


@pytest.fixture
def no_private_hosts(settings):
    settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = []  # the default: what production does


def test_the_test_server_works_when_allowed(loopback):
    url, seen = loopback
    assert download_image_bytes(f"{url}/photo.jpg") == JPEG_EXIF
    assert download_image_bytes(f"{url}/to?/photo.jpg") == JPEG_EXIF
    assert [path for _, path in seen] == ["/photo.jpg", "/to?/photo.jpg", "/photo.jpg"]


@pytest.mark.parametrize("target, words", [
    ("{v4}/photo.jpg", "指向本机回环地址 127.0.0.1"),
    ("{v6}/photo.jpg", "指向本机回环地址 ::1"),
    ("http://localhost:{port}/photo.jpg", "localhost 指向本机回环地址"),
    ("http://169.254.169.254/latest/meta-data/", "指向链路本地地址（含云服务器元数据服务 169.254.169.254） 169.254.169.254"),
    ("http://[::ffff:127.0.0.1]:{port}/photo.jpg", "里的 IPv4 地址 127.0.0.1"),
    ("http://10.0.0.1/x.jpg", "指向内网（私有）地址 10.0.0.1"),
    ("http://0.0.0.0:{port}/photo.jpg", "指向未指定地址 0.0.0.0"),
    ("https://224.0.0.1/x.jpg", "指向组播地址 224.0.0.1"),
])
def test_private_addresses_are_refused_before_any_request(no_private_hosts, loopback, loopback_v6, target, words):
    (v4, seen), (v6, seen_v6) = loopback, loopback_v6
    url = target.format(v4=v4, v6=v6, port=v4.rsplit(":", 1)[1])
    with pytest.raises(ImageRejected) as refused:
        download_image_bytes(url, timeout=2)
    assert str(refused.value).startswith("拒绝下载：") and words in str(refused.value)
    assert "防止服务器端请求伪造 SSRF" in str(refused.value) and str(refused.value).endswith(url)
    assert seen == [] and seen_v6 == []


def test_a_redirect_to_a_private_address_is_refused(loopback, other_loopback, settings):
    settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = ["127.0.0.1"]  # the first hop is allowed, 127.0.0.2 is not
    (url, seen), (other, seen_other) = loopback, other_loopback
    for target, words in ((f"{other}/photo.jpg", "指向本机回环地址 127.0.0.2"),
                          ("http://169.254.169.254/latest/meta-data/", "指向链路本地地址")):
        with pytest.raises(ImageRejected, match=words):
            download_image_bytes(f"{url}/to?{target}", timeout=2)
    assert [path for _, path in seen] == [f"/to?{other}/photo.jpg", "/to?http://169.254.169.254/latest/meta-data/"]
    assert seen_other == []


def test_redirects_are_bounded(loopback):
    url, seen = loopback
    chain = "/photo.jpg"
    for _ in range(6):
        chain = f"/to?{chain}"
    with pytest.raises(ImageRejected, match="跳转次数过多（超过 5 次）"):
        download_image_bytes(url + chain)
    assert len(seen) == 6 and "/photo.jpg" not in [path for _, path in seen]
    assert download_image_bytes(url + chain[4:]) == JPEG_EXIF  # five redirects are fine


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(loopback, monkeypatch):
    """DNS rebinding: a name that answers 127.0.0.1 (allowed here) and then 169.254.169.254. The download
    looks the name up once, checks that answer and connects to it."""
    url, seen = loopback
    port = int(url.rsplit(":", 1)[1])
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1", "169.254.169.254", "169.254.169.254"])
    lookups = []

    def resolver(host, *args, **kwargs):
        if host != "rebind.example":
            return real(host, *args, **kwargs)
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    assert download_image_bytes(f"http://rebind.example:{port}/photo.jpg", timeout=2) == JPEG_EXIF
    assert lookups == ["rebind.example"] and seen == [(f"rebind.example:{port}", "/photo.jpg")]
    with pytest.raises(ImageRejected, match="rebind.example 指向链路本地地址"):  # the next answer is checked too
        download_image_bytes(f"http://rebind.example:{port}/photo.jpg", timeout=2)
    assert len(seen) == 1


def test_fetch_image_records_the_refusal_and_stores_nothing(no_private_hosts, loopback, settings):
    url, seen = loopback
    image = Image.objects.create(remote_url=f"{url}/photo.jpg")
    assert fetch_image(image) is False
    image.refresh_from_db()
    assert image.fetch_status == Image.FetchStatus.FAILED and not image.file
    assert image.fetch_error.startswith("拒绝下载：127.0.0.1 指向本机回环地址 127.0.0.1")
    assert seen == [] and not (settings.MEDIA_ROOT / "images").exists()


def test_the_import_command_reports_a_refused_picture(no_private_hosts, loopback, tmp_path):
    url, seen = loopback
    body = (f'<div class="img_box"><img data-original="{url}/photo.jpg" src="{url}/photo.jpg"></div><p>图说</p>'
            + "<p>重庆市的测试段落，内容足够长，用来确认导入器保留每一个自然段落的文字和顺序。</p>" * 3)
    path = write_markdown(tmp_path, "a.md", body=body)
    out = io.StringIO()
    call_command("import_articles", str(path), "--download-images", "--no-progress", stdout=out)
    assert f"warning: image {url}/photo.jpg: 拒绝下载：127.0.0.1 指向本机回环地址" in out.getvalue()
    assert seen == []


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "::", "fe80::1", "fd00::1",
    "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "2002:7f00:1::", "2002:a9fe:a9fe::",
    "64:ff9b::a9fe:a9fe", "::127.0.0.1", "2001:db8::1",
])
def test_non_public_addresses(address, settings):
    settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = []
    assert refused_address(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2002:5db8:d822::"])
def test_public_addresses(address, settings):
    settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = []
    assert refused_address(address) is None


def test_allowed_networks(settings):
    settings.NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS = ["10.20.0.0/16", "127.0.0.1"]
    assert refused_address("10.20.3.4") is None and refused_address("::ffff:10.20.3.4") is None
    assert refused_address("127.0.0.1") is None
    assert refused_address("10.21.0.1") and refused_address("127.0.0.2") and refused_address("169.254.169.254")


def test_a_bad_allowed_network_stops_startup(monkeypatch):
    monkeypatch.setenv("NEWSROOM_IMAGE_ALLOW_PRIVATE_HOSTS", "10.0.0.0/8,intranet.local")
    monkeypatch.setenv("DEBUG", "1")
    with pytest.raises(ImproperlyConfigured, match="'intranet.local' is not an IP address or network"):
        runpy.run_path(str(Path(__file__).parent.parent / "newsroom" / "settings.py"))
