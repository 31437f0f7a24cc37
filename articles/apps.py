from django.apps import AppConfig


class ArticlesConfig(AppConfig):
    name = "articles"
    verbose_name = "文章与来源"

    def ready(self):
        from django.db.models.signals import post_migrate

        from articles.cache import connect_invalidation
        from articles.page_document import connect_refresh, refresh_outdated
        from articles.shown import connect_stored
        from articles.sync import connect_sync

        connect_stored()
        connect_invalidation()
        connect_sync()
        connect_refresh()
        post_migrate.connect(refresh_outdated, sender=self)
