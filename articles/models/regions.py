"""Region: a node in China's administrative hierarchy, or a named multi-region area."""

from django.db import models
from django.urls import reverse

from articles.slugs import unique_slug


class RegionQuerySet(models.QuerySet):
    def with_descendants(self, region):
        """The region and every region below it (province -> cities -> counties)."""
        ids, frontier = {region.pk}, [region.pk]
        while frontier:
            frontier = list(self.model.objects.filter(parent_id__in=frontier).values_list("pk", flat=True))
            ids.update(frontier)
        return self.filter(pk__in=ids)

    def in_scope_of(self, region):
        """The regions whose articles count for ``region``: itself and those below it, and for
        an area (成渝地区双城经济圈) also its member regions and those below them.

        One rule for the region page, the region feed and the sitemap.
        """
        ids = set(self.with_descendants(region).values_list("pk", flat=True))
        for member in region.members.all():
            ids.update(self.with_descendants(member).values_list("pk", flat=True))
        return self.filter(pk__in=ids)


class Region(models.Model):
    class Kind(models.TextChoices):
        COUNTRY = "country", "国家"
        PROVINCE = "province", "省级"
        CITY = "city", "地级"
        COUNTY = "county", "县级"
        AREA = "area", "区域（跨行政区）"

    name = models.CharField("名称", max_length=100, unique=True, help_text="全称，如 重庆市、成渝地区双城经济圈")
    short_name = models.CharField("简称", max_length=50, blank=True, help_text="常用名，如 重庆")
    slug = models.SlugField(max_length=100, unique=True, blank=True)
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    code = models.CharField("行政区划代码", max_length=12, blank=True)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    aliases = models.JSONField(
        "别名", default=list, blank=True, help_text="其他写法，如 渝、巴渝。单字简称只用于显示，不用于自动识别。"
    )
    members = models.ManyToManyField(
        "self", verbose_name="包含地区", symmetrical=False, blank=True, related_name="areas",
        help_text="跨行政区的区域（如成渝地区双城经济圈）包含的省市。",
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = "地区"
        verbose_name_plural = "地区"
        ordering = ["code", "name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Region, self.short_name or self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:region", kwargs={"slug": self.slug})

    def match_names(self):
        """Names that identify this region in running text (two characters or more)."""
        names = [self.name, self.short_name, *self.aliases]
        return sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True)
