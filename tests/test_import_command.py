"""import_articles on long runs: progress output, output per verbosity, interruption and resuming."""

import io
import json
import signal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.importer import ndjson, run
from articles.models import Article, ArticleRevision, Image

from .factories import make_markdown, write_markdown

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self):
        return True


def write_bytes(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


def folder_of(tmp_path, count, *, bad=()):
    """``count`` small distinct articles a_01.md ...; the numbers in ``bad`` have no front matter."""
    folder = tmp_path / "articles"
    folder.mkdir()
    for n in range(1, count + 1):
        if n in bad:
            write_bytes(folder, f"a_{n:02d}.md", b"no front matter")
        else:
            write_markdown(folder, f"a_{n:02d}.md", title=f"第{n}篇导入测试文章")
    return folder


def import_command(*args, **options):
    """Run the command; returns (stdout, stderr, the CommandError or None)."""
    out, err = io.StringIO(), options.pop("stderr", None) or io.StringIO()
    try:
        call_command("import_articles", *map(str, args), stdout=out, stderr=err, no_color=True, **options)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


def interrupt_at(monkeypatch, filename, exception=KeyboardInterrupt):
    """Raise ``exception`` while ``filename`` is being saved: after its Article row is written,
    inside the file's transaction, as a Ctrl-C in the middle of a file would."""
    real = run.save_bylines

    def save_bylines(article, repaired, **options):
        real(article, repaired, **options)
        if article.source_filename == filename:
            raise exception()

    monkeypatch.setattr(run, "save_bylines", save_bylines)


def test_long_run_without_a_terminal_prints_progress_lines_and_the_notable_files(tmp_path):
    folder = folder_of(tmp_path, 30, bad={7})
    out, err, error = import_command(folder)

    assert str(error) == "1 file(s) failed"
    lines = out.splitlines()
    # Verbosity 1 on a long run: the failure and the summary, not 29 "created" lines.
    assert len(lines) == 2 and lines[0].startswith(f"[ 7/30] failed    {folder}/a_07.md: no front matter")
    assert lines[1] == "30 file(s): 29 created, 1 failed"
    progress = err.splitlines()
    assert len(progress) == 10, err  # every 10%, with no bar (standard error is not a terminal)
    assert progress[0].startswith("progress: 3/30 files (10%), ")
    assert progress[-1].startswith("progress: 30/30 files (100%), ")
    assert "files/s, elapsed " in progress[-1] and "ETA 00:00" in progress[-1] and "\r" not in err
    assert Article.objects.count() == 29
    assert Article.objects.filter(source_filename="a_07.md").count() == 0


def test_every_file_at_verbosity_2_and_no_progress_on_request(tmp_path):
    folder = folder_of(tmp_path, 25)
    out, err, error = import_command(folder, verbosity=2, no_progress=True)
    assert error is None and err == ""
    lines = out.splitlines()
    assert len(lines) == 26
    assert lines[0].startswith(f"[ 1/25] created   {folder}/a_01.md ")
    assert lines[-1] == "25 file(s): 25 created"

    out, err, error = import_command(folder, verbosity=0)
    assert error is None and err == ""  # quiet: the summary only
    assert out.splitlines() == ["25 file(s): 25 unchanged (25 already imported)"]


def test_short_runs_print_every_file_and_no_progress(tmp_path):
    folder = folder_of(tmp_path, 3)
    out, err, error = import_command(folder)
    assert error is None and err == ""
    assert [line.split()[1] for line in out.splitlines()[:-1]] == ["created"] * 3


def test_on_a_terminal_a_bar_and_the_lines_above_it(tmp_path):
    folder = folder_of(tmp_path, 22)
    write_markdown(folder, "a_23.md", body="<p>重庆的短文。</p>")  # created with a warning: shown
    terminal = Terminal()
    out, _, error = import_command(folder, stderr=terminal)
    assert error is None
    bar = terminal.getvalue()
    assert "\r" in bar and "23/23" in bar and "100%" in bar
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"[23/23] created   {folder}/a_23.md") and "very short body" in lines[0]
    assert lines[1] == "23 file(s): 23 created"


def test_interrupted_run_rolls_back_the_current_file_and_resumes(tmp_path, monkeypatch):
    folder = folder_of(tmp_path, 30)
    interrupt_at(monkeypatch, "a_11.md")
    out, _, error = import_command(folder, verbosity=2, no_progress=True)

    assert error is not None and error.returncode == 130
    assert str(error) == "interrupted after 10 of 30 article(s): run the same command again to resume"
    lines = out.splitlines()
    assert lines[-2] == f"[11/30] interrupted {folder}/a_11.md: rolled back, nothing of it saved"
    assert lines[-1] == "10 file(s): 10 created"
    # The interrupted file's rows (its Article was saved before the interruption) are gone.
    assert Article.objects.count() == 10
    assert not Article.objects.filter(source_filename="a_11.md").exists()
    assert ArticleRevision.objects.count() == 10

    monkeypatch.undo()
    parsed = []
    real_repair = run.repair_body
    monkeypatch.setattr(run, "repair_body", lambda body: parsed.append(body) or real_repair(body))
    out, _, error = import_command(folder, verbosity=2, no_progress=True)
    assert error is None
    lines = out.splitlines()
    assert all(" unchanged " in line for line in lines[:10]) and all(" created " in line for line in lines[10:30])
    assert lines[-1] == "30 file(s): 20 created, 10 unchanged (10 already imported)"
    assert len(parsed) == 20  # the files already imported were not parsed again
    assert Article.objects.count() == 30
    assert sorted(Article.objects.values_list("source_filename", flat=True)) == [f"a_{n:02d}.md" for n in range(1, 31)]
    assert ArticleRevision.objects.count() == 30

    out, _, error = import_command(folder)
    assert error is None and out.splitlines() == ["30 file(s): 30 unchanged (30 already imported)"]
    assert len(parsed) == 20 and Article.objects.count() == 30


def test_sigterm_stops_like_ctrl_c_with_status_143(tmp_path, monkeypatch):
    folder = folder_of(tmp_path, 5)
    before = signal.getsignal(signal.SIGTERM)

    def terminate():
        handler = signal.getsignal(signal.SIGTERM)
        assert callable(handler), "the command handles SIGTERM while it imports"
        handler(signal.SIGTERM, None)

    interrupt_at(monkeypatch, "a_03.md", exception=terminate)
    out, _, error = import_command(folder)
    assert error is not None and error.returncode == 143
    assert "interrupted after 2 of 5 article(s)" in str(error)
    assert out.splitlines()[-1] == "2 file(s): 2 created"
    assert Article.objects.count() == 2
    assert signal.getsignal(signal.SIGTERM) == before  # the command's handler is gone


def test_dry_run_interrupted_says_nothing_about_resuming(tmp_path, monkeypatch):
    folder = folder_of(tmp_path, 3)
    interrupt_at(monkeypatch, "a_02.md")
    out, _, error = import_command(folder, dry_run=True)
    assert error.returncode == 130 and str(error) == "interrupted after 1 of 3 article(s)"
    assert out.splitlines()[-1] == "Dry run, nothing saved. 1 file(s): 1 created"
    assert Article.objects.count() == 0


def export_dump(path):
    call_command("export_articles", "--output", str(path), stderr=io.StringIO())
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def test_interrupted_ndjson_dump_resumes_line_by_line(tmp_path, monkeypatch):
    folder = folder_of(tmp_path, 3)
    call_command("import_articles", str(folder), stdout=io.StringIO())
    dump = tmp_path / "dump.ndjson"
    documents = export_dump(dump)
    Article.objects.all().delete()

    real_restore = ndjson.restore_article
    restored, interrupted = [], []

    def restore_then_interrupt(document, **kwargs):
        restored.append(document["slug"])
        status = real_restore(document, **kwargs)
        if len(restored) == 2 and not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt  # after the second article's rows are written, before its commit
        return status

    monkeypatch.setattr(ndjson, "restore_article", restore_then_interrupt)
    out, _, error = import_command(dump)
    assert error.returncode == 130 and "interrupted after 1 of 3 article(s)" in str(error)
    assert out.splitlines()[-2] == (f"[1/1] interrupted {dump}: the line being restored was rolled back; "
                                    "the 1 line(s) before it are done")
    assert list(Article.objects.values_list("slug", flat=True)) == [documents[0]["slug"]]

    restored.clear()
    out, _, error = import_command(dump, verbosity=2)
    assert error is None
    assert [line.split()[1] for line in out.splitlines()] == ["unchanged", "created", "created", "file(s):"]
    assert restored == [documents[1]["slug"], documents[2]["slug"]]  # the first one was not written again
    out, _, _ = import_command(dump)
    assert out.splitlines()[-1] == "3 file(s): 3 unchanged (3 already imported)"
    assert Article.objects.count() == 3
    after = tmp_path / "after.ndjson"
    assert [{**d, "id": 0} for d in export_dump(after)] == [{**d, "id": 0} for d in documents]


def test_dump_of_articles_sharing_an_image_restores_exactly_and_resumes(tmp_path):
    shared = '<p><img data-original="https://img.example/shared.jpg" src="https://img.example/shared.jpg"></p>'
    folder = tmp_path / "shared"
    folder.mkdir()
    for n in (1, 2):
        text = f"<p>重庆市第{n}篇共用一张图片的文章，正文足够长，用来确认导出再导入之后每个字段都不变。</p>"
        write_markdown(folder, f"s_{n}.md", title=f"共用图片的文章{n}", body=shared + text * 2)
    call_command("import_articles", str(folder), stdout=io.StringIO())
    assert Image.objects.count() == 1
    dump = tmp_path / "dump.ndjson"
    documents = export_dump(dump)
    Article.objects.all().delete()

    out, _, _ = import_command(dump)
    assert out.splitlines()[-1] == "2 file(s): 2 created"
    # Restoring the second article leaves the shared image (and so the first article's updated_at) alone.
    assert [{**d, "id": 0} for d in export_dump(tmp_path / "after.ndjson")] == [{**d, "id": 0} for d in documents]
    out, _, _ = import_command(dump)
    assert out.splitlines()[-1] == "2 file(s): 2 unchanged (2 already imported)"


def test_ndjson_line_that_differs_is_restored_again(tmp_path):
    folder = folder_of(tmp_path, 1)
    call_command("import_articles", str(folder), stdout=io.StringIO())
    dump = tmp_path / "dump.ndjson"
    export_dump(dump)
    article = Article.objects.get()
    article.title = "导出之后改过的标题"
    article.save()
    out, _, _ = import_command(dump)
    assert out.splitlines()[-1] == "1 file(s): 1 updated"
    assert Article.objects.get().title == "第1篇导入测试文章"


def test_ndjson_lines_end_at_newlines_only(tmp_path):
    body = "<p>重庆市第一段落，足够长的文字\u2028在同一段里换行，用来确认导出和导入保留每一个字符。</p>" * 2
    path = write_markdown(tmp_path, "ls.md", body=body)
    call_command("import_articles", str(path), stdout=io.StringIO())
    dump = tmp_path / "dump.ndjson"
    export_dump(dump)
    Article.objects.all().delete()
    out, _, error = import_command(dump)
    assert error is None, out
    assert "\u2028" in Article.objects.get().raw_source


def test_rerun_with_download_images_fetches_what_an_interrupted_run_left(tmp_path, monkeypatch):
    body = ('<p><img data-original="https://img.example/a.jpg" src="https://img.example/a.jpg"></p>'
            "<p>重庆的制造业正在加快智能化改造，一批数字化车间和智能工厂相继建成投产，带动产业链整体升级。</p>")
    path = tmp_path / "img.md"
    path.write_text(make_markdown(body=body), encoding="utf-8")
    call_command("import_articles", str(path), stdout=io.StringIO())  # as if stopped before the downloads
    assert Image.objects.get().fetch_status == Image.FetchStatus.REMOTE

    fetched = []

    def fetch_image(image):
        fetched.append(image.remote_url)
        image.fetch_status = Image.FetchStatus.FETCHED
        image.save()
        return True

    monkeypatch.setattr("articles.images.fetch_image", fetch_image)
    out, _, error = import_command(path, download_images=True)
    assert error is None and " unchanged " in out
    assert fetched == ["https://img.example/a.jpg"]
    import_command(path, download_images=True)
    assert fetched == ["https://img.example/a.jpg"]  # fetched once: the next run has nothing left to do
