from django.urls import path

from articles.api import articles
from articles.api.figures import figures_view
from articles.api.openapi import openapi_view
from articles.api.withdrawals import withdrawal_list

app_name = "api"

urlpatterns = [
    path("articles/", articles.article_list, name="articles"),
    # Slugs may keep Chinese characters, which the slug converter would refuse.
    path("articles/<str:slug>/", articles.article_detail, name="article"),
    path("withdrawals/", withdrawal_list, name="withdrawals"),
    path("export.ndjson", articles.export_ndjson, name="export"),
    path("figures/", figures_view, name="figures"),
    path("openapi.json", openapi_view, name="openapi"),
]
