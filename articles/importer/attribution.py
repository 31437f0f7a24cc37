"""Attribution: turn what the repair step found into rows: sources, bylines, images, regions.

Used by the importer (``run.py``) for new files and by the "re-run credit extraction" admin
action (``reextract_credits``) on an article's verbatim source.
"""

from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from taggit.models import Tag

from articles import workflow
from articles.extraction.regions import count_mentions
from articles.importer import batch
from articles.importer.frontmatter import read_source_file
from articles.importer.syndicated import ImageRef, is_boilerplate_image, is_placeholder_image, repair_body
from articles.models import Article, ArticleAuthor, ArticleImage, Author, Image, Region, Source
from articles.sanitize import clean_text
from articles.shown import articles_showing
from articles.sync import shown_rows_written

_url_validator = URLValidator(schemes=["http", "https"])


def valid_url(url, notes, what, max_length=1000):
    """``url`` if it can be stored in a URLField, else "" with a note saying why it was left out."""
    if not url:
        return ""
    if len(url) > max_length:
        notes.append(f"{what} left out: {len(url)} characters, over {max_length}")
        return ""
    try:
        _url_validator(url)
    except ValidationError:
        notes.append(f"{what} left out: not a valid URL: {url[:100]}")
        return ""
    return url


def source_named(name, kind):
    """The Source called ``name`` (or with it as an alias); created with ``kind`` if new. None for no name."""
    return next(iter(sources_named([name], kind)), None)


def sources_named(names, kind) -> list:
    """The Sources of ``names`` (as ``source_named`` finds them, in order, each once): one query for those
    known by name."""
    aliased = cache(lambda: list(Source.objects.exclude(aliases=[])))  # read only when a name is not known

    def find_or_create(name):
        return next((s for s in aliased() if name in s.aliases), None) or Source.objects.get_or_create(
            name=name, defaults={"kind": kind})[0]

    names = (Source.clean_name(name) for name in names)
    return _each_once(_rows_named(Source, (name for name in names if name), find_or_create).values())


def find_publisher(repaired, original_url, syndicator):
    for credit in repaired.credits:
        if credit.kind == "origin" and credit.organizations:
            return source_named(credit.organizations[0], Source.Kind.PUBLISHER)
    for credit in repaired.credits:
        if credit.wire:
            return source_named(credit.wire, Source.Kind.PUBLISHER)
    with_domains = batch.domain_sources(lambda: list(Source.objects.with_domains()))
    by_domain = Source.objects.for_url(original_url, among=with_domains)
    if by_domain is not None and by_domain.kind == Source.Kind.PUBLISHER:
        return by_domain
    if syndicator is not None and syndicator.kind == Source.Kind.PUBLISHER:
        return syndicator
    return None


def authors_named(names) -> dict:
    """``{name: Author}`` for ``names``, the new ones created: one query for those already known."""
    return _rows_named(Author, names, lambda name: Author.objects.get_or_create(name=name)[0])


def tags_named(names) -> list:
    """The taggit Tags of ``names`` (each once), the new ones created as taggit does with TAGGIT_CASE_INSENSITIVE:
    one query for those known by name."""
    return _each_once(_rows_named(
        Tag, names, lambda name: Tag.objects.get_or_create(name__iexact=name, defaults={"name": name})[0]).values())


def _rows_named(model, names, create) -> dict:
    """``{name: row}`` of ``model`` for ``names``, in their order: those known by name read in one query, the others
    from ``create(name)``, in sorted order (concurrent writers then lock new rows in one order). In an import batch,
    rows an earlier file of the batch found are not read again (``articles.importer.batch``)."""
    names = list(dict.fromkeys(names))
    known = batch.named(model)
    found = {name: known[name] for name in names if name in known}
    unknown = [name for name in names if name not in found]
    found |= {row.name: row for row in model.objects.filter(name__in=unknown)} if unknown else {}
    for name in sorted(set(names) - found.keys()):
        found[name] = create(name)
    batch.remember_named(model, found)
    return {name: found[name] for name in names}


def _each_once(rows) -> list:
    """``rows`` without repeats (two names may find one row: an alias, a name differing in case), in order."""
    return list({row.pk: row for row in rows}.values())


def save_images(article, repaired, fields, notes, *, user=None) -> list:
    """Save the article's pictures, one ``Image`` per remote URL, and set (not save) its ``lead_image``; returns
    them in gallery order, for ``place_images()`` once the article is saved. Called before the article's save,
    so that its row is written once, lead image included.

    A picture already known by its remote URL is reused and its caption, alt text and credit follow
    this file; with an importing ``user`` (an admin upload), only a picture that user may change
    (``workflow.may_change_image``: no article they may not edit shows it) or one that only this article
    showed. Otherwise this article gets its own ``Image`` of the same URL, and the picture another's
    article shows keeps its words.
    """
    own = {*article.gallery.values_list("image_id", flat=True), article.lead_image_id} - {None} if article.pk else set()
    lead_url = fields["headimg"] or fields["thumbnail"]
    refs = [ref for ref in repaired.images if valid_url(ref.url, notes, "image")]
    lead_url = valid_url(lead_url, notes, "lead image")
    if lead_url and not is_boilerplate_image(lead_url) and lead_url not in {r.url for r in refs}:
        refs.insert(0, ImageRef(url=lead_url))
    photographers = authors_named(
        credit.people[0].name for ref in refs for credit in ref.credits if credit.kind == "photo" and credit.people)
    lead, images = None, []
    for ref in refs:
        image = _reusable_image(ref.url, article, user, own) or Image(remote_url=ref.url)
        before = {name: getattr(image, name) for name in _IMPORTED_IMAGE_FIELDS}
        image.width, image.height = ref.width or image.width, ref.height or image.height
        image.caption = clean_text(ref.caption)
        image.alt_text = clean_text(ref.caption)[:300]
        image.is_placeholder = is_placeholder_image(ref.url)
        credit_names, source_lines = [], []
        for credit in ref.credits:
            if credit.kind == "photo":
                credit_names += [p.name for p in credit.people] + list(credit.organizations)
                if credit.people:
                    image.photographer = photographers[credit.people[0].name]
            elif credit.kind == "data_source":
                source_lines.append("、".join(credit.organizations))
        if credit_names:
            image.credit = ("、".join(credit_names) + " 摄")[:200] if image.photographer else "、".join(credit_names)[:200]
        if source_lines:
            image.data_source_line = "数据来源：" + "；".join(source_lines)
        # A known picture whose words did not change is left alone: saving it would rebuild the page of every
        # article showing it (a recurring logo or chart: each import would cost more than the one before).
        if image.pk is None or any(getattr(image, name) != value for name, value in before.items()):
            image.full_clean(exclude=["file", "photographer"])  # the photographer: a row just read or written
            image.save()
        images.append(image)
        if ref.url == lead_url and not image.is_placeholder:
            lead = image
    article.lead_image = lead
    return images


def place_images(article, images, *, new=False):
    """Make ``images`` (``save_images()``) the saved article's gallery, in their order. ``new``: the article was
    created in this transaction, it has no gallery to clear."""
    if not new:
        article.gallery.all().delete()
    batch.insert_rows(ArticleImage, (ArticleImage(article=article, image=image, order=order)
                                     for order, image in enumerate(images)), later=new)
    shown_rows_written([article.pk])  # bulk_create() sends no signals


# The Image fields save_images() writes from a file.
_IMPORTED_IMAGE_FIELDS = ("width", "height", "caption", "alt_text", "is_placeholder", "photographer_id", "credit",
                          "data_source_line")


def _reusable_image(url, article, user, own):
    """The known ``Image`` of ``url`` this import may rewrite, or None (see ``save_images``)."""
    known = Image.objects.filter(remote_url=url).order_by("pk")
    if user is None:  # the command line: the operator's import, as before
        return known.first()
    for image in known:
        if workflow.may_change_image(user, image):
            return image
        if image.pk in own and not Article.objects.filter(pk__in=articles_showing(image)).exclude(pk=article.pk).exists():
            return image  # only this article showed it (its placements were just cleared)
    return None


def save_bylines(article, repaired, *, new=False):
    """Make the file's credited people the article's bylines. ``new``: it has none yet (see ``place_images``)."""
    if not new:
        article.bylines.all().delete()
    people = [p for credit in repaired.credits for p in credit.people]
    people += [p for ref in repaired.images for credit in ref.credits if credit.kind == "photo" for p in credit.people]
    authors = authors_named(person.name for person in people)
    bylines = {}
    for person in people:
        author = authors[person.name]
        role = person.role if person.role in ArticleAuthor.Role.values else ArticleAuthor.Role.WRITER
        bylines.setdefault((author.pk, role), ArticleAuthor(article=article, author=author, role=role,
                                                             order=len(bylines) + 1))
    batch.insert_rows(ArticleAuthor, bylines.values(), later=new)
    shown_rows_written([article.pk])  # bulk_create() sends no signals


def data_source_names(repaired) -> list:
    """The names the file's data-source credits give (the article's and its pictures'), in order."""
    credits = [c for c in repaired.credits if c.kind == "data_source"]
    credits += [c for ref in repaired.images for c in ref.credits if c.kind == "data_source"]
    return [name for credit in credits for name in credit.organizations]


def save_data_sources(article, repaired, *, new=False) -> list:
    """Make the file's data sources the article's; returns them. ``new``: see ``set_links``."""
    sources = sources_named(data_source_names(repaired), Source.Kind.DATA)
    set_links(article.data_sources, sources, new=new)
    return sources


def set_links(related, rows, *, new=False):
    """``related.set(rows)`` for an article's many-to-many manager (``article.regions``); for an article created in
    this transaction (``new``: it has no links yet, nothing to compare) one INSERT instead (in an import batch, with
    the batch's other new links: ``batch.insert_rows``). That sends no ``m2m_changed``: the new article's own save
    already asked for what those receivers would."""
    if not new:
        related.set(rows)
        return
    through = related.through
    batch.insert_rows(
        through, (through(**{related.source_field_name: related.instance, related.target_field_name: row}) for row in rows),
        later=True)


def detect_regions(text, title, *, context=None):
    """The regions ``text`` is about: named in ``title``, or at least twice, or an area, or the only one named.
    ``context``: an ``ExtractionContext`` whose regions and matcher to use (an import run loads them once)."""
    if context is None:
        from articles.figure_review import ExtractionContext

        context = ExtractionContext(regions=Region.objects.exclude(kind=Region.Kind.COUNTRY), indicators=[])
    regions, names, matcher = context.region_matcher
    counts = count_mentions(text, matcher, names)
    in_title = count_mentions(title, matcher, names)
    chosen = [
        pk for pk, n in counts.most_common()
        if pk in in_title or n >= 2 or regions[pk].kind == Region.Kind.AREA or len(counts) == 1
    ]
    return [regions[pk] for pk in chosen]


def _credit_state(article):
    bylines = list(article.bylines.order_by("order", "pk").values_list("author__name", "role"))
    return bylines, sorted(article.data_sources.values_list("name", flat=True)), article.publisher_id


def reextract_credits(article) -> bool:
    """Run credit extraction again on the article's verbatim source file.

    Rebuilds bylines and data sources, and fills the publisher when one is found. Returns
    True when anything changed. Articles without a source file (written in the admin) are
    left alone. Callers record a revision, so an editor's hand-made bylines can be restored.
    """
    if not article.raw_source:
        return False
    source = read_source_file(article.raw_source.encode("utf-8"), max_bytes=settings.NEWSROOM_MAX_SOURCE_BYTES * 2)
    repaired = repair_body(source.body)
    before = _credit_state(article)
    with transaction.atomic():
        save_bylines(article, repaired)
        save_data_sources(article, repaired)
        publisher = find_publisher(repaired, article.original_url, article.syndicator)
        if publisher is not None and publisher.pk != article.publisher_id:
            article.publisher = publisher
            article.save(update_fields=["publisher", "updated_at"])
    return _credit_state(article) != before
