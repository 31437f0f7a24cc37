"""ImportRun: one import started from the admin, with the per-file lines it printed."""

from django.conf import settings
from django.db import models


class ImportRun(models.Model):
    created_at = models.DateTimeField("时间", auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    summary = models.CharField("结果", max_length=300)
    lines = models.JSONField("逐个文件", default=list)
    failed_count = models.PositiveIntegerField("失败文件数", default=0)

    class Meta:
        verbose_name = "导入记录"
        verbose_name_plural = "导入记录"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.summary}"
