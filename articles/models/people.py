"""Author: a person credited on articles (reporter, photographer, editor...)."""

import re

from django.db import models
from django.urls import reverse

from articles.slugs import unique_slug


def normalize_person_name(name: str) -> str:
    """Chinese names lose inner spaces (何 超 -> 何超); Latin names keep single spaces."""
    name = re.sub(r"\s+", " ", (name or "").strip())
    if re.search(r"[\u4e00-\u9fff]", name):
        name = name.replace(" ", "")
    return name


class Author(models.Model):
    name = models.CharField("姓名", max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True, blank=True)
    aliases = models.JSONField("其他写法", default=list, blank=True, help_text="合并重复作者时保留被合并的写法")
    bio = models.TextField("简介", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "作者"
        verbose_name_plural = "作者"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = normalize_person_name(self.name)
        if not self.slug:
            self.slug = unique_slug(Author, self.name, exclude_pk=self.pk, fallback="author")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("articles:author", kwargs={"slug": self.slug})
