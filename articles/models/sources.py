"""Source: who published, syndicated or produced the data behind an article."""

from urllib.parse import urlsplit

from django.db import models
from django.urls import reverse

from articles.sanitize import clean_text
from articles.slugs import unique_slug


class SourceQuerySet(models.QuerySet):
    def for_url(self, url, *, among=None):
        """The source whose known domains cover ``url``'s host (longest match), or None. ``among``: the sources with
        domains, when the caller has read them (``with_domains()``)."""
        host = (urlsplit(url or "").hostname or "").lower()
        if not host:
            return None
        best, best_len = None, 0
        for source in self.with_domains() if among is None else among:
            for domain in source.domains:
                domain = domain.lower().lstrip(".")
                if (host == domain or host.endswith("." + domain)) and len(domain) > best_len:
                    best, best_len = source, len(domain)
        return best

    def with_domains(self):
        return self.exclude(domains=[])


class Source(models.Model):
    class Kind(models.TextChoices):
        PUBLISHER = "publisher", "原发媒体"
        SYNDICATOR = "syndicator", "转载平台"
        DATA = "data", "数据来源"

    name = models.CharField("名称", max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    homepage = models.URLField("主页", max_length=500, blank=True)
    domains = models.JSONField(
        "域名", default=list, blank=True, help_text="该来源使用的域名，如 peopleapp.com；用于从原文链接识别媒体。"
    )
    aliases = models.JSONField("别名", default=list, blank=True, help_text="其他写法，如 本报 之外的简称。")
    producer = models.CharField("数据生产方", max_length=200, blank=True, help_text="数据来源的发布机构（如有不同）。")
    url = models.URLField("数据网址", max_length=500, blank=True)
    accessed_date = models.DateField("访问日期", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        verbose_name = "来源"
        verbose_name_plural = "来源"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Pages, the JSON-LD and the API link to these, so whoever writes a Source (a form, an importer, a restored
        # dump, the shell) stores only what the fields' URLValidator accepts: never javascript: or data:.
        saved = kwargs.get("update_fields")
        checked = {"homepage", "url"} if saved is None else {"homepage", "url"} & set(saved)
        if checked:
            self.clean_fields(exclude=[field.name for field in self._meta.fields if field.name not in checked])
        if not self.slug:
            self.slug = unique_slug(Source, self.name, exclude_pk=self.pk, fallback="source")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:source", kwargs={"slug": self.slug})

    @staticmethod
    def clean_name(name) -> str:
        """A credited name as a source's name: plain text, without 《》, at most 200 characters ("" for none)."""
        return clean_text(name).strip("《》 ")[:200]
