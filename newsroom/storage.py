"""The media storage used when NEWSROOM_S3_BUCKET is set (see settings, "Object storage (S3)").

``S3MediaStorage`` is django-storages' ``S3Storage`` with one change: unsigned URLs (public pictures,
the default) are built by joining the bucket's URL prefix and the quoted key, instead of asking botocore
for a "presigned" URL without a signature every time. botocore takes about 150 µs per URL; an API page
of 20 articles with galleries asks for hundreds. The prefix comes from botocore itself, once per storage
object, so endpoint, addressing style and key prefix (``location``) are exactly what botocore would use;
if botocore's URL does not have the expected shape, every URL is left to botocore.
Signed URLs and custom domains (already plain string formatting) go through ``S3Storage.url`` unchanged.
"""

from urllib.parse import quote

from storages.backends.s3 import S3Storage
from storages.utils import clean_name

_PROBE = "newsroom-url-probe.webp"


def _quote_key(key: str) -> str:
    return quote(key.encode("utf-8"), safe="/~")  # as botocore quotes a greedy {Key+} label


class S3MediaStorage(S3Storage):
    _url_prefix = None  # "" once botocore's URL turned out not to be prefix + quoted key

    def url(self, name, parameters=None, expire=None, http_method=None):
        if self.querystring_auth or self.custom_domain or parameters or http_method:
            return super().url(name, parameters, expire, http_method)
        if self._url_prefix is None:
            probe = _quote_key(self._normalize_name(clean_name(_PROBE)))
            example = super().url(_PROBE)
            self._url_prefix = example[: -len(probe)] if example.endswith("/" + probe) else ""
        if not self._url_prefix:
            return super().url(name)
        return self._url_prefix + _quote_key(self._normalize_name(clean_name(name)))
