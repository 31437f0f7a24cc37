"""Admin for sources, authors, regions and images: the newsroom's catalogue (figures: ``figures.py``).

Sources, authors and regions get a "合并所选" action; the merging itself is ``articles.merge``.
Tags are taggit's own ``TagAdmin`` (with its merge action and its tagged-items inline), replaced
by ``TagAdmin`` below with the permissions taggit leaves out.
"""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.utils.html import format_html
from taggit import admin as taggit_admin
from taggit.models import Tag

from articles import workflow
from articles.admin.base import KeepRowsInUseMixin, NewsroomAdmin
from articles.images import ImageRejected, make_renditions, read_uploaded_image, replace_uploaded_image
from articles.merge import describe_relations, merge_authors, merge_regions, merge_sources
from articles.models import Article, Author, Image, Region, Source


@admin.action(permissions=["merge"], description="合并所选%(verbose_name_plural)s")
def merge_selected(modeladmin, request, queryset):
    """Like delete_selected: a confirmation page to choose the row to keep, then one merge call."""
    rows = list(queryset.order_by("pk"))
    if len(rows) < 2:
        modeladmin.message_user(request, "请至少选择两项再合并。", messages.WARNING)
        return None
    keep = next((row for row in rows if str(row.pk) == request.POST.get("keep")), None)
    if request.POST.get("post") and keep is not None:
        duplicates = [row for row in rows if row is not keep]
        try:
            result = modeladmin.merge_function(keep=keep, duplicates=duplicates)
        except ValueError as error:
            modeladmin.message_user(request, str(error), messages.ERROR)
            return None
        modeladmin.log_deletions(request, duplicates)
        modeladmin.log_change(request, keep, result.summary())
        modeladmin.message_user(request, result.summary(), messages.SUCCESS)
        return None
    opts = modeladmin.model._meta
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"合并{opts.verbose_name_plural}",
        "subtitle": None,
        "opts": opts,
        "rows": [(row, describe_relations(row)) for row in rows],
        "keep_missing": bool(request.POST.get("post")),
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/articles/merge_confirm.html", context)


class CatalogAdmin(NewsroomAdmin):
    """A catalogue model whose duplicates can be merged (``merge_function``) and whose JSON lists are searched."""

    actions = [merge_selected]
    merge_function = None
    json_search_fields: list[str] = []

    def has_merge_permission(self, request):
        # Django shows an action to users with ANY of its permissions; merging needs both.
        return self.has_change_permission(request) and self.has_delete_permission(request)

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if connection.vendor != "sqlite" or not search_term.strip() or search_term.isascii():
            return results, may_have_duplicates
        # SQLite stores JSON with \uXXXX escapes, so icontains on a list never finds Chinese
        # text: also match the term as it is stored (PostgreSQL's jsonb needs no help).
        escaped = json.dumps(search_term.strip())[1:-1]
        stored = Q(*[(f"{name}__icontains", escaped) for name in self.json_search_fields], _connector=Q.OR)
        return queryset.filter(Q(pk__in=results.values("pk")) | stored), may_have_duplicates


def _count(queryset, column):
    """Rows of ``queryset`` whose ``column`` is the outer row, as a subquery (no join fan-out)."""
    counted = queryset.filter(**{column: OuterRef("pk")}).order_by().values(column).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


@admin.register(Source)
class SourceAdmin(CatalogAdmin):
    list_display = ["name", "kind", "homepage", "published_count", "syndicated_count", "data_count"]
    list_filter = ["kind"]
    search_fields = ["name", "aliases", "domains"]
    json_search_fields = ["aliases", "domains"]
    merge_function = staticmethod(merge_sources)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                published_count=_count(Article.objects.all(), "publisher"),
                syndicated_count=_count(Article.objects.all(), "syndicator"),
                data_count=_count(Article.data_sources.through.objects.all(), "source"),
            )
        )

    @admin.display(description="原发文章", ordering="published_count")
    def published_count(self, obj):
        return obj.published_count

    @admin.display(description="转载文章", ordering="syndicated_count")
    def syndicated_count(self, obj):
        return obj.syndicated_count

    @admin.display(description="引用为数据来源", ordering="data_count")
    def data_count(self, obj):
        return obj.data_count


@admin.register(Author)
class AuthorAdmin(CatalogAdmin):
    list_display = ["name", "alias_list", "byline_count"]
    search_fields = ["name", "aliases"]
    json_search_fields = ["aliases"]
    merge_function = staticmethod(merge_authors)

    def get_queryset(self, request):
        # An aggregate drops Meta.ordering (Django >= 3.1): order explicitly for stable pagination.
        return super().get_queryset(request).annotate(byline_count=Count("bylines")).order_by("name")

    @admin.display(description="其他写法")
    def alias_list(self, obj):
        return "、".join(obj.aliases)

    @admin.display(description="署名数", ordering="byline_count")
    def byline_count(self, obj):
        return obj.byline_count


@admin.register(Region)
class RegionAdmin(CatalogAdmin):
    list_display = ["name", "short_name", "kind", "code", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["name", "short_name", "aliases"]
    autocomplete_fields = ["parent", "members"]
    json_search_fields = ["aliases"]
    merge_function = staticmethod(merge_regions)


class ImageForm(forms.ModelForm):
    class Meta:
        model = Image
        fields = ["file"]  # the admin adds the others (with NewsroomAdmin's field overrides)
        # A plain file field: clean_file's Pillow checks give the reason (SVG, HEIC, bomb...), not Django's
        # generic "not an image", and only the four accepted decoders ever see the upload.
        field_classes = {"file": forms.FileField}

    def clean_file(self):
        """A new file gets the gallery upload's checks (real picture, size and pixel limits), with its reason."""
        uploaded = self.cleaned_data.get("file")
        if isinstance(uploaded, UploadedFile):
            try:
                read_uploaded_image(uploaded)
            except ImageRejected as exc:
                raise forms.ValidationError(str(exc)) from exc
        return uploaded


@admin.register(Image)
class ImageAdmin(NewsroomAdmin):
    form = ImageForm
    list_display = ["__str__", "thumbnail", "width", "height", "credit", "fetch_status"]
    list_filter = ["fetch_status", "is_placeholder"]
    search_fields = ["caption", "credit", "remote_url"]

    def has_change_permission(self, request, obj=None):
        # A picture changes every article that shows it: a contributor's own drafts only (may_change_image).
        return super().has_change_permission(request, obj) and (obj is None or workflow.may_change_image(request.user, obj))

    def save_model(self, request, obj, form, change):
        """A file chosen here is stored as a gallery upload is: upright, without metadata, under its content
        hash (not the uploader's name), with new renditions. Clearing the file drops the renditions too."""
        uploaded = form.cleaned_data.get("file")
        if "file" in form.changed_data and isinstance(uploaded, UploadedFile):
            replace_uploaded_image(obj, uploaded)
            return
        super().save_model(request, obj, form, change)
        if "file" in form.changed_data and not obj.file and obj.renditions:
            make_renditions(obj)

    @admin.display(description="预览")
    def thumbnail(self, obj):
        if not obj.url:
            return "—"
        return format_html('<img src="{}" alt="" loading="lazy" class="desk-list-thumbnail">', obj.url)


class TaggedItemInline(taggit_admin.TaggedItemInline):
    """Which objects carry the tag. A row ties the tag to any article, published or not, around the
    article form and its workflow: only editors may add, change or delete rows; others see them."""

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and workflow.can_publish(request.user)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and workflow.can_publish(request.user)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and workflow.can_publish(request.user)


admin.site.unregister(Tag)


@admin.register(Tag)
class TagAdmin(KeepRowsInUseMixin, taggit_admin.TagAdmin):
    """taggit's tag admin with permissions: its merge action and merge page check none (any staff
    user could merge tags, and so change published articles), and its inline tags any object."""

    inlines = [TaggedItemInline]

    def has_merge_permission(self, request):
        # Merging rewrites every tagging of the tags and deletes them: both permissions, as for CatalogAdmin.
        return self.has_change_permission(request) and self.has_delete_permission(request)

    @admin.action(permissions=["merge"], description="合并所选标签")
    def render_tag_form(self, request, queryset):
        return super().render_tag_form(request, queryset)

    def merge_tags_view(self, request):
        if not self.has_merge_permission(request):
            raise PermissionDenied
        return super().merge_tags_view(request)
