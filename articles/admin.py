"""Plain admin registration; the editor-desk issue builds workflow and roles on top."""

from django.contrib import admin
from django.db import models

from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source, StatisticFigure


class NewsroomAdmin(admin.ModelAdmin):
    # Django 6 will assume https for scheme-less URLs typed into forms; opt in now.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


class ArticleAuthorInline(admin.TabularInline):
    model = ArticleAuthor
    autocomplete_fields = ["author"]
    extra = 0


class ArticleImageInline(admin.TabularInline):
    model = ArticleImage
    raw_id_fields = ["image"]
    extra = 0


class StatisticFigureInline(admin.TabularInline):
    model = StatisticFigure
    fields = ["indicator", "value_text", "value", "unit", "period", "region", "status"]
    autocomplete_fields = ["region"]
    extra = 0


@admin.register(Article)
class ArticleAdmin(NewsroomAdmin):
    list_display = ["title", "status", "published_at", "publisher", "syndicator"]
    list_filter = ["status", "publisher", "syndicator", "regions"]
    list_select_related = ["publisher", "syndicator"]
    search_fields = ["title", "body_text"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["publisher", "syndicator", "data_sources", "regions", "lead_image"]
    readonly_fields = ["raw_source", "source_filename", "source_encoding", "source_key", "imported_at", "quality_warnings"]
    inlines = [ArticleAuthorInline, ArticleImageInline, StatisticFigureInline]


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
