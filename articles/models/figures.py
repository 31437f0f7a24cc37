"""StatisticFigure: one number from an article's text, typed, sourced and verifiable.

Extraction (``articles.extraction.figures``) fills these as candidates; editors verify, correct
or reject them, and every such change is kept as a ``FigureChange`` (who, when, what). The
``Indicator`` vocabulary, kept by editors, lines up figures from different articles
(地区生产总值 / GDP / 生产总值).
"""

from django.conf import settings
from django.db import models

from articles.slugs import unique_slug


class IndicatorQuerySet(models.QuerySet):
    def matching(self, phrase: str):
        """The entry whose name or one of whose aliases is ``phrase`` (case and spaces ignored), or None."""
        key = _indicator_key(phrase)
        if not key:
            return None
        for indicator in self.all():
            if key in indicator.keys():
                return indicator
        return None


def _indicator_key(text: str) -> str:
    return "".join((text or "").split()).casefold()


class Indicator(models.Model):
    """An entry of the indicator vocabulary: one measure, under every name articles give it."""

    name = models.CharField("名称", max_length=100, unique=True, help_text="规范名称，如 地区生产总值")
    slug = models.SlugField(max_length=120, unique=True, blank=True)
    aliases = models.JSONField("别名", default=list, blank=True, help_text="文章里的其他叫法，如 GDP、生产总值")
    unit = models.CharField("常用单位", max_length=30, blank=True, help_text="规范单位，如 yuan、percent")
    description = models.TextField("说明", blank=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        verbose_name = "指标"
        verbose_name_plural = "指标词表"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(Indicator, self.name, exclude_pk=self.pk, fallback="indicator")
        super().save(*args, **kwargs)

    def keys(self) -> set[str]:
        return {_indicator_key(name) for name in [self.name, *(self.aliases or [])] if _indicator_key(name)}


class StatisticFigure(models.Model):
    class Direction(models.TextChoices):
        INCREASE = "increase", "增长"
        DECREASE = "decrease", "下降"
        LEVEL = "level", "水平/总量"

    class Status(models.TextChoices):
        CANDIDATE = "candidate", "待核实"
        VERIFIED = "verified", "已核实"
        REJECTED = "rejected", "已否决"

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="figures")
    indicator = models.CharField("指标", max_length=200, blank=True)
    value = models.DecimalField("数值", max_digits=30, decimal_places=6, help_text="已乘以数量级（万、亿…）")
    value_end = models.DecimalField(
        "终值", max_digits=30, decimal_places=6, null=True, blank=True, help_text="区间或“从 X 到 Y”的另一端"
    )
    value_text = models.CharField("原文数字", max_length=100, help_text="原文写法，如 7.4 万亿元")
    unit = models.CharField("单位", max_length=30, blank=True, help_text="规范单位，如 percent、yuan、mu")
    magnitude = models.DecimalField("数量级", max_digits=30, decimal_places=0, default=1)
    direction = models.CharField("方向", max_length=10, choices=Direction.choices, default=Direction.LEVEL)
    is_approximate = models.BooleanField("约数", default=False)
    period = models.CharField("时期", max_length=50, blank=True, help_text="如 2021、2021Q1、2021-01/2021-07")
    region = models.ForeignKey(
        "articles.Region", verbose_name="地区", null=True, blank=True, on_delete=models.SET_NULL, related_name="figures"
    )
    source = models.ForeignKey(
        "articles.Source", verbose_name="数据来源", null=True, blank=True, on_delete=models.SET_NULL, related_name="figures"
    )
    quote = models.TextField("原句")
    start_offset = models.PositiveIntegerField("起始位置", help_text="在纯文本正文中的字符位置")
    end_offset = models.PositiveIntegerField("结束位置")
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.CANDIDATE, db_index=True)
    standard = models.ForeignKey(
        Indicator, verbose_name="标准指标", null=True, blank=True, on_delete=models.SET_NULL, related_name="figures",
        help_text="词表中的指标，让不同文章的数字可以对齐比较",
    )
    corrected = models.BooleanField("经编辑更正", default=False, help_text="编辑改过抽取结果；重新抽取不会覆盖")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="核实人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    reviewed_at = models.DateTimeField("核实时间", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "统计数字"
        verbose_name_plural = "统计数字"
        ordering = ["article", "start_offset", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_offset__lte=models.F("end_offset")), name="figure_offsets_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.indicator or '?'}: {self.value_text}"


class FigureChange(models.Model):
    """One editorial step on a figure: who did what, when, and which fields changed ([old, new])."""

    class Action(models.TextChoices):
        VERIFIED = "verified", "核实"
        CORRECTED = "corrected", "更正"
        REJECTED = "rejected", "否决"
        REOPENED = "reopened", "退回待核实"
        EDITED = "edited", "修改"

    figure = models.ForeignKey(StatisticFigure, on_delete=models.CASCADE, related_name="changes")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    changes = models.JSONField("改动", default=dict, blank=True, help_text="{字段: [原值, 新值]}")

    class Meta:
        verbose_name = "数字核实记录"
        verbose_name_plural = "数字核实记录"
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.get_action_display()} {self.figure_id}"
