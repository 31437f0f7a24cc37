"""The figure desk: editors verify, correct or reject extracted statistic figures; the indicator vocabulary.

Thin by design: every review step is a call into ``articles.figure_review`` (which records who
changed what, and when), whether it comes from a bulk action or the change form.
"""

import re

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from articles import figure_review
from articles.admin.base import NewsroomAdmin
from articles.admin.catalog import CatalogAdmin
from articles.extraction.figures import UNITS
from articles.models import Article, Indicator, StatisticFigure

CONTEXT_CHARS = 120  # body text shown on each side of the quote, within its paragraph


def quote_in_context(figure, text: str):
    """The figure's paragraph (cut to CONTEXT_CHARS around it) with the quote in <mark> and the number in <strong>."""
    start, end = figure.start_offset, figure.end_offset
    if text[start:end] != figure.quote:
        return format_html(
            '<p class="errornote">原句已不在正文的这个位置（正文改过）。原句：</p><p><mark>{}</mark></p>', figure.quote
        )
    para_start = text.rfind("\n", 0, start) + 1
    para_end = text.find("\n", end)
    para_end = len(text) if para_end < 0 else para_end
    left, right = max(para_start, start - CONTEXT_CHARS), min(para_end, end + CONTEXT_CHARS)
    before = ("…" if left > para_start else "") + text[left:start]
    after = text[end:right] + ("…" if right < para_end else "")
    head, number, tail = figure.quote.partition(figure.value_text)
    if not number:
        head, tail = figure.quote, ""
    return format_html(
        '<div class="desk-quote">{}<mark>{}<strong>{}</strong>{}</mark>{}</div>',
        before, head, number, tail, after,
    )


class ArticlePublicationFilter(admin.SimpleListFilter):
    title = "文章发布情况"
    parameter_name = "article_publication"

    def lookups(self, request, model_admin):
        return [("live", "已公开"), ("hidden", "未公开（草稿、待审、定时、归档）")]

    def queryset(self, request, queryset):
        live = Article.objects.published().values("pk")
        if self.value() == "live":
            return queryset.filter(article__in=live)
        if self.value() == "hidden":
            return queryset.exclude(article__in=live)
        return queryset


class UnitFilter(admin.SimpleListFilter):
    title = "单位"
    parameter_name = "unit"

    def lookups(self, request, model_admin):
        used = StatisticFigure.objects.order_by("unit").values_list("unit", flat=True).distinct()
        return [(unit, UNITS.get(unit, unit) if unit else "（无）") for unit in used]

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(unit=self.value())


class StatisticFigureForm(forms.ModelForm):
    unit = forms.ChoiceField(label="单位", required=False)

    class Meta:
        model = StatisticFigure
        fields = ["article", "quote", "start_offset", "end_offset", "value_text", *figure_review.CORRECTABLE_FIELDS,
                  "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *UNITS.items()]
        current = self.instance.unit
        if current and current not in UNITS:  # a unit from before the vocabulary: keep it selectable
            choices.append((current, current))
        self.fields["unit"].choices = choices
        for name in ("value", "value_end"):  # 7400000000000, not 7400000000000.000000
            stored = getattr(self.instance, name)
            if stored is not None and name in self.fields:
                self.initial[name] = format(stored.normalize(), "f")


@admin.register(StatisticFigure)
class StatisticFigureAdmin(NewsroomAdmin):
    form = StatisticFigureForm
    list_display = ["indicator", "value_text", "unit", "period", "region", "standard", "status", "quote_short",
                    "article_link"]
    list_display_links = ["indicator", "value_text"]
    list_filter = [
        "status",
        UnitFilter,
        "direction",
        ("region", admin.RelatedOnlyFieldListFilter),
        ("standard", admin.RelatedOnlyFieldListFilter),
        ArticlePublicationFilter,
        "corrected",
    ]
    list_select_related = ["region", "standard", "article"]
    list_per_page = 100
    search_fields = ["indicator", "quote", "value_text", "period", "standard__name", "article__title"]
    autocomplete_fields = ["article", "region", "source", "standard"]
    actions = ["verify_selected", "reject_selected", "reopen_selected"]
    readonly_fields = ["article_link", "quote_context", "value_text", "magnitude", "corrected", "reviewed_by", "reviewed_at",
                       "change_history"]
    fieldsets = [
        ("原文", {"fields": ["article_link", "quote_context", "value_text"]}),
        ("数字", {"fields": ["value", "value_end", "unit", "magnitude", "direction", "is_approximate"]}),
        ("归类", {"fields": ["indicator", "standard", "period", "region", "source"]}),
        ("核实", {"fields": ["status", "corrected", "reviewed_by", "reviewed_at", "change_history"]}),
    ]
    add_fieldsets = [
        ("原文", {"fields": ["article", "quote", "start_offset", "end_offset", "value_text"],
                  "description": "手工补录抽取漏掉的数字：原句须与纯文本正文中的位置一致。"}),
        *fieldsets[1:3],
        ("核实", {"fields": ["status"]}),
    ]

    def get_queryset(self, request):
        # A trashed article's figures wait in the trash with it (restoring it brings them back to the desk).
        # The list shows the article's title only: its texts stay on disk (the change form loads body_text).
        return super().get_queryset(request).exclude(article__status=Article.Status.TRASHED).defer(
            "article__body", "article__body_html", "article__body_text", "article__search_text",
            "article__raw_source", "article__page_document",
        )

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    # --- permissions: reviewing is an editor's job (figure_review.can_review) ----------------------------------

    def has_add_permission(self, request):
        return super().has_add_permission(request) and figure_review.can_review(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and figure_review.can_review(request.user)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and figure_review.can_review(request.user)

    def has_review_permission(self, request):
        return figure_review.can_review(request.user)

    # --- columns ---------------------------------------------------------------------------------------------

    @admin.display(description="文章", ordering="article")
    def article_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:articles_article_change", args=[obj.article_id]),
                           obj.article.title)

    @admin.display(description="原句")
    def quote_short(self, obj):
        head, number, tail = obj.quote.partition(obj.value_text)
        return format_html("{}<strong>{}</strong>{}", head, number, tail) if number else obj.quote

    @admin.display(description="原句（在正文中）")
    def quote_context(self, obj):
        return quote_in_context(obj, obj.article.body_text)

    @admin.display(description="核实记录")
    def change_history(self, obj):
        rows = list(obj.changes.select_related("user"))
        if not rows:
            return "—"
        labels = {f.name: f.verbose_name for f in StatisticFigure._meta.fields}
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} · {} · {}{}</li>",
                (
                    (
                        timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M"),
                        row.user or "系统（重新抽取）",
                        row.get_action_display(),
                        format_html_join("", "；{}：{} → {}", (
                            (labels.get(name, name), _shown(name, old), _shown(name, new))
                            for name, (old, new) in row.changes.items()
                        )),
                    )
                    for row in rows
                ),
            ),
        )

    # --- saving: the same record as the bulk actions ----------------------------------------------------------

    def save_model(self, request, obj, form, change):
        if not change:
            figure_review.record_addition(obj, user=request.user)
            return
        stored = StatisticFigure.objects.get(pk=obj.pk)  # the form has already changed obj
        corrections = {
            name: form.cleaned_data[name] for name in form.changed_data if name in figure_review.CORRECTABLE_FIELDS
        }
        status = form.cleaned_data["status"] if "status" in form.changed_data else None
        figure_review.review(stored, user=request.user, status=status, **corrections)

    # --- actions ---------------------------------------------------------------------------------------------

    def _report(self, request, changed, verb, queryset):
        skipped = queryset.count() - len(changed)
        text = f"{verb} {len(changed)} 个数字。" + (f"{skipped} 个本来就是这个状态，未改变。" if skipped else "")
        self.message_user(request, text, messages.SUCCESS if changed else messages.WARNING)

    @admin.action(description="核实所选数字（公开显示）", permissions=["review"])
    def verify_selected(self, request, queryset):
        self._report(request, figure_review.verify(queryset, user=request.user), "已核实", queryset)

    @admin.action(description="否决所选数字", permissions=["review"])
    def reject_selected(self, request, queryset):
        self._report(request, figure_review.reject(queryset, user=request.user), "已否决", queryset)

    @admin.action(description="退回待核实", permissions=["review"])
    def reopen_selected(self, request, queryset):
        self._report(request, figure_review.reopen(queryset, user=request.user), "已退回", queryset)


def _shown(name, value):
    """A value as FigureChange.changes keeps it, for the history: choices by their label."""
    if value in (None, ""):
        return "—"
    choices = {"status": StatisticFigure.Status, "direction": StatisticFigure.Direction}.get(name)
    if choices is not None and value in choices.values:
        return choices(value).label
    if name == "unit":
        return UNITS.get(value, value)
    return value


class IndicatorForm(forms.ModelForm):
    alias_text = forms.CharField(
        label="别名", required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="文章里的其他叫法，用顿号、逗号或换行分隔，如：GDP、生产总值、经济总量",
    )

    class Meta:
        model = Indicator
        fields = ["name", "slug", "unit", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:  # read-only for those who may only view the vocabulary
            self.fields["slug"].required = False
        self.initial.setdefault("alias_text", "、".join(self.instance.aliases or []))

    def clean_alias_text(self):
        names = re.split(r"[、,，;；\n]+", self.cleaned_data["alias_text"])
        aliases = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        others = Indicator.objects.exclude(pk=self.instance.pk)
        for alias in aliases:
            owner = others.matching(alias)
            if owner is not None:
                raise forms.ValidationError(f"「{alias}」已是指标「{owner}」的名称或别名。")
        return aliases

    def save(self, commit=True):
        self.instance.aliases = self.cleaned_data["alias_text"]
        return super().save(commit)


@admin.register(Indicator)
class IndicatorAdmin(CatalogAdmin):
    form = IndicatorForm
    actions = []  # no merge yet: give one entry the other's names as aliases, then move its figures
    list_display = ["name", "alias_list", "unit", "figure_count"]
    search_fields = ["name", "aliases", "description"]
    json_search_fields = ["aliases"]
    fields = ["name", "alias_text", "unit", "description", "slug"]

    def get_queryset(self, request):
        counted = Count("figures", filter=~Q(figures__status=StatisticFigure.Status.REJECTED))
        return super().get_queryset(request).annotate(figure_total=counted).order_by("name")

    @admin.display(description="别名")
    def alias_list(self, obj):
        return "、".join(obj.aliases or [])

    @admin.display(description="数字（不含已否决）", ordering="figure_total")
    def figure_count(self, obj):
        url = reverse("admin:articles_statisticfigure_changelist") + f"?standard__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.figure_total)
