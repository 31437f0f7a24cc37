"""Article and its ordered relations: bylines (ArticleAuthor) and gallery (ArticleImage).

``body`` is the repaired HTML an editor edits; ``body_html`` (sanitized) and ``body_text``
(plain text, the basis for figure offsets and search) are derived from it on every save.

Deleting an article in the admin moves it to the trash (``Status.TRASHED``, see
``articles.workflow.trash``): a status like the others, so ``published()`` stays the one public
rule and every receiver (withdrawals, page cache, page documents) sees it as for unpublishing.
``TrashedArticle`` is the same table seen through the trash's admin.
"""

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Greatest
from django.urls import reverse
from django.utils import timezone
from taggit.managers import TaggableManager

from articles.sanitize import clean_body_html, sanitized_html_to_text
from articles.segment import segment
from articles.slugs import unique_slug


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """The one definition of "public": published, and its time has come (in Python: ``Article.is_public``)."""
        return self.filter(status=Article.Status.PUBLISHED, published_at__lte=timezone.now())

    def for_listing(self):
        return self.select_related("publisher", "syndicator", "lead_image").order_by("-published_at", "-pk")

    def for_export(self):
        return self.select_related("publisher", "syndicator", "lead_image", "lead_image__photographer").prefetch_related(
            "data_sources",
            "regions",
            "tags",
            models.Prefetch("bylines", queryset=ArticleAuthor.objects.select_related("author").order_by("order", "pk")),
            models.Prefetch(
                "gallery",
                queryset=ArticleImage.objects.select_related("image", "image__photographer").order_by("order", "pk"),
            ),
            models.Prefetch("figures", queryset=_figures_for_export()),
        )


def _figures_for_export():
    from articles.models.figures import StatisticFigure

    return StatisticFigure.objects.select_related("region", "source").order_by("start_offset", "pk")


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        REVIEW = "review", "待审"
        PUBLISHED = "published", "已发布"
        ARCHIVED = "archived", "已归档"
        # Deleted by an editor: kept with everything it links to until restored or purged (articles.workflow).
        TRASHED = "trashed", "回收站"

    title = models.CharField("标题", max_length=300, help_text="纯文本，不含 HTML")
    slug = models.SlugField("网址名", max_length=100, unique=True, blank=True, help_text="留空则按标题拼音生成")
    summary = models.TextField("摘要", blank=True)
    body = models.TextField("正文", blank=True, help_text="保存时按统一白名单清洗")
    body_html = models.TextField("清洗后正文", blank=True, editable=False)
    body_text = models.TextField("纯文本正文", blank=True, editable=False)
    search_text = models.TextField(
        "分词文本", blank=True, editable=False, help_text="标题和正文的 jieba 分词结果，供全文检索使用"
    )
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True, db_index=True)
    language = models.CharField("语言", max_length=10, default="zh-hans")
    original_url = models.URLField("原文链接", max_length=1000, blank=True)
    publisher = models.ForeignKey(
        "articles.Source", verbose_name="原发媒体", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="published_articles",
    )
    syndicator = models.ForeignKey(
        "articles.Source", verbose_name="转载平台", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="syndicated_articles",
    )
    data_sources = models.ManyToManyField(
        "articles.Source", verbose_name="数据来源", blank=True, related_name="data_articles"
    )
    regions = models.ManyToManyField("articles.Region", verbose_name="地区", blank=True, related_name="articles")
    authors = models.ManyToManyField(
        "articles.Author", through="ArticleAuthor", verbose_name="作者", blank=True, related_name="articles"
    )
    tags = TaggableManager("标签", blank=True)
    categories = models.JSONField("分类", default=list, blank=True, help_text="来源文件 front matter 中的分类")
    lead_image = models.ForeignKey(
        "articles.Image", verbose_name="题图", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    quality_warnings = models.JSONField("质量提示", default=list, blank=True)
    # Provenance of the import: the file exactly as received, and how to recognise it again.
    raw_source = models.TextField("原始文件", blank=True)
    source_filename = models.CharField("原始文件名", max_length=300, blank=True)
    source_encoding = models.CharField("原始编码", max_length=20, blank=True)
    source_checksum = models.CharField("原始文件 SHA-256", max_length=64, blank=True, db_index=True)
    source_key = models.CharField(
        "来源标识", max_length=300, null=True, blank=True, unique=True,
        help_text="同一篇稿件的身份（如 zaker:<pk>、url:<原文链接>），用于识别重复导入",
    )
    import_checksum = models.CharField("导入时内容指纹", max_length=64, blank=True, editable=False)
    imported_at = models.DateTimeField("导入时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="最后编辑", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    # Set while the article is in the trash (status TRASHED), cleared when it leaves it (see save()).
    trashed_at = models.DateTimeField("移入回收站时间", null=True, blank=True, editable=False, db_index=True)
    trashed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="删除人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", editable=False,
    )
    status_before_trash = models.CharField(
        "删除前状态", max_length=10, choices=[(value, label) for value, label in Status.choices if value != "trashed"],
        blank=True, editable=False,
        help_text="从回收站恢复时回到这个状态",
    )
    version = models.PositiveIntegerField(
        "版本", default=0, editable=False, help_text="每次在后台保存加一；用来拒绝基于旧版本的保存"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)
    # The article page's read model and its related articles, kept fresh by articles.page_document.
    page_document = models.JSONField("页面数据", default=dict, blank=True, editable=False)
    # None: to be ranked again when the page is next viewed (a neighbour changed).
    related_ids = models.JSONField("相关文章", default=list, blank=True, null=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    # What body_html, body_text and search_text are derived from (derive_text), on every save that writes one of them.
    DERIVED_FROM = ("title", "summary", "body")
    DERIVED_FIELDS = ("body_html", "body_text", "search_text")

    class Meta:
        verbose_name = "文章"
        verbose_name_plural = "文章"
        ordering = ["-published_at", "-pk"]
        permissions = [
            ("publish_article", "可以发布、撤回、定时发布和归档文章"),
        ]
        indexes = [
            # Every public list, newest first (published() + for_listing(), the API's default order):
            # walked in order, so a page reads its rows and never sorts the table.
            models.Index(fields=["status", "-published_at", "-id"], name="article_public_order"),
            # The API's sync feed (updated_since): ordered by the later of updated_at and published_at.
            models.Index("status", Greatest("updated_at", "published_at"), "id", name="article_sync_order"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Article, self.title, exclude_pk=self.pk, fallback="article")
        update_fields = kwargs.get("update_fields")
        if update_fields is None or set(self.DERIVED_FROM) & set(update_fields):
            self.derive_text()
            if update_fields is not None:
                kwargs["update_fields"] = update_fields = {*update_fields, "body_html", "body_text", "search_text"}
        if update_fields is None or "status" in update_fields:
            trash_fields = self._keep_trash_fields()
            if update_fields is not None and trash_fields:
                kwargs["update_fields"] = {*update_fields, *trash_fields}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:detail", kwargs={"slug": self.slug})

    def derive_text(self):
        """Sanitize the body into ``body_html``, its plain text into ``body_text``, and segment title, summary and
        text into ``search_text``. Done again only when one of ``DERIVED_FROM`` changed since this instance last
        did it: an import saves an article more than once, and sanitizing and segmenting are most of a save's
        time. (An instance read from the database derives again on its first save, so a new sanitizing policy
        reaches every article saved after a release; so does one whose derived fields were set by hand.)"""
        source = tuple(getattr(self, name) for name in self.DERIVED_FROM)
        if getattr(self, "_derived", None) == (source, self.body_html, self.body_text, self.search_text):
            return  # nor were the derived fields set by hand since
        self.body_html = clean_body_html(self.body)
        self.body_text = sanitized_html_to_text(self.body_html)
        self.search_text = segment(f"{self.title}\n{self.summary}\n{self.body_text}")
        self._derived = (source, self.body_html, self.body_text, self.search_text)

    def set_derived_text(self, text: dict):
        """Take ``DERIVED_FROM`` and ``DERIVED_FIELDS`` from ``text``, as another instance's ``derive_text()`` made
        them (an import's worker process): this instance's save does not derive them again."""
        for name in (*self.DERIVED_FROM, *self.DERIVED_FIELDS):
            setattr(self, name, text[name])
        self._derived = (tuple(text[name] for name in self.DERIVED_FROM), *(text[name] for name in self.DERIVED_FIELDS))

    def _keep_trash_fields(self) -> list[str]:
        """The trash fields describe the trash only: set while TRASHED (whoever set the status: the
        workflow, a restored revision or dump), blank otherwise. Returns the names it changed."""
        if self.status == self.Status.TRASHED:
            if self.trashed_at is None:
                self.trashed_at = timezone.now()
                return ["trashed_at"]
            return []
        changed = [name for name in ("trashed_at", "trashed_by", "status_before_trash")
                   if getattr(self, self._meta.get_field(name).attname) not in (None, "")]
        self.trashed_at, self.trashed_by, self.status_before_trash = None, None, ""
        return changed

    def unique_error_message(self, model_class, unique_check):
        """A slug held by an article in the trash says so: the editor cannot see it in the article list."""
        if model_class is Article and tuple(unique_check) == ("slug",):
            holder = Article.objects.filter(slug=self.slug, status=self.Status.TRASHED).exclude(pk=self.pk).first()
            if holder is not None:
                return ValidationError(
                    "回收站里的文章「%(title)s」占用了这个网址名：请先在回收站恢复或永久删除它，或换一个网址名。",
                    code="unique_in_trash", params={"title": holder.title},
                )
        return super().unique_error_message(model_class, unique_check)

    def is_published(self):
        return self.is_public(self.status, self.published_at)

    def is_trashed(self) -> bool:
        return self.status == self.Status.TRASHED

    @classmethod
    def is_public(cls, status, published_at) -> bool:
        """The Python twin of ``ArticleQuerySet.published()``, for values at hand (an instance, a stored row)."""
        return status == cls.Status.PUBLISHED and published_at is not None and published_at <= timezone.now()

    def content_checksum(self):
        """Fingerprint of the editable text, to tell whether an editor changed it after import."""
        parts = [self.title, self.summary, self.body]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def is_edited_since_import(self):
        return bool(self.import_checksum) and self.import_checksum != self.content_checksum()


class TrashedArticle(Article):
    """The articles in the trash, as the trash's admin lists them (the same rows: a proxy)."""

    class Meta:
        proxy = True
        verbose_name = "回收站中的文章"
        verbose_name_plural = "回收站"
        ordering = ["-trashed_at", "-pk"]


class ArticleAuthor(models.Model):
    class Role(models.TextChoices):
        REPORTER = "reporter", "记者"
        WRITER = "writer", "作者"
        PHOTOGRAPHER = "photographer", "摄影"
        EDITOR = "editor", "编辑"
        TRANSLATOR = "translator", "翻译"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="bylines")
    author = models.ForeignKey("articles.Author", verbose_name="作者", on_delete=models.PROTECT, related_name="bylines")
    role = models.CharField("角色", max_length=20, choices=Role.choices, default=Role.REPORTER)
    order = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "署名"
        verbose_name_plural = "署名"
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["article", "author", "role"], name="unique_article_author_role"),
        ]

    def __str__(self):
        return f"{self.author} ({self.get_role_display()})"


class ArticleImage(models.Model):
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="gallery")
    image = models.ForeignKey("articles.Image", verbose_name="图片", on_delete=models.CASCADE, related_name="placements")
    order = models.PositiveIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "图集图片"
        verbose_name_plural = "图集"
        ordering = ["order", "pk"]
        constraints = [models.UniqueConstraint(fields=["article", "image"], name="unique_article_image")]

    def __str__(self):
        return str(self.image)
