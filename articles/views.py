"""Public views. Every list and detail starts from Article.objects.published()."""

from django.views.generic import DetailView, ListView

from articles.models import Article


class ArticleListView(ListView):
    paginate_by = 20
    template_name = "articles/article_list.html"

    def get_queryset(self):
        return Article.objects.published().for_listing()


class ArticleDetailView(DetailView):
    template_name = "articles/article_detail.html"

    def get_queryset(self):
        return Article.objects.published().for_export()
