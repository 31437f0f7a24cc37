"""ArticleRevision: the whole article as it was after one save, as its own export document.

The document comes from ``articles.export.serialize_article(full=True)``, so a revision covers
fields, tags, bylines, gallery and figures, and restores through the same code as an import.
"""

from django.conf import settings
from django.db import models


class ArticleRevision(models.Model):
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField("版本号")
    created_at = models.DateTimeField("时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="编辑", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message = models.CharField("说明", max_length=200, blank=True)
    data = models.JSONField("内容")

    class Meta:
        verbose_name = "历史版本"
        verbose_name_plural = "历史版本"
        ordering = ["article", "-number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="unique_revision_number")]

    def __str__(self):
        return f"{self.article_id} #{self.number}"
