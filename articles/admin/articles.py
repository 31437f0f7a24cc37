"""The article desk: list, form, inlines, workflow actions."""

from django.contrib import admin

from articles.admin.base import NewsroomAdmin
from articles.models import Article, ArticleAuthor, ArticleImage, StatisticFigure


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


