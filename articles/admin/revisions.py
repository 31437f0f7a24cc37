"""Revision history in the article admin: list an article's revisions, compare two, restore one.

``RevisionAdminMixin`` goes before ``ModelAdmin`` in ArticleAdmin's bases. Its views only pick
rows, check permissions and render; recording, diffing and restoring live in
``articles.revisions``. Django's "历史" (history) link leads to the revision list, which also
shows the admin's LogEntries for the article.
"""

from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from articles.revisions import article_document, diff_documents, restore_revision

LOG_ENTRIES_SHOWN = 100


class RevisionAdminMixin:
    revisions_template = "admin/articles/article/revisions.html"
    revisions_compare_template = "admin/articles/article/revisions_compare.html"
    revision_restore_template = "admin/articles/article/revision_restore.html"

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/revisions/compare/", wrap(self.revisions_compare_view),
                 name=f"{prefix}_revisions_compare"),
            path("<path:object_id>/revisions/<int:number>/restore/", wrap(self.revision_restore_view),
                 name=f"{prefix}_revision_restore"),
            path("<path:object_id>/revisions/", wrap(self.revisions_view), name=f"{prefix}_revisions"),
        ] + super().get_urls()

    def history_view(self, request, object_id, extra_context=None):
        # Revisions say what changed; the LogEntries Django's page shows are listed below them.
        return HttpResponseRedirect(self._revision_url("revisions", object_id))

    def revisions_view(self, request, object_id):
        article = self._get_article(request, object_id, self.has_view_permission)
        # ``data`` holds the whole article (raw source included): not needed for the list.
        revisions = article.revisions.defer("data").select_related("created_by").order_by("-number")
        log_entries = (
            LogEntry.objects.filter(content_type=get_content_type_for_model(article), object_id=str(article.pk))
            .select_related("user")
            .order_by("-action_time")[:LOG_ENTRIES_SHOWN]
        )
        context = self._revision_context(
            request, article, f"历史版本：{article}",
            revisions=revisions, log_entries=log_entries, can_restore=self.has_change_permission(request, article),
        )
        return TemplateResponse(request, self.revisions_template, context)

    def revisions_compare_view(self, request, object_id):
        article = self._get_article(request, object_id, self.has_view_permission)
        try:
            numbers = sorted((int(request.GET["a"]), int(request.GET["b"])))
        except (KeyError, ValueError):
            self.message_user(request, "请选择要比较的两个版本。", messages.WARNING)
            return HttpResponseRedirect(self._revision_url("revisions", quote(article.pk)))
        old = get_object_or_404(article.revisions, number=numbers[0])
        new = get_object_or_404(article.revisions, number=numbers[1])
        context = self._revision_context(
            request, article, f"比较版本 #{old.number} 与 #{new.number}：{article}",
            old=old, new=new, diffs=diff_documents(old.data, new.data),
            before_label=f"版本 #{old.number}", after_label=f"版本 #{new.number}",
        )
        return TemplateResponse(request, self.revisions_compare_template, context)

    def revision_restore_view(self, request, object_id, number):
        article = self._get_article(request, object_id, self.has_change_permission)
        revision = get_object_or_404(article.revisions, number=number)
        if request.method == "POST":
            return self._restore(request, article, revision)
        context = self._revision_context(
            request, article, f"恢复到版本 #{revision.number}：{article}",
            revision=revision, diffs=diff_documents(article_document(article), revision.data),
            before_label="当前", after_label=f"版本 #{revision.number}",
        )
        return TemplateResponse(request, self.revision_restore_template, context)

    def _restore(self, request, article, revision):
        latest_before = article.revisions.order_by("-number").values_list("number", flat=True).first()
        try:
            restored = restore_revision(revision, user=request.user)
        except ValidationError as error:
            self.message_user(request, f"无法恢复版本 #{revision.number}：{'；'.join(error.messages)}", messages.ERROR)
            return HttpResponseRedirect(self._revision_url("revisions", quote(article.pk)))
        except IntegrityError:
            self.message_user(request, f"无法恢复版本 #{revision.number}：与另一篇文章冲突（如来源标识已被占用）。",
                              messages.ERROR)
            return HttpResponseRedirect(self._revision_url("revisions", quote(article.pk)))
        article.refresh_from_db()
        self.log_change(request, article, f"恢复自版本 #{revision.number}")
        if restored.number == latest_before:
            self.message_user(request, f"文章与版本 #{revision.number} 相同，内容未改变。", messages.INFO)
        else:
            self.message_user(request, f"已恢复到版本 #{revision.number}，并保存为版本 #{restored.number}。",
                              messages.SUCCESS)
        return HttpResponseRedirect(self._revision_url("change", quote(article.pk)))

    def _get_article(self, request, object_id, has_permission):
        article = self.get_object(request, unquote(object_id))
        if article is None:
            raise Http404(f"{self.opts.verbose_name} {object_id!r} 不存在")
        if not has_permission(request, article):
            raise PermissionDenied
        request.current_app = self.admin_site.name
        return article

    def _revision_context(self, request, article, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.opts,
            "original": article,
            **extra,
        }

    def _revision_url(self, name, object_id):
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=[object_id],
                       current_app=self.admin_site.name)
