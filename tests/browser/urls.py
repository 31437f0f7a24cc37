"""URLconf for the browser tests: the project's URLs plus uploaded media.

``newsroom/urls.py`` serves media only with DEBUG on, and tests run with DEBUG off, so without
this the gallery thumbnails would be 404s in the browser.
"""

from django.conf import settings
from django.urls import re_path
from django.views.static import serve

from newsroom.urls import urlpatterns as project_urlpatterns


def media(request, path):
    # MEDIA_ROOT is a fresh tmp folder per test (tests/conftest.py): read it per request, not at import.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [*project_urlpatterns, re_path(r"^media/(?P<path>.*)$", media)]
