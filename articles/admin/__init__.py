"""Newsroom's admin: one module per area, registered on import."""

from articles.admin import articles, catalog, imports  # noqa: F401
