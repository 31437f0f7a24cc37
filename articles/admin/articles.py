"""The article desk: list, form, inlines and workflow actions; and the trash (回收站).

Thin by design: rules live in ``articles.workflow``, revisions in ``articles.revisions``,
the gallery in ``articles.gallery``; this module wires them into the Django admin.

Deleting an article here (its delete page, or "移入回收站" on the list) moves it to the trash
(``workflow.trash``); the article list never shows trashed articles. ``TrashAdmin`` lists them,
restores them (``workflow.restore``) and, for superusers only, deletes them for good.
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.db import transaction
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from taggit.models import Tag

from articles import page_document, workflow
from articles.admin.article_form import ArticleAdminForm
from articles.admin.base import NewsroomAdmin
from articles.admin.gallery import GalleryInline
from articles.admin.revisions import RevisionAdminMixin
from articles.models import Article, ArticleAuthor, StatisticFigure, TrashedArticle
from articles.revisions import record_revision

TRASH_CONFIRMATION_TEMPLATE = "admin/articles/article/trash_confirmation.html"


class ArticleAuthorInline(admin.TabularInline):
    model = ArticleAuthor
    fields = ["author", "role", "order"]
    autocomplete_fields = ["author"]
    extra = 0


class StatisticFigureInline(admin.TabularInline):
    """The article's figures, read-only: editors review and correct them at the figure desk, where
    every change is recorded (``articles.figure_review``)."""

    model = StatisticFigure
    fields = ["status", "indicator", "value_text", "unit", "period", "region", "standard", "desk_link"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("region", "standard")  # no query per row

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="核实")
    def desk_link(self, obj):
        return format_html('<a href="{}">核实或更正</a>', reverse("admin:articles_statisticfigure_change", args=[obj.pk]))


class StatusFilter(admin.SimpleListFilter):
    """The status filter without 回收站: trashed articles are listed by the trash, not here. The parameter
    is the one Django's own status filter used (the dashboard links to ``?status__exact=review``)."""

    title = "状态"
    parameter_name = "status__exact"

    def lookups(self, request, model_admin):
        return [(value, label) for value, label in Article.Status.choices if value != Article.Status.TRASHED]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class PublicationFilter(admin.SimpleListFilter):
    title = "发布情况"
    parameter_name = "publication"

    def lookups(self, request, model_admin):
        return [("live", "已公开"), ("scheduled", "定时发布（尚未公开）"), ("hidden", "未公开")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(pk__in=Article.objects.published().values("pk"))
        if self.value() == "scheduled":
            return queryset.filter(status=Article.Status.PUBLISHED, published_at__gt=now)
        if self.value() == "hidden":
            return queryset.exclude(pk__in=Article.objects.published().values("pk"))
        return queryset


class TagFilter(admin.SimpleListFilter):
    title = "标签"
    parameter_name = "tag"

    def lookups(self, request, model_admin):
        used = Tag.objects.filter(taggit_taggeditem_items__content_type__model="article").distinct().order_by("name")
        return [(tag.slug, tag.name) for tag in used]

    def queryset(self, request, queryset):
        return queryset.filter(tags__slug=self.value()) if self.value() else queryset


@admin.register(Article)
class ArticleAdmin(RevisionAdminMixin, NewsroomAdmin):
    form = ArticleAdminForm
    list_display = ["title", "status", "published_at", "region_list", "publisher", "image_count", "figure_count",
                    "updated_by"]
    list_filter = [
        StatusFilter,
        PublicationFilter,
        ("regions", admin.RelatedOnlyFieldListFilter),
        ("publisher", admin.RelatedOnlyFieldListFilter),
        ("syndicator", admin.RelatedOnlyFieldListFilter),
        ("data_sources", admin.RelatedOnlyFieldListFilter),
        ("authors", admin.RelatedOnlyFieldListFilter),
        TagFilter,
        "published_at",
    ]
    list_select_related = ["publisher", "updated_by"]
    list_per_page = 50
    search_fields = ["title", "summary", "body_text"]
    date_hierarchy = "published_at"
    autocomplete_fields = ["publisher", "syndicator", "data_sources", "regions"]
    readonly_fields = [
        "preview_link", "lead_image_preview", "quality_warning_list", "raw_source_display", "source_filename",
        "source_encoding", "source_key", "imported_at", "created_by", "created_at", "updated_by", "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "body", "expected_version"]}),
        ("发布", {"fields": ["status", "published_at", "language", "preview_link"]}),
        ("图片", {"fields": ["lead_image_preview", "new_images"]}),
        ("来源与分类", {"fields": ["original_url", "publisher", "syndicator", "data_sources", "regions",
                                   "tag_choices", "new_tags", "categories"]}),
        ("导入记录", {"classes": ["collapse"], "fields": [
            "quality_warning_list", "raw_source_display", "source_filename", "source_encoding", "source_key",
            "imported_at", "created_by", "created_at", "updated_by", "updated_at"]}),
    ]
    inlines = [ArticleAuthorInline, GalleryInline, StatisticFigureInline]
    actions = ["publish_selected", "unpublish_selected", "archive_selected", "submit_selected", "reextract_credits",
               "extract_figures_selected", "trash_selected"]
    delete_confirmation_template = TRASH_CONFIRMATION_TEMPLATE

    # --- queries -------------------------------------------------------------------------------------------

    def get_queryset(self, request):
        return (
            super().get_queryset(request)
            .exclude(status=Article.Status.TRASHED)  # the trash lists them (TrashAdmin)
            .annotate(image_total=Count("gallery", distinct=True), figure_total=Count("figures", distinct=True))
            .prefetch_related("regions")
            .order_by(*Article._meta.ordering)  # an aggregate drops Meta.ordering; keep pagination stable
        )

    # --- columns -------------------------------------------------------------------------------------------

    @admin.display(description="地区")
    def region_list(self, obj):
        return "、".join(region.short_name or region.name for region in obj.regions.all())

    @admin.display(description="图片", ordering="image_total")
    def image_count(self, obj):
        return obj.image_total

    @admin.display(description="数字", ordering="figure_total")
    def figure_count(self, obj):
        if not obj.figure_total:
            return 0
        url = reverse("admin:articles_statisticfigure_changelist") + f"?article__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.figure_total)

    @admin.display(description="预览")
    def preview_link(self, obj):
        if not obj.pk:
            return "保存后可预览"
        from articles.preview import max_age, signed_preview_url

        return format_html(
            '<a href="{}" target="_blank">按公开页面样式预览</a>　·　分享链接（{}天内有效）：'
            '<input readonly size="60" value="{}">',
            reverse("articles:preview", args=[obj.pk]), max_age() // 86400, signed_preview_url(obj),
        )

    @admin.display(description="题图")
    def lead_image_preview(self, obj):
        if not obj.lead_image_id:
            return "—（在下方图集里勾选「题图」）"
        return format_html('<img src="{}" alt="" class="desk-lead-preview">', obj.lead_image.url)

    @admin.display(description="质量提示")
    def quality_warning_list(self, obj):
        return format_html_join("", "<li>{}</li>", ((w,) for w in obj.quality_warnings)) or "—"

    @admin.display(description="原始文件（只读）")
    def raw_source_display(self, obj):
        return format_html('<pre class="desk-raw-source">{}</pre>', obj.raw_source)

    # --- permissions and form -----------------------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (obj is None or workflow.can_edit(request.user, obj))

    def has_publish_permission(self, request):
        return workflow.can_publish(request.user)

    def has_delete_permission(self, request, obj=None):
        # "Deleting" moves to the trash (delete_model below): workflow.can_trash decides.
        return super().has_delete_permission(request, obj) and workflow.can_trash(request.user, obj)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        # A new class per request: the admin instance is shared, so nothing request-specific goes on self.
        return type(form.__name__, (form,), {"current_user": request.user, "admin_site": self.admin_site})

    def view_on_site(self, obj):
        return reverse("articles:preview", args=[obj.pk])

    def changeform_view(self, request, *args, **kwargs):
        # The article's page document is built once, when the article and all its inlines are saved.
        with transaction.atomic(), page_document.deferred_refresh():
            return super().changeform_view(request, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        obj.updated_by = request.user
        obj.version += 1
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        article = form.instance
        article.tags.set(form.tag_names(), clear=True)
        from articles.gallery import add_images

        _, errors = add_images(article, form.cleaned_data.get("new_images") or [], user=request.user)
        for error in errors:
            self.message_user(request, error, messages.WARNING)
        record_revision(article, user=request.user, message="新建" if not change else "修改")

    # --- deleting: to the trash -------------------------------------------------------------------------------
    # Django's delete page stays (its permission checks, its confirmation), but what it does is
    # workflow.trash(): nothing is deleted, so nothing related is listed or needs a permission.

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # trash_selected takes its place
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        return super().delete_view(request, object_id, {"title": "移入回收站", **(extra_context or {})})

    def get_deleted_objects(self, objs, request):
        rows = [format_html('<a href="{}">{}</a>', reverse("admin:articles_article_change", args=[obj.pk]), obj)
                for obj in objs]
        return rows, {Article._meta.verbose_name_plural: len(rows)}, set(), []

    def log_deletions(self, request, queryset):
        pass  # delete_model/delete_queryset log the move to the trash as a change

    def delete_model(self, request, obj):
        self._trash(request, Article.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        self._trash(request, queryset)

    def _trash(self, request, queryset):
        changed = workflow.trash(queryset, user=request.user)
        for article in changed:
            self.log_change(request, article, "移入回收站")
        return changed

    def response_delete(self, request, obj_display, obj_id):
        self.message_user(
            request, f"已将文章「{obj_display}」移入回收站：它已从网站撤下，可在回收站恢复（连同版本历史、图集和统计数字）。",
            messages.SUCCESS,
        )
        url = reverse("admin:articles_article_changelist", current_app=self.admin_site.name)
        preserved = {"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}
        return HttpResponseRedirect(add_preserved_filters(preserved, url))

    @admin.action(description="移入回收站（可恢复）", permissions=["delete"])
    def trash_selected(self, request, queryset):
        """Like delete_selected: a confirmation page, then workflow.trash()."""
        selected = list(queryset.order_by("pk"))
        if request.POST.get("post"):
            changed = self._trash(request, queryset)
            text = f"已将 {len(changed)} 篇文章移入回收站：它们已从网站撤下，可在回收站恢复。"
            if len(selected) > len(changed):
                text += f"{len(selected) - len(changed)} 篇无权操作，未改变。"
            self.message_user(request, text, messages.SUCCESS if changed else messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "移入回收站",
            "subtitle": None,
            "opts": self.opts,
            "articles": selected,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, TRASH_CONFIRMATION_TEMPLATE, context)

    # --- actions -------------------------------------------------------------------------------------------

    def _report(self, request, changed, verb, selected):
        skipped = selected - len(changed)
        text = f"{verb} {len(changed)} 篇文章。"
        if skipped:
            text += f"{skipped} 篇状态不符或无权操作，未改变。"
        self.message_user(request, text, messages.SUCCESS if changed else messages.WARNING)

    @admin.action(description="发布所选文章（未来时间则定时发布）", permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._report(request, workflow.publish(queryset, user=request.user), "已发布", queryset.count())

    @admin.action(description="撤回所选文章（改回草稿）", permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._report(request, workflow.unpublish(queryset, user=request.user), "已撤回", queryset.count())

    @admin.action(description="归档所选文章", permissions=["publish"])
    def archive_selected(self, request, queryset):
        self._report(request, workflow.archive(queryset, user=request.user), "已归档", queryset.count())

    @admin.action(description="提交审核", permissions=["change"])
    def submit_selected(self, request, queryset):
        self._report(request, workflow.submit_for_review(queryset, user=request.user), "已提交审核",
                     queryset.count())

    @admin.action(description="重新提取署名与来源", permissions=["change"])
    def reextract_credits(self, request, queryset):
        from articles.importer.attribution import reextract_credits

        editable = [a for a in queryset if workflow.can_edit(request.user, a)]
        changed = [a for a in editable if reextract_credits(a)]
        for article in changed:
            record_revision(article, user=request.user, message="重新提取署名与来源")
        self._report(request, changed, "重新提取并更新了", queryset.count())

    @admin.action(description="抽取统计数字", permissions=["change"])
    def extract_figures_selected(self, request, queryset):
        """Queue one extraction per article the user may edit (articles/tasks.py): many articles
        take longer than a request should; the worker does them and the desk shows the candidates."""
        from articles.tasks import enqueue_figure_extraction

        editable = [a.pk for a in queryset if workflow.can_edit(request.user, a)]
        queued = enqueue_figure_extraction(editable)
        text = f"已将 {queued} 篇文章的统计数字抽取加入后台队列，完成后新数字会出现在待核实列表中。"
        skipped = queryset.count() - queued
        if skipped:
            text += f"{skipped} 篇无权操作，未抽取。"
        self.message_user(request, text, messages.SUCCESS if queued else messages.WARNING)


# --- the trash ----------------------------------------------------------------------------------------------------


@admin.register(TrashedArticle)
class TrashAdmin(NewsroomAdmin):
    """回收站: the trashed articles, read-only. "恢复" brings them back (``workflow.restore``); superusers may
    delete them for good (Django's delete page and action, doing ``workflow.purge``)."""

    list_display = ["title", "status_before_trash", "trashed_at", "trashed_by", "published_at", "preview_link"]
    list_select_related = ["trashed_by"]
    list_filter = ["status_before_trash", "trashed_at"]
    search_fields = ["title", "summary", "body_text"]
    fields = ["title", "slug", "status_before_trash", "trashed_at", "trashed_by", "published_at", "summary",
              "preview_link"]
    readonly_fields = fields
    list_per_page = 50
    actions = ["restore_selected", "restore_as_draft_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Article.Status.TRASHED)

    # Whoever may move articles to the trash sees it and restores from it; only superusers purge.
    def has_view_permission(self, request, obj=None):
        return workflow.can_trash(request.user)

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_restore_permission(self, request):
        return workflow.can_trash(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return workflow.can_purge(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:  # Django's action and confirmation page, under a name that says what it does
            actions["delete_selected"] = (delete_selected, "delete_selected", "永久删除所选文章（不可恢复）")
        return actions

    def get_deleted_objects(self, objs, request):
        # Purging deletes the article with its bylines, gallery placements, figures and revisions: listed
        # as Django lists them, not refused as a catalogue row in use would be (KeepRowsInUseMixin).
        return admin.ModelAdmin.get_deleted_objects(self, objs, request)

    def delete_model(self, request, obj):
        workflow.purge(Article.objects.filter(pk=obj.pk), user=request.user)

    def delete_queryset(self, request, queryset):
        workflow.purge(queryset, user=request.user)

    @admin.display(description="预览")
    def preview_link(self, obj):
        return format_html('<a href="{}" target="_blank">查看内容</a>', reverse("articles:preview", args=[obj.pk]))

    def _restore(self, request, queryset, *, as_draft):
        selected = queryset.count()
        restored = workflow.restore(queryset, user=request.user, as_draft=as_draft)
        for article in restored:
            self.log_change(request, article, f"从回收站恢复为「{article.get_status_display()}」")
        text = f"已恢复 {len(restored)} 篇文章（连同署名、图集、统计数字和版本历史）"
        text += "，都是草稿。" if as_draft else "，回到删除前的状态；已发布的文章重新公开。"
        if selected > len(restored):
            text += f"{selected - len(restored)} 篇无权操作，未恢复。"
        self.message_user(request, text, messages.SUCCESS if restored else messages.WARNING)

    @admin.action(description="恢复所选文章（回到删除前的状态）", permissions=["restore"])
    def restore_selected(self, request, queryset):
        self._restore(request, queryset, as_draft=False)

    @admin.action(description="恢复所选文章为草稿", permissions=["restore"])
    def restore_as_draft_selected(self, request, queryset):
        self._restore(request, queryset, as_draft=True)
