"""The read-only JSON API under ``/api/v1/`` (see the README's "JSON API" section).

Plain Django views over ``articles.export`` (the one serializer): ``articles`` (list, detail,
NDJSON dump), ``params`` (query parameters; each bad one is a 400 naming it), ``cursor``
(keyset pagination with signed cursors).
"""
