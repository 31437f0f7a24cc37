"""What needs an editor's attention, for the admin index: counts with links to filtered lists.

One aggregate query per model, whatever the number of rows. The links use the changelists'
own filters; ``?publication=scheduled`` is ArticleAdmin's list filter for scheduled articles.
"""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from articles.models import Article, Image, ImportRun, StatisticFigure


def attention_items(*, user=None) -> list[dict]:
    """[{key, label, count, url}] in a fixed order; with ``user``, only what that user may view.

    A model the user may not view is not counted (no query for it).
    """
    now = timezone.now()
    # (key, label, model, filter, query string, permissions: any one of them is enough)
    wanted = [
        ("review", "待审文章", Article, Q(status=Article.Status.REVIEW), "status__exact=review",
         ["articles.view_article", "articles.change_article"]),
        ("scheduled", "定时发布的文章", Article, Q(status=Article.Status.PUBLISHED, published_at__gt=now),
         "publication=scheduled", ["articles.view_article", "articles.change_article"]),
        # Whoever may import may see import records (ImportRunAdmin.has_view_permission).
        ("failed_imports", "有失败文件的导入", ImportRun, Q(failed_count__gt=0), "failed=yes",
         ["articles.view_importrun", "articles.add_article"]),
        ("failed_images", "下载失败的图片", Image, Q(fetch_status=Image.FetchStatus.FAILED), "fetch_status__exact=failed",
         ["articles.view_image", "articles.change_image"]),
        ("candidate_figures", "待核实的统计数字", StatisticFigure, Q(status=StatisticFigure.Status.CANDIDATE),
         "status__exact=candidate", ["articles.view_statisticfigure", "articles.change_statisticfigure"]),
    ]
    if user is not None:
        wanted = [item for item in wanted if any(user.has_perm(perm) for perm in item[5])]

    counts = {}
    for model in dict.fromkeys(item[2] for item in wanted):
        filters = {key: Count("pk", filter=condition) for key, _, m, condition, _, _ in wanted if m is model}
        counts.update(model.objects.aggregate(**filters))

    return [
        {
            "key": key,
            "label": label,
            "count": counts[key],
            "url": f"{reverse(f'admin:articles_{model._meta.model_name}_changelist')}?{query}",
        }
        for key, label, model, _, query, _ in wanted
    ]
