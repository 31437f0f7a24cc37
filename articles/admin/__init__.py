"""Newsroom's admin: one module per area, registered on import."""

from django.contrib import admin

from articles.admin import articles, catalog, figures, imports, logins  # noqa: F401

admin.site.site_header = "Newsroom 编辑台"
admin.site.site_title = "Newsroom"
admin.site.index_title = "编辑台"
