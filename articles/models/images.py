"""Image: a picture from an article, stored locally or recorded by its remote URL."""

from django.db import models

from articles.sanitize import web_url


class Image(models.Model):
    class FetchStatus(models.TextChoices):
        REMOTE = "remote", "仅记录地址"
        FETCHED = "fetched", "已下载"
        FAILED = "failed", "下载失败"

    file = models.ImageField("文件", upload_to="images/%Y/%m/", blank=True, width_field="width", height_field="height")
    remote_url = models.URLField("原图地址", max_length=1000, blank=True)
    width = models.PositiveIntegerField("宽", null=True, blank=True)
    height = models.PositiveIntegerField("高", null=True, blank=True)
    caption = models.TextField("图说", blank=True)
    credit = models.CharField("摄影/制图", max_length=200, blank=True, help_text="署名，如 何超 摄")
    photographer = models.ForeignKey(
        "articles.Author", verbose_name="摄影者", null=True, blank=True, on_delete=models.SET_NULL, related_name="images"
    )
    alt_text = models.CharField("替代文字", max_length=300, blank=True)
    data_source_line = models.TextField("数据来源说明", blank=True, help_text="信息图的“数据来源：…”原文")
    fetch_status = models.CharField("下载状态", max_length=10, choices=FetchStatus.choices, default=FetchStatus.REMOTE)
    fetch_error = models.CharField("下载错误", max_length=300, blank=True)
    renditions = models.JSONField(
        "缩略图", default=list, blank=True, editable=False,
        help_text="上传或下载时生成的各尺寸版本：[{width, height, format, file}]",
    )
    is_placeholder = models.BooleanField("占位图", default=False, help_text="生成器填入的随机占位图，不是文章图片")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "图片"
        verbose_name_plural = "图片"
        ordering = ["pk"]

    def __str__(self):
        return self.caption[:40] or self.remote_url or (self.file.name if self.file else f"图片 {self.pk}")

    @property
    def url(self):
        """Where a reader gets the picture: the stored file if any, else the remote URL if it is http(s)
        (a row restored from a dump may hold anything, e.g. ``javascript:``; see ``sanitize.web_url``)."""
        if self.file:
            return self.file.url
        return web_url(self.remote_url)
