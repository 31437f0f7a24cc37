"""Importing from the admin: uploads and archives, permissions, and the read-only record it leaves."""

import io
import shutil
import zipfile

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from articles.importer import uploads
from articles.models import Article, ImportRun

from .factories import SEED, make_markdown

pytestmark = pytest.mark.django_db

NO_FRONT_MATTER = "<p>只有正文，没有 front matter。</p>".encode()


def add_url():
    return reverse("admin:articles_importrun_add")


def upload(name, data):
    return SimpleUploadedFile(name, data)


def make_zip(members: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def post_files(client, *files, **data):
    response = client.post(add_url(), {"files": list(files), **data})
    assert response.status_code == 302, response.content.decode()[:2000]
    run = ImportRun.objects.latest("pk")
    assert response.url == reverse("admin:articles_importrun_change", args=[run.pk])
    return run


@pytest.fixture
def contributor(django_user_model):
    """Staff who may add articles but not publish them."""
    user = django_user_model.objects.create_user("contributor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Contributor"))
    return user


def test_upload_prints_the_same_lines_as_the_command(admin_client, admin_user, tmp_path):
    good = tmp_path / "seed_chongqing.md"
    shutil.copy(SEED, good)
    bad = tmp_path / "no_front_matter.md"
    bad.write_bytes(NO_FRONT_MATTER)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_articles", str(good), str(bad), stdout=out, no_color=True)
    *printed, summary = out.getvalue().splitlines()
    expected = [line.replace(f"{tmp_path}/", "") for line in printed]
    Article.objects.all().delete()

    run = post_files(admin_client, upload(good.name, good.read_bytes()), upload(bad.name, bad.read_bytes()))

    assert run.lines == expected
    assert run.lines[0].startswith("[1/2] created   seed_chongqing.md tui-dong-gao-zhi-liang")
    assert run.lines[1].startswith("[2/2] failed    no_front_matter.md: no front matter")
    assert run.summary == summary == "2 file(s): 1 created, 1 failed"
    assert run.failed_count == 1 and run.created_by == admin_user
    article = Article.objects.get()
    assert article.title == "推动高质量发展 创造高品质生活" and article.status == Article.Status.DRAFT

    page = admin_client.get(reverse("admin:articles_importrun_change", args=[run.pk])).content.decode()
    assert '<pre class="import-lines">[1/2] created   seed_chongqing.md' in page
    assert "no_front_matter.md" in page


def test_zip_refuses_unsafe_members_and_imports_the_rest(admin_client, tmp_path):
    archive = make_zip({
        "a.md": make_markdown(title="压缩包里的文章"),
        "folder/b.md": make_markdown(title="子文件夹里的文章"),
        "../evil.md": make_markdown(title="越界文章"),
        "/etc/absolute.md": make_markdown(title="绝对路径文章"),
        "folder/photo.jpg": b"\xff\xd8not an article",
        "__MACOSX/._a.md": b"\x00\x05\x16\x07",
    })
    run = post_files(admin_client, upload("archive.zip", archive))

    assert sorted(Article.objects.values_list("title", flat=True)) == ["压缩包里的文章", "子文件夹里的文章"]
    assert run.failed_count == 2
    assert run.lines[:2] == [
        "[1/4] failed    archive.zip/../evil.md: unsafe path in archive (absolute or '..'): not extracted",
        "[2/4] failed    archive.zip//etc/absolute.md: unsafe path in archive (absolute or '..'): not extracted",
    ]
    assert run.lines[2].startswith("[3/4] created   archive.zip/a.md ")
    assert run.lines[3].startswith("[4/4] created   archive.zip/folder/b.md ")
    assert not (tmp_path.parent / "evil.md").exists()


def test_zip_member_names_in_gbk_are_read(admin_client):
    # Windows zip tools write GBK names without the UTF-8 flag; zipfile would set the flag, so patch the bytes.
    gbk_name = "重庆.md".encode("gbk")
    placeholder = b"X" * (len(gbk_name) - 3) + b".md"
    data = make_zip({placeholder.decode(): make_markdown(title="文件名是中文")}).replace(placeholder, gbk_name)
    run = post_files(admin_client, upload("稿件.zip", data))
    assert run.lines[0].startswith("[1/1] created   稿件.zip/重庆.md ")


@pytest.mark.parametrize("data", [b"PK\x03\x04 this is not really a zip", make_zip({"a.md": make_markdown()})[:-30]])
def test_corrupt_zip_is_one_failed_line(admin_client, data):
    run = post_files(admin_client, upload("broken.zip", data), upload("good.md", make_markdown(title="好文章").encode()))
    assert run.failed_count == 1
    assert run.lines[0].startswith("[1/2] failed    broken.zip: not a readable zip archive: ")
    assert run.lines[1].startswith("[2/2] created   good.md ")
    assert list(Article.objects.values_list("title", flat=True)) == ["好文章"]


def test_archive_over_the_limits_is_refused_whole(admin_client, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_ARCHIVE_MEMBERS", 2)
    many = make_zip({f"{n}.md": make_markdown() for n in range(3)})
    run = post_files(admin_client, upload("many.zip", many))
    assert run.lines == ["[1/1] failed    many.zip: too many files in archive: 3 files and folders, the limit is 2; "
                         "nothing imported from it"]

    monkeypatch.setattr(uploads, "MAX_ARCHIVE_BYTES", 1000)
    big = make_zip({"big.md": make_markdown(body="<p>" + "重庆" * 2000 + "</p>")})
    run = post_files(admin_client, upload("big.zip", big))
    assert run.lines == ["[1/1] failed    big.zip: archive too large: over 0.000953674 MB uncompressed; nothing imported from it"]
    assert Article.objects.count() == 0


def test_unsupported_upload_is_a_failed_line(admin_client):
    run = post_files(admin_client, upload("report.docx", b"PK\x03\x04"), upload("../../notes.md", make_markdown().encode()))
    assert run.lines[0] == "[1/2] failed    report.docx: unsupported file type .docx: upload .md, .txt, .ndjson or .zip"
    assert run.lines[1].startswith("[2/2] created   notes.md ")  # the base name only
    assert run.failed_count == 1


@pytest.mark.parametrize("publisher, expected", [(True, Article.Status.PUBLISHED), (False, Article.Status.DRAFT)])
def test_publish_is_honoured_only_for_publishers(client, admin_user, contributor, publisher, expected):
    client.force_login(admin_user if publisher else contributor)
    form = client.get(add_url()).content.decode()
    assert ('name="publish"' in form) is publisher
    post_files(client, upload("seed.md", SEED.read_bytes()), publish="on")
    assert Article.objects.get().status == expected


def test_contributor_sees_the_record_but_cannot_change_or_delete_it(client, contributor):
    client.force_login(contributor)
    run = post_files(client, upload("seed.md", SEED.read_bytes()))
    change = client.get(reverse("admin:articles_importrun_change", args=[run.pk]))
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert client.post(reverse("admin:articles_importrun_change", args=[run.pk]), {}).status_code == 403
    assert client.get(reverse("admin:articles_importrun_delete", args=[run.pk])).status_code == 403


def test_superuser_may_delete_a_record(admin_client):
    run = ImportRun.objects.create(summary="1 file(s): 1 failed", lines=["[1/1] failed    x.md: no title"], failed_count=1)
    response = admin_client.post(reverse("admin:articles_importrun_delete", args=[run.pk]), {"post": "yes"})
    assert response.status_code == 302 and not ImportRun.objects.exists()


def test_import_needs_add_article(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_article"))
    client.force_login(viewer)
    assert client.get(add_url()).status_code == 403
    assert client.post(add_url(), {"files": [upload("seed.md", SEED.read_bytes())]}).status_code == 403
    assert not Article.objects.exists() and not ImportRun.objects.exists()


def test_upload_form_requires_a_file(admin_client):
    response = admin_client.post(add_url(), {})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["files"]
    assert not ImportRun.objects.exists()


def test_changelist_filters_runs_with_failures(admin_client):
    failed = ImportRun.objects.create(summary="2 file(s): 1 created, 1 failed", failed_count=1)
    clean = ImportRun.objects.create(summary="1 file(s): 1 created", failed_count=0)
    url = reverse("admin:articles_importrun_changelist")
    page = admin_client.get(url)
    assert "导入文章" in page.content.decode()
    assert list(admin_client.get(url + "?failed=yes").context["cl"].result_list) == [failed]
    assert list(admin_client.get(url + "?failed=no").context["cl"].result_list) == [clean]


def test_contributor_owns_and_may_edit_the_drafts_they_import(client, contributor):
    client.force_login(contributor)
    post_files(client, upload("seed.md", SEED.read_bytes()))
    article = Article.objects.get()
    assert article.created_by == contributor and article.updated_by == contributor
    assert article.revisions.get().created_by == contributor
    change = reverse("admin:articles_article_change", args=[article.pk])
    assert 'name="_save"' in client.get(change).content.decode()
