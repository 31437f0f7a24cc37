"""URLconf for tests/test_revisions.py: a throwaway admin site whose ArticleAdmin has only the
revision views, mounted at /admin/, so the views are tested apart from the real ArticleAdmin."""

from django.contrib import admin
from django.urls import include, path

from articles.admin.base import NewsroomAdmin
from articles.admin.revisions import RevisionAdminMixin
from articles.models import Article

site = admin.AdminSite(name="revtest")


class TestArticleAdmin(RevisionAdminMixin, NewsroomAdmin):
    pass


site.register(Article, TestArticleAdmin)

urlpatterns = [
    path("admin/", site.urls),
    path("", include("articles.urls")),
]
