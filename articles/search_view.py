"""The public search page, ``/search/?q=``: a thin ListView over ``articles.search.search_articles()``.

Every query gets a normal page: an empty, punctuation-only or over-long query is explained on
the page rather than answered with an error. The page asks search engines not to index it.
"""

from django.views.generic import ListView

from articles.search import MAX_QUERY_LENGTH, normalize_query, search_articles
from articles.seo import page_meta


class SearchView(ListView):
    template_name = "articles/search.html"
    context_object_name = "hits"
    paginate_by = 20

    def get(self, request, *args, **kwargs):
        self.raw_query = request.GET.get("q", "")
        self.query = normalize_query(self.raw_query)
        response = super().get(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex"
        return response

    def get_queryset(self):
        return search_articles(self.query) if self.query else []

    def paginate_queryset(self, queryset, page_size):
        # A page number out of range or not a number shows the nearest page, not a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        raw = self.raw_query.strip()
        title = f"「{self.query}」的搜索结果" if self.query else "搜索"
        context.update(
            search_title=title,
            page_meta=page_meta(self.request, title=title, description="在 Newsroom 收录的区域发展报道中搜索标题和正文。"),
            query=self.query,
            result_count=context["paginator"].count,
            is_blank=not raw,
            is_unsearchable=bool(raw) and not self.query,
            is_shortened=len(" ".join(raw.split())) > MAX_QUERY_LENGTH and bool(self.query),
            max_query_length=MAX_QUERY_LENGTH,
        )
        return context
