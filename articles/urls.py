from django.urls import path

from articles import feeds, figure_views, views
from articles.cache import cache_public_page
from articles.search_view import SearchView

app_name = "articles"

urlpatterns = [
    path("", cache_public_page(views.home), name="home"),
    path("articles/", cache_public_page(views.ArticleListView.as_view()), name="list"),
    path("articles/<str:slug>/", cache_public_page(views.article_detail), name="detail"),
    # Tag slugs keep Chinese characters (重庆), which the slug converter would refuse.
    path("tags/<str:slug>/", cache_public_page(views.TagArticleListView.as_view()), name="tag"),
    path("regions/<str:slug>/", cache_public_page(views.RegionArticleListView.as_view()), name="region"),
    path("regions/<str:slug>/figures/", cache_public_page(figure_views.region_figures), name="region_figures"),
    path("figures/", cache_public_page(figure_views.figures), name="figures"),
    path("sources/<str:slug>/", cache_public_page(views.SourceArticleListView.as_view()), name="source"),
    path("authors/<str:slug>/", cache_public_page(views.AuthorArticleListView.as_view()), name="author"),
    path("search/", cache_public_page(SearchView.as_view()), name="search"),
    path("preview/<int:pk>/", views.preview, name="preview"),
    path("preview/s/<str:token>/", views.signed_preview, name="signed_preview"),
    path("feeds/latest/", cache_public_page(feeds.LatestArticlesFeed()), name="feed_latest"),
    path("feeds/latest/atom/", cache_public_page(feeds.LatestArticlesAtomFeed()), name="feed_latest_atom"),
    path("feeds/regions/<str:slug>/", cache_public_page(feeds.RegionFeed()), name="feed_region"),
    path("feeds/tags/<str:slug>/", cache_public_page(feeds.TagFeed()), name="feed_tag"),
]
