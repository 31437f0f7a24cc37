"""The project's URLs plus the trivial view every page is compared with."""

from django.http import HttpResponse
from django.urls import path

from newsroom.urls import urlpatterns as project_urlpatterns

TRIVIAL_SIZE = 11 * 1024
# Built once at import: the view does no work but Django's own request/response cycle.
TRIVIAL_BODY = (b"Newsroom trivial benchmark view. " * (TRIVIAL_SIZE // 32 + 1))[:TRIVIAL_SIZE]


def trivial(request):
    """A fixed 11 KB text response: the yardstick for ``make bench``."""
    return HttpResponse(TRIVIAL_BODY, content_type="text/plain; charset=utf-8")


urlpatterns = [
    path("bench/trivial/", trivial, name="bench_trivial"),
    *project_urlpatterns,
]
