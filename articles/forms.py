"""Form pieces for the article desk: uploading many pictures at once.

The fields only check the files, with the importer's Pillow rules (``articles.images``);
storing them and placing them in the gallery is ``articles.gallery.add_images()``.
"""

from django import forms
from django.core.exceptions import ValidationError

from articles.images import ImageRejected, read_uploaded_image


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """A file input taking several pictures; ``clean()`` returns the list of files (maybe empty).

    Every file is checked; one ValidationError lists each rejected file by name with its reason.
    """

    widget = MultipleFileInput(attrs={"accept": "image/*"})

    def clean(self, data, initial=None):
        uploads = list(data) if isinstance(data, (list, tuple)) else [data] if data else []
        if not uploads:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        cleaned, errors = [], []
        for upload in uploads:
            name = getattr(upload, "name", None) or "未命名文件"
            try:
                upload = super().clean(upload, initial)  # FileField's own checks: a name, not empty
                read_uploaded_image(upload)
            except ValidationError as exc:
                errors.append(ValidationError(f"「{name}」：{'；'.join(exc.messages)}", code="invalid"))
            except ImageRejected as exc:
                errors.append(ValidationError(str(exc), code="invalid_image"))
            else:
                cleaned.append(upload)
        if errors:
            raise ValidationError(errors)
        return cleaned

    def has_changed(self, initial, data):
        return not self.disabled and bool(data)


class ArticleGalleryFormMixin(forms.Form):
    """Adds ``new_images`` to the article form; the admin stores them with ``articles.gallery.add_images()``."""

    new_images = MultipleImageField(required=False, label="上传图片", help_text="可一次选择多张图片")
