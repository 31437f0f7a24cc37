"""The article's gallery inline: order, preview, caption/credit/alt text and the lead image, in one table.

Caption, credit and alt text live on ``Image``; ``GalleryItemForm`` edits them from the ``ArticleImage``
row. Rows are added by uploading (``ArticleGalleryFormMixin.new_images``), not here, so the inline
cannot add rows. ``gallery.js`` lets editors drag rows; typing the order numbers works without it.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.forms.models import BaseInlineFormSet
from django.utils.html import format_html

from articles import workflow
from articles.gallery import set_lead_image
from articles.models import ArticleImage, Image

IMAGE_FIELDS = ("caption", "credit", "alt_text")


def _image_formfield(name, **kwargs):
    return Image._meta.get_field(name).formfield(**kwargs)


class GalleryItemForm(forms.ModelForm):
    """One gallery row; the Image fields start from ``instance.image`` and are saved back onto it."""

    caption = _image_formfield("caption", widget=forms.Textarea(attrs={"rows": 2, "cols": 26}))
    credit = _image_formfield("credit", widget=forms.TextInput(attrs={"size": 12}))
    alt_text = _image_formfield("alt_text", widget=forms.TextInput(attrs={"size": 16}))
    is_lead = forms.BooleanField(label="题图", required=False)

    class Meta:
        model = ArticleImage
        fields = ["order", *IMAGE_FIELDS, "is_lead"]
        widgets = {"order": forms.NumberInput(attrs={"class": "gallery-order", "min": 0})}

    def __init__(self, *args, article=None, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        image = self.instance.image if self.instance.image_id else None
        if image is not None:
            for name in IMAGE_FIELDS:
                self.initial.setdefault(name, getattr(image, name))
            lead_id = (article or self.instance.article).lead_image_id
            self.initial.setdefault("is_lead", lead_id == image.pk)

    def clean(self):
        cleaned = super().clean()
        image = self.instance.image if self.instance.image_id else None
        changed = any(name in self.changed_data for name in IMAGE_FIELDS)
        if changed and image is not None and self.user is not None and not workflow.may_change_image(self.user, image):
            raise ValidationError(
                "这张图片也用在你无权修改的文章里：它的图说、署名和替代文字只能由编辑修改。", code="image_shared"
            )
        return cleaned

    def save(self, commit=True):
        placement = super().save(commit=commit)
        if commit:
            self.save_image()
        else:
            save_m2m = self.save_m2m

            def save_m2m_and_image():
                save_m2m()
                self.save_image()

            self.save_m2m = save_m2m_and_image
        return placement

    def save_image(self):
        """Write the changed caption/credit/alt text onto the Image (only those, so other edits survive)."""
        changed = [name for name in IMAGE_FIELDS if name in self.changed_data]
        if changed:
            image = self.instance.image
            for name in changed:
                setattr(image, name, self.cleaned_data[name])
            image.save(update_fields=changed)


class GalleryFormSet(BaseInlineFormSet):
    """Makes the checked ``is_lead`` row the article's lead image; at most one row may be checked."""

    current_user = None  # set on the per-request class by GalleryInline.get_formset()

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "article": self.instance, "user": self.current_user}

    def clean(self):
        super().clean()
        leads = [form for form in self._kept_forms() if form.cleaned_data.get("is_lead")]
        if len(leads) > 1:
            names = "、".join(str(form.instance.image) for form in leads)
            raise ValidationError(
                "只能勾选一张题图，现在勾选了 %(count)d 张：%(names)s", code="several_leads",
                params={"count": len(leads), "names": names},
            )

    def save(self, commit=True):
        saved = super().save(commit=commit)
        if commit:
            self.save_lead_image()
        return saved

    def save_lead_image(self):
        """Apply the ``is_lead`` boxes, but only if an editor touched one, so the article form's own choice stands otherwise.

        Unchecking the lead (or deleting its row) leaves the article without a lead image.
        """
        touched = any(
            "is_lead" in form.changed_data or (self._should_delete_form(form) and form.initial.get("is_lead"))
            for form in self.forms
        )
        if not touched:
            return
        lead = next((form.instance.image for form in self._kept_forms() if form.cleaned_data.get("is_lead")), None)
        set_lead_image(self.instance, lead)

    def _kept_forms(self):
        return [
            form for form in self.forms
            if hasattr(form, "cleaned_data") and form.instance.image_id and not self._should_delete_form(form)
        ]


class GalleryInline(admin.TabularInline):
    model = ArticleImage
    form = GalleryItemForm
    formset = GalleryFormSet
    fields = ["order", "thumbnail", *IMAGE_FIELDS, "is_lead"]
    readonly_fields = ["thumbnail"]
    ordering = ["order", "pk"]
    extra = 0

    class Media:
        js = ["articles/admin/gallery.js"]
        css = {"all": ["articles/admin/gallery.css"]}

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("image")

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # A new class per request: the inline instance is shared, so nothing request-specific goes on self.
        return type(formset.__name__, (formset,), {"current_user": request.user})

    def has_add_permission(self, request, obj=None):
        return False  # rows come from uploads (上传图片); an ArticleImage needs an Image this table cannot pick

    @admin.display(description="预览")
    def thumbnail(self, placement):
        """The smallest rendition if any, else the stored file, else the remote address."""
        image = placement.image if placement.image_id else None
        if image is None:
            return "—"
        if image.renditions:
            src = default_storage.url(min(image.renditions, key=lambda r: r["width"])["file"])
        else:
            src = image.url
        if not src:
            return "—"
        return format_html(
            '<img src="{}" alt="{}" loading="lazy" class="desk-thumbnail">', src, image.alt_text
        )
