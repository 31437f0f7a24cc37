"""Admin for sources, authors, regions, images and figures: the newsroom's catalogue."""

from django.contrib import admin

from articles.admin.base import NewsroomAdmin
from articles.models import Author, Image, Region, Source, StatisticFigure


@admin.register(Source)
class SourceAdmin(NewsroomAdmin):
    list_display = ["name", "kind", "homepage"]
    list_filter = ["kind"]
    search_fields = ["name", "aliases"]


@admin.register(Author)
class AuthorAdmin(NewsroomAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]


@admin.register(Region)
class RegionAdmin(NewsroomAdmin):
    list_display = ["name", "short_name", "kind", "code", "parent"]
    list_filter = ["kind"]
    search_fields = ["name", "short_name", "aliases"]
    autocomplete_fields = ["parent", "members"]


@admin.register(Image)
class ImageAdmin(NewsroomAdmin):
    list_display = ["__str__", "width", "height", "credit", "fetch_status"]
    list_filter = ["fetch_status", "is_placeholder"]
    search_fields = ["caption", "credit", "remote_url"]


@admin.register(StatisticFigure)
class StatisticFigureAdmin(NewsroomAdmin):
    list_display = ["indicator", "value_text", "unit", "period", "region", "status", "article"]
    list_filter = ["status", "direction"]
    search_fields = ["indicator", "quote"]
    autocomplete_fields = ["article", "region", "source"]
