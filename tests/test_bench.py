"""``make bench`` keeps working: its trivial view and its settings import (no timing here; see README "Performance")."""

import json
import os

import pytest
from django.test import RequestFactory

from bench.api import api_database, bulk_articles, children, memory_growth, parse_status, snapshot, verdicts
from bench.run import percentile, summarize
from bench.urls import TRIVIAL_SIZE, trivial, urlpatterns
from tests.factories import make_article


def test_trivial_view_returns_exactly_11_kb():
    response = trivial(RequestFactory().get("/bench/trivial/"))
    assert response.status_code == 200
    assert len(response.content) == TRIVIAL_SIZE == 11 * 1024


def test_bench_urls_add_the_trivial_view_to_the_project():
    names = {getattr(pattern, "name", None) for pattern in urlpatterns}
    assert "bench_trivial" in names
    assert len(urlpatterns) > 1  # the project's own URLs are there too


def test_percentiles():
    values = [i / 1000 for i in range(1, 101)]
    assert percentile(values, 50) == 0.05
    assert percentile(values, 99) == 0.099
    result = summarize(values, elapsed=2.0)
    assert result["requests"] == 100 and result["rps"] == 50.0


def test_api_phase_reads_worker_memory_and_judges_the_targets():
    status = "Name:\tgunicorn\nVmPeak:\t  300000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  120000 kB\nThreads:\t1\n"
    assert parse_status(status) == {"VmPeak": 300000, "VmHWM": 150000, "VmRSS": 120000}
    before = {1: {"VmRSS": 100_000, "VmHWM": 100_000, "cpu": 10}, 2: {"VmRSS": 90_000, "VmHWM": 95_000, "cpu": 5}}
    after = {1: {"VmRSS": 101_000, "VmHWM": 130_000, "cpu": 500}, 2: {"VmRSS": 90_000, "VmHWM": 95_000, "cpu": 6}}
    serving, growth, worst = memory_growth(before, after)
    assert serving == 1 and growth == worst == 30_000 * 1024
    assert verdicts(5_000, 49 * 1024 * 1024) == (True, True)
    assert verdicts(4_999, 50 * 1024 * 1024) == (False, False)
    assert os.getpid() in children(os.getppid())
    assert set(snapshot([os.getpid()])[os.getpid()]) >= {"VmRSS", "VmHWM", "cpu"}


def test_api_phase_uses_its_own_database(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BENCH_API_DB", "/tmp/api.sqlite3")
    assert api_database() == ("/tmp/api.sqlite3", {"BENCH_DB": "/tmp/api.sqlite3"})
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/newsroom")
    assert api_database() is None  # never the page benchmark's database
    monkeypatch.setenv("BENCH_API_DATABASE_URL", "postgres://u:p@db/bench_api")
    assert api_database() == ("db/bench_api", {"DATABASE_URL": "postgres://u:p@db/bench_api"})


@pytest.mark.django_db
def test_bulk_generated_articles_are_complete_documents(client):
    make_article(body="<p>重庆 2024 年 GDP 增长 6.1%。</p>")
    assert bulk_articles(4) == 3
    lines = b"".join(client.get("/api/v1/export.ndjson").streaming_content).decode().splitlines()
    assert len(lines) == 4
    generated = [json.loads(line) for line in lines if json.loads(line)["slug"].startswith("bench-api-")]
    assert len(generated) == 3
    for document in generated:
        assert "GDP" in document["body_html"]
        assert len(document["authors"]) == len(document["regions"]) == len(document["tags"]) == 2


WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:18301/articles/x/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   111.22ms  220.26ms   1.23s    89.61%
    Req/Sec     1.06k   489.11     2.47k    69.46%
  Latency Distribution
     50%  831.00us
     75%   73.31ms
     90%  356.13ms
     99%    1.09s\x20
  17895 requests in 10.08s, 346.42MB read
Requests/sec:   1774.95
Transfer/sec:     34.36MB
"""


def test_wrk_reports_are_read_in_milliseconds():
    from bench.run import parse_wrk, wrk_time_ms

    assert wrk_time_ms("831.00us") == pytest.approx(0.831)
    assert wrk_time_ms("1.09s") == pytest.approx(1090)
    assert wrk_time_ms("1.50m") == pytest.approx(90_000)
    result = parse_wrk(WRK_OUTPUT)
    assert result == {"requests": 17895, "seconds": pytest.approx(10.08), "rps": 1774.95,
                      "p50_ms": pytest.approx(0.831), "p99_ms": pytest.approx(1090), "errors": 0}
    broken = WRK_OUTPUT.replace("Transfer", "  Socket errors: connect 0, read 3, write 0, timeout 2\n"
                                            "  Non-2xx or 3xx responses: 4\nTransfer")
    assert parse_wrk(broken)["errors"] == 9
    with pytest.raises(ValueError):
        parse_wrk(WRK_OUTPUT.replace("     99%    1.09s\x20\n", ""))  # run without --latency


def test_the_64_connection_target_is_the_cached_page_on_the_projects_config():
    from bench.run import many_verdict, summary_line

    def row(key, config, p99):
        return {"key": key, "config": config, "result": {"p99_ms": p99}, "connections": 64}

    assert many_verdict(row("detail", "project", 49.9)) == ("p99 <50 ms", "OK")
    assert many_verdict(row("detail", "project", 50.0)) == ("p99 <50 ms", "MISS")
    assert many_verdict(row("detail", "sync", 10)) == ("-", "-")  # the sync server is for comparison
    assert many_verdict(row("detail", "gthread", 10)) == ("-", "-")
    assert many_verdict(row("trivial", "project", 10)) == ("-", "-")
    pages = [("detail, cached", "gunicorn", {}, 0, 75.0, "≥70%", "OK")]
    line = summary_line(pages, True, [row("detail", "project", 80.0), row("detail", "sync", 20.0)])
    assert line.startswith("SUMMARY (gunicorn): 1/2 targets met, 1 target(s) MISSED")
    assert "64 connections p99 80.0 ms (p99 <50 ms) MISS" in line


def test_markdown_tables_line_up():
    from bench.run import markdown_table

    lines = markdown_table(("page", "req/s"), [("detail", "12"), ("list", "1234")], numeric={1})
    assert lines == ["| page   | req/s |", "| ------ | ----: |", "| detail |    12 |", "| list   |  1234 |"]


def test_own_memory_and_the_machines_load_are_read_from_proc():
    from bench.run import cpu_busy, load_average, own_memory

    memory = own_memory()
    assert 0 < memory["rss"] <= memory["peak"]
    assert 0 <= cpu_busy(0.05) <= 1
    assert "% busy" in load_average()


def test_api_list_target_is_120_requests_per_second():
    from bench.api import LIST_PATH, list_verdict

    assert LIST_PATH == "/api/v1/articles/?limit=20"
    assert list_verdict(120) and not list_verdict(119.9)


def test_import_phase_uses_its_own_database(monkeypatch):
    from bench.importing import import_database

    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("BENCH_IMPORT_DB", "/tmp/import.sqlite3")
    assert import_database() == ("/tmp/import.sqlite3", {"BENCH_DB": "/tmp/import.sqlite3"})
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/newsroom")
    monkeypatch.delenv("BENCH_IMPORT_DATABASE_URL", raising=False)
    monkeypatch.delenv("BENCH_API_DATABASE_URL", raising=False)
    assert import_database() is None  # never the page benchmark's database
    monkeypatch.setenv("BENCH_API_DATABASE_URL", "postgres://u:p@db/bench_api")
    assert import_database() == ("db/bench_api", {"DATABASE_URL": "postgres://u:p@db/bench_api"})
    monkeypatch.setenv("BENCH_IMPORT_DATABASE_URL", "postgres://u:p@db/bench_import")
    assert import_database() == ("db/bench_import", {"DATABASE_URL": "postgres://u:p@db/bench_import"})


def test_import_copies_are_distinct_stories_to_the_importer():
    from articles.importer.frontmatter import read_source_file
    from articles.importer.run import _identity
    from articles.importer.syndicated import repair_body
    from articles.slugs import pinyin_slug
    from bench.importing import SEED_FILE, vary_article

    seed = SEED_FILE.read_text(encoding="utf-8")
    keys, urls, slugs, images = set(), set(), set(), set()
    for number in (1, 2, 999, 1000):
        source = read_source_file(vary_article(seed, number).encode(), max_bytes=10 * 1024 * 1024)
        assert source.meta["title"].endswith(f"（{number}）")
        repaired = repair_body(source.body)
        assert f"第 {number} 篇" in repaired.html
        keys.add(_identity(repaired, repaired.linked_urls[0]))
        urls.add(repaired.linked_urls[0])
        slugs.add(pinyin_slug(source.meta["title"], max_length=76))  # unique_slug's base: no -2, -3 search
        images.add(source.meta["headimg"])
        assert len(source.text) == pytest.approx(len(seed), rel=0.02)  # seed-sized
    assert len(keys) == len(urls) == len(slugs) == len(images) == 4
    with pytest.raises(ValueError):
        vary_article("---\ntitle: 'x'\n---\n<p>no app link</p>", 1)


def test_import_files_are_written_in_batches(tmp_path):
    from bench.importing import count_statuses, write_articles

    folders, size = write_articles(tmp_path, 5, batch=2)
    assert [folder.name for folder in folders] == ["1", "3", "5"]
    assert sorted(path.name for path in folders[0].iterdir()) == ["bench_1.md", "bench_2.md"]
    assert size == sum(path.stat().st_size for folder in folders for path in folder.iterdir())
    output = "[1/2] created a\n2 file(s): 1 created, 1 failed\n3 file(s): 3 created (0 already imported)\n"
    assert count_statuses(output) == {"created": 4, "failed": 1}


@pytest.mark.django_db
def test_import_copies_are_all_created(tmp_path):
    from articles.importer.run import import_paths
    from articles.models import Article
    from bench.importing import write_articles

    folders, _ = write_articles(tmp_path, 3)
    report = import_paths(folders, publish=True)
    assert [result.status for result in report.results] == ["created"] * 3, report.summary()
    assert Article.objects.published().count() == 3
    assert len(set(Article.objects.values_list("source_key", flat=True))) == 3


def test_the_load_generator_is_wrk_when_installed(monkeypatch):
    from bench import run

    monkeypatch.setattr(run, "wrk_path", lambda: "/usr/bin/wrk")
    assert run.choose_client("auto")[0] == "wrk"
    assert run.choose_client("python")[0] == "python"
    monkeypatch.setattr(run, "wrk_path", lambda: None)
    client, note = run.choose_client("auto")
    assert client == "python" and "wrk is not installed" in note  # the fallback says why its p99 is suspect
    with pytest.raises(SystemExit):
        run.choose_client("wrk")


def test_server_labels_say_what_gunicorn_conf_makes_of_the_environment(monkeypatch):
    from bench.run import project_gunicorn_config, server_label

    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    assert server_label("project", 2) == "gunicorn.conf.py: 3 sync workers"
    assert server_label("gthread", 2) == "gunicorn.conf.py, GUNICORN_THREADS=4: 3 gthread workers x 4"
    assert server_label("sync", 2) == "2 sync workers"
    assert project_gunicorn_config({"WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "6"})["threads"] == 6
