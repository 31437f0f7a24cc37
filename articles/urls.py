from django.urls import path

from articles import feeds, views
from articles.search_view import SearchView

app_name = "articles"

urlpatterns = [
    path("", views.home, name="home"),
    path("articles/", views.ArticleListView.as_view(), name="list"),
    path("articles/<str:slug>/", views.ArticleDetailView.as_view(), name="detail"),
    # Tag slugs keep Chinese characters (重庆), which the slug converter would refuse.
    path("tags/<str:slug>/", views.TagArticleListView.as_view(), name="tag"),
    path("regions/<str:slug>/", views.RegionArticleListView.as_view(), name="region"),
    path("sources/<str:slug>/", views.SourceArticleListView.as_view(), name="source"),
    path("authors/<str:slug>/", views.AuthorArticleListView.as_view(), name="author"),
    path("search/", SearchView.as_view(), name="search"),
    path("preview/<int:pk>/", views.preview, name="preview"),
    path("preview/s/<str:token>/", views.signed_preview, name="signed_preview"),
    path("feeds/latest/", feeds.LatestArticlesFeed(), name="feed_latest"),
    path("feeds/latest/atom/", feeds.LatestArticlesAtomFeed(), name="feed_latest_atom"),
    path("feeds/regions/<str:slug>/", feeds.RegionFeed(), name="feed_region"),
    path("feeds/tags/<str:slug>/", feeds.TagFeed(), name="feed_tag"),
]
