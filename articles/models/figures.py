"""StatisticFigure: one number from an article's text, typed, sourced and verifiable.

Extraction fills these as candidates (its own issue); editors verify or reject them.
"""

from django.db import models


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
