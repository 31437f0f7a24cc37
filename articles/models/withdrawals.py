"""Withdrawal: an article that left the public set, for API consumers syncing with ``updated_since``.

An article *withdraws* when it stops being public (``Article.objects.published()``): unpublished
back to draft or review, archived, moved to a future ``published_at``, or deleted. The sync feed
only lists public articles, so this is how an incremental consumer learns to drop one
(``GET /api/v1/withdrawals/``).

One row per article, written by the receivers in ``articles.sync`` and only for an article that
was public: a draft that was never published leaves no trace. A new withdrawal of the same
article moves its row (``withdrawn_at``) to the end of the feed. ``current()`` leaves out the
articles that are public again (re-published, or a rescheduled one whose time has come): those
are back in the ``updated_since`` feed instead, so the two feeds never contradict each other.
"""

from django.db import models
from django.utils import timezone

from articles.models.articles import Article


class WithdrawalQuerySet(models.QuerySet):
    def current(self):
        """Withdrawals of articles that are not public now (including deleted ones)."""
        return self.exclude(article_id__in=Article.objects.published().values("pk"))

    def record(self, article_id: int, slug: str) -> "Withdrawal":
        """Note that article ``article_id``, public as ``slug`` until now, has just left the public set."""
        withdrawal, _ = self.update_or_create(article_id=article_id, defaults={"slug": slug, "withdrawn_at": timezone.now()})
        return withdrawal


class Withdrawal(models.Model):
    # Not a foreign key: the row outlives a deleted article.
    article_id = models.BigIntegerField("文章 ID", unique=True)
    slug = models.CharField("网址名", max_length=100, help_text="撤下前公开使用的网址名")
    withdrawn_at = models.DateTimeField("撤下时间")

    objects = WithdrawalQuerySet.as_manager()

    class Meta:
        verbose_name = "撤下记录"
        verbose_name_plural = "撤下记录"
        ordering = ["withdrawn_at", "pk"]
        indexes = [models.Index(fields=["withdrawn_at", "id"], name="withdrawal_feed_order")]

    def __str__(self):
        return f"{self.slug} ({self.article_id})"
