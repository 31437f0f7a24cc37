"""The article change form: workflow rules, lost-update protection and tag autocomplete.

Every rule here is checked on the server when the form is validated, so a hand-made POST
meets the same refusal as the visible form.
"""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.utils import timezone
from taggit.models import Tag
from taggit.utils import parse_tags

from articles import workflow
from articles.forms import ArticleGalleryFormMixin
from articles.models import Article


class ArticleAdminForm(ArticleGalleryFormMixin, forms.ModelForm):
    # Set on the per-request form class by ArticleAdmin.get_form(), never on a shared instance.
    current_user = None
    admin_site = None

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    original_url = forms.URLField(
        label=Article._meta.get_field("original_url").verbose_name, max_length=1000, required=False, assume_scheme="https"
    )
    tag_choices = forms.ModelMultipleChoiceField(
        label="标签", queryset=Tag.objects.all(), required=False, help_text="输入以搜索已有标签"
    )
    new_tags = forms.CharField(
        label="新标签", required=False, help_text="用逗号分隔，如：重庆, 智能制造", max_length=500
    )

    class Meta:
        model = Article
        # Tags are edited through tag_choices/new_tags; the admin's fieldsets choose what is shown.
        fields = ["title", "slug", "summary", "body", "status", "published_at", "language", "original_url",
                  "publisher", "syndicator", "data_sources", "regions", "categories"]
        widgets = {
            "title": forms.TextInput(attrs={"class": "vTextField", "size": 60}),
            "categories": forms.Textarea(attrs={"rows": 2, "cols": 40}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.admin_site is not None:
            field = self.fields["tag_choices"]
            field.widget = AutocompleteSelectMultiple(Article._meta.get_field("tags"), self.admin_site)
            field.widget.choices = field.choices
        if self.instance.pk:
            self.fields["tag_choices"].initial = list(self.instance.tags.all())
            self.fields["expected_version"].initial = self.instance.version
        if "status" in self.fields and self.current_user is not None:
            allowed = set(workflow.allowed_statuses(self.current_user))
            self.fields["status"].choices = [c for c in self.fields["status"].choices if c[0] in allowed]

    def clean_status(self):
        status = self.cleaned_data["status"]
        old = self.instance.status if self.instance.pk else None
        if self.current_user is not None:
            workflow.check_status_change(self.current_user, old_status=old, new_status=status)
        return status

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            current = Article.objects.filter(pk=self.instance.pk).values("version", "updated_by__username",
                                                                         "updated_at").first()
            expected = cleaned.get("expected_version")
            if current and expected is not None and current["version"] != expected:
                when = timezone.localtime(current["updated_at"]).strftime("%Y-%m-%d %H:%M:%S")
                raise ValidationError(
                    "保存被拒绝：%(who)s 在 %(when)s 已经保存了这篇文章的新版本（你打开的是旧版本）。"
                    "你的修改仍在下面的表单里：请复制需要保留的内容，在新窗口重新打开文章后再合并。",
                    code="stale",
                    params={"who": current["updated_by__username"] or "另一位编辑", "when": when},
                )
        return cleaned

    def tag_names(self):
        names = [tag.name for tag in self.cleaned_data.get("tag_choices") or []]
        names += parse_tags(self.cleaned_data.get("new_tags") or "")
        return list(dict.fromkeys(names))
