"""Statistic figures from the text to the public: extract candidates, then editors review them.

``extract_candidates(article)`` runs the pure extractor (``articles.extraction.figures``) on the
article's plain body text with the article's context (date, regions, data sources, every known
region) and stores what it finds as *candidates*: region slugs become ``Region`` rows, source
names the article's data ``Source``, indicator phrases the vocabulary entry (``standard``).

``verify``, ``reject``, ``reopen`` and ``correct`` are the editor's steps (``review`` does one
figure). Each records a ``FigureChange`` (who, when, which fields: ``{field: [old, new]}``) and
stamps ``reviewed_by``/``reviewed_at``; a correction also sets ``corrected``. Only verified figures
are public (the article page, the figure pages and the API read ``status``), so reviewing needs
the editor role: see ``can_review``.

What extraction never touches: a *reviewed* figure, i.e. one verified or rejected, corrected, or
with any recorded change (a reopened one too). Re-running extraction keeps it as it is (a rejected
figure is not recreated as a new candidate) and only replaces the unreviewed candidates.

The admin (``articles/admin/figures.py``), the importer and ``manage.py extract_figures`` call
these functions; nothing here knows about forms or requests.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property

from django.db import models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from articles.extraction.figures import extract_figures, prepare_regions
from articles.extraction.regions import build_matcher
from articles.importer.batch import insert_rows
from articles.models import FigureChange, Indicator, Region, Source, StatisticFigure
from articles.page_document import deferred_refresh
from articles.workflow import PUBLISH_PERMISSION

Status = StatisticFigure.Status
Action = FigureChange.Action

# Verifying a figure publishes it, so it takes what publishing an article takes. Contributors hold
# change_statisticfigure (migration 0004) to keep their drafts' figures; that alone is not enough.
REVIEW_PERMISSIONS = ("articles.change_statisticfigure", PUBLISH_PERMISSION)
# What an editor may correct; the quote, its offsets and the number as written are the text's.
CORRECTABLE_FIELDS = (
    "value", "value_end", "unit", "indicator", "standard", "period", "region", "source", "direction", "is_approximate",
)
_STATUS_ACTIONS = {Status.VERIFIED: Action.VERIFIED, Status.REJECTED: Action.REJECTED, Status.CANDIDATE: Action.REOPENED}
_MAX_VALUE = Decimal(10) ** 24  # StatisticFigure.value: 30 digits, 6 of them decimals
_SIX_PLACES = Decimal("0.000001")
# Verbs the extractor sometimes leaves in front of an indicator (完成规模以上工业增加值).
_LEADING_VERBS = ("完成", "实现", "全年")


def can_review(user) -> bool:
    """May ``user`` verify, correct, reject or reopen figures? Editors (and superusers) only."""
    return bool(user is not None and user.is_active and user.has_perms(REVIEW_PERMISSIONS))


def _require_reviewer(user):
    if not can_review(user):
        raise PermissionError("只有编辑可以核实、更正或否决统计数字。")


# --- extraction --------------------------------------------------------------------------------------------


class ExtractionContext:
    """What extraction looks up for every article: the known regions and the indicator vocabulary.

    ``load()`` reads them once; pass it to ``extract_candidates`` when extracting many articles.
    """

    def __init__(self, *, regions, indicators, sources=()):
        self.regions = list(regions)
        # (name, aliases) of every source: which source a data-source credit names (source_names()).
        self._source_by_alias = {}
        self._source_names = set()
        for name, aliases in sources:
            self._source_names.add(name)
            for alias in aliases or ():
                self._source_by_alias.setdefault(alias, name)
        self._by_slug = {region.slug: region for region in self.regions}
        self._by_name = {}
        for region in self.regions:
            for name in region.match_names():
                self._by_name.setdefault(name, region)
        # Indicator.objects.matching's rule (name or alias, spaces and case ignored; the first entry
        # by name wins), over the entries loaded once instead of one query per phrase.
        self._by_key = {}
        for entry in sorted(indicators, key=lambda entry: entry.name):
            for key in entry.keys():
                self._by_key.setdefault(key, entry)

    @classmethod
    def load(cls):
        return cls(regions=Region.objects.all(), indicators=Indicator.objects.all(),
                   sources=Source.objects.values_list("name", "aliases"))

    def source_names(self, names) -> list:
        """The names of the sources ``names`` credit, as ``attribution.sources_named`` finds them (a source's name,
        else that of the first source, in the sources' order, with it as an alias, else the name of the source it
        creates), each once, sorted."""
        keys = [key for key in map(Source.clean_name, names) if key]
        return sorted({key if key in self._source_names else self._source_by_alias.get(key, key) for key in keys})

    @cached_property
    def region_matcher(self):
        """``(regions by pk, {name: pk}, matcher)`` of the regions below the country, for the importer's region
        detection (``attribution.detect_regions``): built once per context instead of once per article."""
        regions = {region.pk: region for region in self.regions if region.kind != Region.Kind.COUNTRY}
        names = {}
        for region in regions.values():
            for name in region.match_names():
                names.setdefault(name, region.pk)
        return regions, names, build_matcher(names)

    @cached_property
    def known_regions(self):
        """Every region, read once for the extractor (``prepare_regions``)."""
        return prepare_regions(self.regions)

    def region(self, key: str):
        """The Region for the extractor's region key: a slug, else a place as written (when we know it)."""
        return (self._by_slug.get(key) or self._by_name.get(key)) if key else None

    def indicator(self, phrase: str):
        """The vocabulary entry for ``phrase``, else for it without a leading verb or trailing
        punctuation that the extractor sometimes leaves on (完成规模以上工业增加值, GDP、); or None."""
        return next((self._by_key[key] for key in _phrase_keys(phrase) if key in self._by_key), None)


def _phrase_keys(phrase: str) -> list[str]:
    key = "".join((phrase or "").split()).casefold()  # the key of Indicator.keys()
    keys = [key]
    trimmed = key.strip("、，,。；;：:（）()")
    for verb in _LEADING_VERBS:
        trimmed = trimmed.removeprefix(verb)
    if trimmed != key:
        keys.append(trimmed)
    return [k for k in keys if k]


@dataclass
class ExtractionResult:
    """What ``extract_candidates`` did to one article's figures."""

    slug: str
    found: int = 0  # candidates the extractor returned
    created: int = 0  # new candidate rows
    updated: int = 0  # unreviewed candidates found again, with new details
    unchanged: int = 0  # unreviewed candidates found again as they were
    removed: int = 0  # unreviewed candidates no longer found (deleted)
    kept: int = 0  # reviewed figures in place in the text: left as the editor left them
    moved: int = 0  # reviewed figures whose sentence moved in an edited text: offsets updated
    stale: int = 0  # reviewed figures whose sentence is no longer in the text: kept, for the editor to see
    skipped: list = field(default_factory=list)  # candidates that cannot be stored (value out of range)

    def line(self) -> str:
        parts = [f"{self.found} found", f"{self.created} new", f"{self.updated} updated", f"{self.removed} removed",
                 f"{self.kept + self.moved} reviewed kept"]
        if self.stale:
            parts.append(f"{self.stale} reviewed no longer in the text")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        return f"{self.slug}: " + ", ".join(parts)


def extract_candidates(article, *, context: ExtractionContext | None = None, regions=None, sources=None, figures=None,
                       new=False) -> ExtractionResult:
    """Extract the figures of ``article`` (its ``body_text``) and store them as candidates.

    An import passes what it has at hand: the article's ``regions`` and data ``sources`` (else read from the
    database), the ``figures`` it extracted beforehand with those sources' names, sorted (else extracted now), and
    ``new`` when it created the article in this transaction (it has no figures yet: none are read).

    Unreviewed candidates are replaced: found again, they are updated in place (same id); not found
    again, deleted. Reviewed figures (see the module docstring) are never deleted or overwritten, and a
    candidate for the same number (same number as written, inside the figure's quote) is not stored.
    When an edited text moved a reviewed figure's sentence, its offsets follow it (recorded as an
    'edited' change without a user). Returns an ``ExtractionResult``.
    """
    context = context or ExtractionContext.load()
    # By name, in Python's order whatever the database's collation: the first named in a sentence is its source.
    sources = sorted(article.data_sources.all() if sources is None else sources, key=lambda source: source.name)
    text = article.body_text or ""
    candidates = figures if figures is not None else extract_figures(
        text,
        published_at=article.published_at,
        regions=list(article.regions.all()) if regions is None else regions,
        data_sources=[source.name for source in sources],
        known_regions=context.known_regions,
    )
    source_named = {name: source for source in sources for name in [source.name, *(source.aliases or [])]}
    result = ExtractionResult(slug=article.slug, found=len(candidates))
    with transaction.atomic(savepoint=False), deferred_refresh():  # no caller goes on after an error
        figures = [] if new else list(
            StatisticFigure.objects.filter(article=article)
            .annotate(has_changes=Exists(FigureChange.objects.filter(figure=OuterRef("pk"))))
            .select_for_update()
            .order_by("start_offset", "pk")
        )
        reviewed = [f for f in figures if _is_reviewed(f)]
        in_place = [f for f in reviewed if text[f.start_offset : f.end_offset] == f.quote]
        elsewhere = [f for f in reviewed if f not in in_place]
        open_rows = [f for f in figures if not _is_reviewed(f)]
        to_create, changed = [], []
        for candidate in candidates:
            values = _figure_values(candidate, context, source_named)
            if values is None:
                result.skipped.append(candidate)
                continue
            if _take(in_place, lambda f, c=candidate: _same_number(f, c)):
                pass  # an editor's figure: left as it is
            elif moved := _take(elsewhere, lambda f, c=candidate: f.value_text == c.value_text and f.quote == c.quote):
                _move(moved, candidate)
                result.moved += 1
            elif row := _take(open_rows, lambda f, v=values: _same_place(f, v)):
                if _assign(row, values):
                    row.updated_at = timezone.now()  # bulk_update() does not apply auto_now
                    changed.append(row)
                    result.updated += 1
                else:
                    result.unchanged += 1
            else:
                to_create.append(StatisticFigure(article=article, **values))
        result.stale = len(elsewhere)
        result.kept = len(reviewed) - result.moved - result.stale
        result.removed = len(open_rows)
        if open_rows:
            StatisticFigure.objects.filter(pk__in=[f.pk for f in open_rows]).delete()
        if changed:
            StatisticFigure.objects.bulk_update(changed, [*_EXTRACTED_FIELDS, "updated_at"])
        # A new article's candidates may wait for the other new articles' of an import batch: nothing reads them before.
        result.created = insert_rows(StatisticFigure, to_create, later=new)
    return result


_EXTRACTED_FIELDS = (
    "indicator", "value", "value_end", "value_text", "unit", "magnitude", "direction", "is_approximate", "period",
    "region_id", "source_id", "standard_id", "quote", "start_offset", "end_offset",
)


def _is_reviewed(figure) -> bool:
    return (
        figure.status != Status.CANDIDATE or figure.corrected or figure.reviewed_at is not None
        or getattr(figure, "has_changes", False)
    )


def _take(rows: list, test):
    """Remove and return the first row of ``rows`` that passes ``test``, or None."""
    for i, row in enumerate(rows):
        if test(row):
            return rows.pop(i)
    return None


def _same_number(figure, candidate) -> bool:
    """The same number as written, inside the figure's quote (the extractor may have cut the clause anew)."""
    return (
        figure.value_text == candidate.value_text
        and figure.start_offset <= candidate.number_start
        and candidate.number_end <= figure.end_offset
    )


def _same_place(figure, values) -> bool:
    return (figure.start_offset, figure.end_offset, figure.value_text) == (
        values["start_offset"], values["end_offset"], values["value_text"]
    )


def _figure_values(candidate, context, source_named) -> dict | None:
    value, value_end = _stored_decimal(candidate.value), _stored_decimal(candidate.value_end)
    if value is None or (candidate.value_end is not None and value_end is None):
        return None
    region = context.region(candidate.region)
    source = source_named.get(candidate.source)
    standard = context.indicator(candidate.indicator)
    return {
        "indicator": candidate.indicator[:200],
        "value": value,
        "value_end": value_end,
        "value_text": candidate.value_text[:100],
        "unit": candidate.unit[:30],
        "magnitude": candidate.magnitude,
        "direction": candidate.direction,
        "is_approximate": candidate.approximate,
        "period": candidate.period[:50],
        "region_id": region.pk if region else None,
        "source_id": source.pk if source else None,
        "standard_id": standard.pk if standard else None,
        "quote": candidate.quote,
        "start_offset": candidate.start,
        "end_offset": candidate.end,
    }


def _stored_decimal(value):
    """``value`` as the database stores it (6 decimal places), or None when it does not fit."""
    if value is None:
        return None
    try:
        stored = Decimal(value).quantize(_SIX_PLACES)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return stored if abs(stored) < _MAX_VALUE else None


def _assign(row, values) -> bool:
    """Copy ``values`` onto ``row``; True when anything differed."""
    differs = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            differs = True
    return differs


def _move(figure, candidate):
    changes = {"start_offset": [figure.start_offset, candidate.start], "end_offset": [figure.end_offset, candidate.end]}
    figure.start_offset, figure.end_offset = candidate.start, candidate.end
    figure.save(update_fields=["start_offset", "end_offset", "updated_at"])
    FigureChange.objects.create(figure=figure, user=None, action=Action.EDITED, changes=changes)


# --- review ------------------------------------------------------------------------------------------------


def review(figure, *, user, status=None, **changes) -> list[FigureChange]:
    """Apply an editor's corrections (``changes``, fields of CORRECTABLE_FIELDS) and new ``status``.

    Records one FigureChange per step: 'corrected' with the fields whose value changed, then the
    status change ('verified', 'rejected', or 'reopened' back to candidate). Sets ``reviewed_by``,
    ``reviewed_at``, and ``corrected`` when a field changed. Returns the changes recorded: none when
    nothing changed (the figure is then not saved). Raises PermissionError for a non-editor,
    ValueError for a field that cannot be corrected, ValidationError for an invalid value.
    """
    _require_reviewer(user)
    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ValueError(f"not a correctable field: {', '.join(sorted(unknown))}")
    diff = {}
    for name, new in changes.items():
        old = getattr(figure, name)
        if not _same_value(old, new):
            diff[name] = [_as_json(old), _as_json(new)]
            setattr(figure, name, new)
    if diff:
        figure.full_clean(exclude=[f.name for f in StatisticFigure._meta.fields if f.name not in diff])
    records = []
    if diff:
        figure.corrected = True
        records.append(FigureChange(figure=figure, user=user, action=Action.CORRECTED, changes=diff))
    if status is not None and status != figure.status:
        records.append(FigureChange(figure=figure, user=user, action=_STATUS_ACTIONS[Status(status)],
                                    changes={"status": [figure.status, status]}))
        figure.status = status
    if not records:
        return []
    figure.reviewed_by = user
    figure.reviewed_at = timezone.now()
    with transaction.atomic():
        figure.save(update_fields=[*diff, "status", "corrected", "reviewed_by", "reviewed_at", "updated_at"])
        FigureChange.objects.bulk_create(records)
    return records


def correct(figure, *, user, **changes) -> FigureChange | None:
    """Correct fields of one figure (see ``review``); its status stays. Returns the change, or None."""
    records = review(figure, user=user, **changes)
    return records[0] if records else None


def verify(figures, *, user) -> list[StatisticFigure]:
    """Verify ``figures`` (a queryset or figures): they become public. Returns those that changed."""
    return _set_status(figures, Status.VERIFIED, user=user)


def reject(figures, *, user) -> list[StatisticFigure]:
    """Reject ``figures``: not a figure, or not worth keeping. Extraction will not offer them again."""
    return _set_status(figures, Status.REJECTED, user=user)


def reopen(figures, *, user) -> list[StatisticFigure]:
    """Send verified or rejected ``figures`` back to review (candidate); they stay reviewed for extraction."""
    return _set_status(figures, Status.CANDIDATE, user=user)


def _set_status(figures, status, *, user):
    _require_reviewer(user)
    if isinstance(figures, models.QuerySet):
        ids = figures.values("pk")
    else:
        ids = [figure.pk for figure in figures]
    changed = []
    # A fresh queryset: the admin's may carry joins that FOR UPDATE refuses on PostgreSQL.
    rows = StatisticFigure.objects.filter(pk__in=ids).exclude(status=status).order_by("pk")
    with transaction.atomic(), deferred_refresh():
        for figure in rows.select_for_update():
            review(figure, user=user, status=status)
            changed.append(figure)
    return changed


def record_addition(figure, *, user) -> FigureChange:
    """Save a figure an editor entered by hand: it counts as corrected (extraction never replaces it)."""
    _require_reviewer(user)
    figure.corrected = True
    figure.reviewed_by = user
    figure.reviewed_at = timezone.now()
    with transaction.atomic():
        figure.save()
        filled = {
            name: [None, _as_json(getattr(figure, name))]
            for name in (*CORRECTABLE_FIELDS, "status")
            if getattr(figure, name) not in (None, "")
        }
        return FigureChange.objects.create(figure=figure, user=user, action=Action.EDITED, changes=filled)


def _same_value(old, new) -> bool:
    if isinstance(old, models.Model) or isinstance(new, models.Model):
        return getattr(old, "pk", None) == getattr(new, "pk", None)
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        if old is None or new is None or new == "":
            return old is None and new in (None, "")
        try:
            return Decimal(str(old)) == Decimal(str(new))
        except InvalidOperation:
            return False
    return old == new


def _as_json(value):
    """A value as FigureChange.changes keeps it: numbers as plain decimal strings, rows by name."""
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value
