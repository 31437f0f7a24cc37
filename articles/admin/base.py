"""Shared admin base class, and the rule that a row still in use is not deleted."""

from django.contrib import admin
from django.db import models

# What to do instead of deleting a row that is still in use, by model (articles.merge.rows_in_use).
IN_USE_HINTS = {
    "articles.source": "要去掉重复的来源，请用「合并所选来源」：关联会转到保留的一项。",
    "articles.author": "要去掉重复的作者，请用「合并所选作者」：署名会转到保留的一项。",
    "articles.region": "要去掉重复的地区，请用「合并所选地区」：关联会转到保留的一项。",
    "taggit.tag": "要去掉重复的标签，请用「合并所选标签」。",
    "articles.image": "请先在这些文章的图集里移除它、换一张题图。",
    "articles.indicator": "请先把这些数字改到别的标准指标。",
    "articles.statisticfigure": "删除会丢掉它的核实记录：不要的数字请「否决」。",
}


class KeepRowsInUseMixin:
    """Deleting (the delete page, the delete_selected action) refuses a row that anything still points
    at (``articles.merge.rows_in_use``): a source that is an article's publisher, a picture in a gallery,
    a tag on articles, a figure with its review history. Django would cascade or null those links away
    and the articles would silently lose content; the page lists them and says what to do instead
    (merge, unlink, reject). Rows nothing uses are deleted as before."""

    def get_deleted_objects(self, objs, request):
        from articles.merge import rows_in_use

        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        hint = IN_USE_HINTS.get(self.opts.label_lower, "请先解除这些关联。")
        in_use = [f"「{row}」仍在使用：{relations}。{hint}" for row, relations in rows_in_use(objs)]
        return deleted, model_count, perms_needed, [*protected, *in_use]


class NewsroomAdmin(KeepRowsInUseMixin, admin.ModelAdmin):
    # Django 6 will assume https for scheme-less URLs typed into forms; opt in now.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
