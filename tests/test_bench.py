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
