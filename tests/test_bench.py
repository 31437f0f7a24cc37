"""``make bench`` keeps working: its trivial view and its settings import (no timing here; see README "Performance")."""

from django.test import RequestFactory

from bench.run import percentile, summarize
from bench.urls import TRIVIAL_SIZE, trivial, urlpatterns


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
