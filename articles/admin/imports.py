"""Import records, and importing from the admin: the add view is an upload form.

The work is ``import_uploaded_files()``; this module only checks permissions, shows the form
and the record. A record is read-only: it is what the import printed.
"""

import zipfile
from pathlib import Path

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from articles.admin.base import NewsroomAdmin
from articles.importer.run import EXPORT_SUFFIXES
from articles.importer.uploads import ACCEPT, import_uploaded_files
from articles.models import ImportRun


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A FileField whose cleaned value is a list of every file chosen (Django docs' recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        clean_one = super().clean
        if isinstance(data, list | tuple) and data:
            return [clean_one(item, initial) for item in data]
        return [clean_one(data or None, initial)]  # no file: "required"


class ImportUploadForm(forms.Form):
    files = MultipleFileField(
        label="文件", help_text="可多选：Markdown（.md、.markdown、.txt）、export_articles 导出的 .ndjson，或包含这些文件的 .zip"
    )
    publish = forms.BooleanField(
        label="发布", required=False,
        help_text="有日期且没有质量提示的新文章直接发布；其余仍为草稿。",
    )

    download_images = forms.BooleanField(
        label="下载图片", required=False,
        help_text="在后台下载、检查并保存文章里的远程图片（含各尺寸副本）；由后台任务处理（manage.py db_worker），稍后可见。",
    )

    def __init__(self, *args, can_publish=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.can_publish = can_publish
        if not can_publish:  # the server ignores it anyway (import_uploaded_files checks the user)
            del self.fields["publish"]
            self.fields["files"].help_text = "可多选：Markdown（.md、.markdown、.txt），或包含这些文件的 .zip"

    def clean_files(self):
        """A dump (``export_articles`` NDJSON) restores each article as it was exported: its status (published
        too), its figures' reviews, over the article of the same key or slug, whoever's it is. That is an
        editor's work: without ``articles.publish_article``, a dump, alone or in an archive, is refused."""
        files = self.cleaned_data["files"]
        if self.can_publish:
            return files
        for upload in files:
            dumps = _dumps_in(upload)
            if dumps:
                raise forms.ValidationError(
                    "「%(name)s」含有导出的文章数据（%(dumps)s）：导入导出数据会按文件恢复文章的状态（包括已发布）并覆盖已有文章，"
                    "只有编辑可以导入。请只上传 Markdown 文件。",
                    code="dump_needs_editor",
                    params={"name": upload.name, "dumps": "、".join(dumps[:3]) + ("…" if len(dumps) > 3 else "")},
                )
        return files


def _dumps_in(upload) -> list[str]:
    """The NDJSON dump names in an upload: itself, or the members of a .zip (its names only; an archive
    that cannot be read is left to the importer, which reports it)."""
    if Path(upload.name).suffix.lower() in EXPORT_SUFFIXES:
        return [upload.name]
    if Path(upload.name).suffix.lower() != ".zip":
        return []
    try:
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        names = []
    finally:
        upload.seek(0)
    return [name for name in names if Path(name).suffix.lower() in EXPORT_SUFFIXES]


class FailedFilter(admin.SimpleListFilter):
    title = "有失败"
    parameter_name = "failed"

    def lookups(self, request, model_admin):
        return [("yes", "有失败"), ("no", "全部成功")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(failed_count__gt=0)
        if self.value() == "no":
            return queryset.filter(failed_count=0)
        return queryset


@admin.register(ImportRun)
class ImportRunAdmin(NewsroomAdmin):
    list_display = ["created_at", "created_by", "summary", "failed_count"]
    list_filter = [FailedFilter]
    list_select_related = ["created_by"]
    date_hierarchy = "created_at"
    fields = ["created_at", "created_by", "summary", "failed_count", "lines_text"]
    readonly_fields = fields

    @admin.display(description="逐个文件")
    def lines_text(self, run):
        return format_html('<pre class="import-lines">{}</pre>', "\n".join(run.lines))

    def has_add_permission(self, request):
        return request.user.has_perm("articles.add_article")

    def has_view_permission(self, request, obj=None):
        # Whoever may import sees the records, or the upload would end on a page they cannot open.
        return super().has_view_permission(request, obj) or self.has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        can_publish = request.user.has_perm("articles.publish_article")
        if request.method == "POST":
            form = ImportUploadForm(request.POST, request.FILES, can_publish=can_publish)
            if form.is_valid():
                run = import_uploaded_files(
                    form.cleaned_data["files"], user=request.user, publish=form.cleaned_data.get("publish", False),
                    queue_images=form.cleaned_data["download_images"],
                )
                self.log_addition(request, run, [{"added": {}}])
                text = run.summary
                if run.failed_count:
                    text += f"；{run.failed_count} 项未能导入（这些项什么也没有保存），原因见下方“逐个文件”。"
                if run.images_queued:
                    text += f"；已将 {run.images_queued} 篇文章的图片下载加入后台队列，处理完成后图片会出现在文章里。"
                self.message_user(request, text, messages.WARNING if run.failed_count else messages.SUCCESS)
                return redirect(reverse("admin:articles_importrun_change", args=[run.pk]))
        else:
            form = ImportUploadForm(can_publish=can_publish)
        context = {
            **self.admin_site.each_context(request),
            "title": "导入文章",
            "opts": self.opts,
            "adminform": helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}),
            "can_publish": can_publish,
            "has_view_permission": self.has_view_permission(request),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/articles/importrun/import_form.html", context)
