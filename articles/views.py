"""Public views. Every list and detail starts from Article.objects.published()."""

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.generic import DetailView, ListView

from articles.models import Article
from articles.preview import article_id_from_token

DETAIL_TEMPLATE = "articles/article_detail.html"


class ArticleListView(ListView):
    paginate_by = 20
    template_name = "articles/article_list.html"

    def get_queryset(self):
        return Article.objects.published().for_listing()


class ArticleDetailView(DetailView):
    template_name = DETAIL_TEMPLATE

    def get_queryset(self):
        return Article.objects.published().for_export()


def _render_preview(request, pk):
    article = get_object_or_404(Article.objects.for_export(), pk=pk)
    return render(request, DETAIL_TEMPLATE, {"article": article, "object": article, "is_preview": True})


@staff_member_required
def preview(request, pk):
    """The public page of any article, for staff who may view it."""
    if not request.user.has_perm("articles.view_article"):
        raise PermissionDenied
    return _render_preview(request, pk)


def signed_preview(request, token):
    """The public page of an article through a signed link that expires."""
    pk = article_id_from_token(token)
    if pk is None:
        raise Http404("预览链接无效或已过期")
    return _render_preview(request, pk)
