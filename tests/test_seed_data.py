"""The seed migration (0002) loads China's provincial divisions, sample cities, areas and sources."""

import importlib

import pytest
from django.apps import apps

from articles.models import Region, Source

pytestmark = pytest.mark.django_db

seed_migration = importlib.import_module("articles.migrations.0002_seed_regions_and_sources")


def test_provinces():
    china = Region.objects.get(name="中国")
    assert china.kind == Region.Kind.COUNTRY and china.parent is None
    provinces = Region.objects.filter(kind=Region.Kind.PROVINCE)
    assert provinces.count() == 34
    for province in provinces:
        assert len(province.code) == 6 and province.code.isdigit(), province
        assert province.parent == china, province
    assert len({p.code for p in provinces}) == 34


def test_chongqing():
    chongqing = Region.objects.get(name="重庆市")
    assert chongqing.short_name == "重庆"
    assert chongqing.code == "500000"
    assert "渝" in chongqing.aliases
    wanzhou = Region.objects.get(name="万州区")
    assert wanzhou.parent == chongqing
    assert wanzhou.kind == Region.Kind.COUNTY
    assert wanzhou.short_name == "万州"


def test_chengyu_area():
    area = Region.objects.get(name="成渝地区双城经济圈")
    assert area.kind == Region.Kind.AREA
    assert area.code == ""
    assert set(area.members.values_list("name", flat=True)) == {"重庆市", "四川省"}


def test_slugs_ascii_and_unique():
    for model in (Region, Source):
        slugs = list(model.objects.values_list("slug", flat=True))
        assert all(slug and slug.isascii() for slug in slugs), model
        assert len(slugs) == len(set(slugs)), model
    assert Region.objects.get(name="重庆市").slug == "chong-qing"
    assert Region.objects.get(name="山西省").slug == "shan-xi"
    assert Region.objects.get(name="陕西省").slug == "shaan-xi"  # explicit in regions.json


def test_source_for_url():
    assert Source.objects.for_url("https://wap.peopleapp.com/article/6821807").name == "人民日报"
    assert Source.objects.for_url("http://www.news.cn/politics/2022-04/12/x.htm").name == "新华社"
    assert Source.objects.for_url("https://finance.sina.com.cn/x.shtml").name == "新浪财经"
    assert Source.objects.for_url("https://example.org/") is None


def test_seed_is_idempotent():
    counts = (Region.objects.count(), Source.objects.count(), Region.members.through.objects.count())
    slugs = dict(Region.objects.values_list("name", "slug"))
    # The function only uses ``apps``; a schema editor cannot be opened inside the test transaction on SQLite.
    seed_migration.seed(apps, None)
    seed_migration.seed(apps, None)
    assert (Region.objects.count(), Source.objects.count(), Region.members.through.objects.count()) == counts
    assert dict(Region.objects.values_list("name", "slug")) == slugs
