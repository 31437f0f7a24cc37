from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "文章与来源"

    def ready(self):
        from articles.cache import connect_invalidation

        connect_invalidation()
