"""Merge duplicate sources, authors and regions into one row, moving every relation.

Two spellings of one bureau or one person imported twice become one row: ``keep``. Every
foreign key that points at a duplicate is moved to ``keep``, found generically from the
model's meta (``get_fields(include_hidden=True)``, the same walk Django's deletion collector
makes), so a relation added later by a new model is moved too. Many-to-many links are moved
as rows of their through table; a link ``keep`` already has, or one that would link a row to
itself, is dropped rather than duplicated. Names of the duplicates stay as aliases of
``keep``; blank fields of ``keep`` are filled from them; then the duplicates are deleted.

Each function runs in one transaction and returns a ``MergeResult``. Before deleting, it
checks that nothing points at a duplicate any more, so a missed relation rolls the merge back
instead of being cascaded or nulled away. Generic foreign keys (content type + object id) are
not foreign keys and are not followed; none of these models has one.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models, transaction

from articles import page_document
from articles.models import ArticleAuthor, Author, Region, Source

# Measure words for counts ("3 篇文章", "2 张图片"); anything else is counted with 个.
_MEASURE_WORDS = {"articles.article": "篇", "articles.image": "张", "articles.statisticfigure": "条"}
# Labels that read better than "<model>的<field>", keyed by (table, column).
_LABELS = {
    ("articles.articleauthor", "author"): "条署名",
    ("articles.region", "parent"): "个下级地区",
    ("articles.region_members", "to_region"): "个所属区域",
    ("articles.articleimage", "image"): "篇文章的图集",
    ("articles.article", "lead_image"): "篇文章的题图",
    ("taggit.taggeditem", "tag"): "处标记（文章等）",
    ("articles.figurechange", "figure"): "条核实记录",
}


@dataclass
class MergeResult:
    """What a merge did: ``moved`` and ``dropped`` are row counts keyed by relation name
    (``published_articles``, ``bylines``, ``children``...); every relation of the model has a key.
    ``dropped`` counts links ``keep`` already had (or that would have linked a row to itself)."""

    model_name: str
    kept: str
    merged: list[str]
    moved: dict[str, int]
    dropped: dict[str, int]
    labels: dict[str, str] = field(default_factory=dict, repr=False)

    def summary(self) -> str:
        """One line for the editor, e.g. 已合并 2 个来源到「重庆市统计局」：转移 3 篇文章的原发媒体…"""
        text = f"已合并 {len(self.merged)} 个{self.model_name}到「{self.kept}」："
        text += f"转移 {_format_counts(self.moved, self.labels)}" if any(self.moved.values()) else "没有需要转移的关联"
        if any(self.dropped.values()):
            text += f"；去掉重复的 {_format_counts(self.dropped, self.labels)}"
        return text + f"。原名称已记为别名：{'、'.join(self.merged)}。"


@dataclass(frozen=True)
class _Link:
    """One foreign-key column that can point at the merged model."""

    holder: type[models.Model]
    field: models.ForeignKey
    key: str
    label: str


def merge_sources(*, keep: Source, duplicates: Iterable[Source]) -> MergeResult:
    """Merge ``duplicates`` into ``keep``: move articles (publisher, syndicator, data sources),
    figures and any other relation; union domains and aliases (duplicate names become aliases);
    fill keep's blank homepage, producer, url and accessed date; delete the duplicates.

    Raises ValueError if ``duplicates`` is empty or contains ``keep``. ``keep`` is refreshed.
    """
    with transaction.atomic():
        dups = _lock(keep, duplicates)
        result = _move_relations(keep, dups)
        keep.aliases = _union(keep.aliases, *[[d.name, *d.aliases] for d in dups], exclude=[keep.name])
        keep.domains = _union(keep.domains, *[d.domains for d in dups], casefold=True)
        changed = ["aliases", "domains", *_fill_blanks(keep, dups, ["homepage", "producer", "url", "accessed_date"])]
        _finish(keep, dups, changed)
    return result


def merge_authors(*, keep: Author, duplicates: Iterable[Author]) -> MergeResult:
    """Merge ``duplicates`` into ``keep``: move bylines (when keep already has the byline with
    that article and role, the lower order wins and the duplicate's row goes), photographs and
    any other relation; duplicate names and aliases become aliases; a blank bio is filled from
    the duplicates' bios; delete the duplicates.

    Raises ValueError if ``duplicates`` is empty or contains ``keep``. ``keep`` is refreshed.
    """
    with transaction.atomic():
        dups = _lock(keep, duplicates)
        result = _move_relations(keep, dups)
        keep.aliases = _union(keep.aliases, *[[d.name, *d.aliases] for d in dups], exclude=[keep.name])
        changed = ["aliases"]
        if not keep.bio.strip():
            keep.bio = "\n\n".join(d.bio.strip() for d in dups if d.bio.strip())
            changed.append("bio")
        _finish(keep, dups, changed)
    return result


def merge_regions(*, keep: Region, duplicates: Iterable[Region]) -> MergeResult:
    """Merge ``duplicates`` into ``keep``: move articles, figures, children (parent), members and
    areas (both directions; a region never becomes a member of itself) and any other relation;
    duplicate names, short names and aliases become aliases; fill keep's blank code, short name
    and parent; delete the duplicates.

    Raises ValueError if ``duplicates`` is empty or contains ``keep``, or if ``keep`` lies below a
    duplicate (merging a region into its own descendant). ``keep`` is refreshed.
    """
    with transaction.atomic():
        dups = _lock(keep, duplicates)
        for dup in dups:
            if Region.objects.with_descendants(dup).filter(pk=keep.pk).exists():
                raise ValueError(f"不能把地区「{dup}」合并到它的下级地区「{keep}」。")
        result = _move_relations(keep, dups)
        changed = _fill_blanks(keep, dups, ["code", "short_name"])
        if keep.parent_id is None:
            # Children of the duplicates are keep's children now; none of them may become its parent.
            below = set(Region.objects.with_descendants(keep).values_list("pk", flat=True))
            parents = [d.parent_id for d in dups if d.parent_id and d.parent_id not in below | {d.pk for d in dups}]
            if parents:
                keep.parent_id = parents[0]
                changed.append("parent")
        names = [[d.name, d.short_name, *d.aliases] for d in dups]
        keep.aliases = _union(keep.aliases, *names, exclude=[keep.name, keep.short_name])
        _finish(keep, dups, [*changed, "aliases"])
    return result


def relation_counts(instance: models.Model) -> dict[str, int]:
    """How many rows point at ``instance``, per relation (the keys of ``MergeResult.moved``)."""
    return {link.key: _rows(link, [instance.pk]).count() for link in _links(type(instance))}


def describe_relations(instance: models.Model) -> str:
    """``relation_counts`` for people, e.g. "3 篇文章的原发媒体、1 条统计数字的数据来源"."""
    labels = {link.key: link.label for link in _links(type(instance))}
    counts = relation_counts(instance)
    return _format_counts(counts, labels) if any(counts.values()) else "没有关联"


def rows_in_use(instances: Iterable[models.Model]) -> list[tuple[models.Model, str]]:
    """``(row, describe_relations(row))`` for each row that anything still points at: the rows whose
    delete would cascade, null or unlink something (an article's publisher, a picture in a gallery, a
    figure's review history). The admin refuses to delete them (``articles.admin.base``)."""
    used = []
    for instance in instances:
        counts = relation_counts(instance)
        if any(counts.values()):
            labels = {link.key: link.label for link in _links(type(instance))}
            used.append((instance, _format_counts(counts, labels)))
    return used


def _lock(keep, duplicates) -> list:
    """Validate the request, lock the rows and reload them; return the duplicates, by pk."""
    model = type(keep)
    duplicates = list(duplicates)
    if any(type(d) is not model for d in duplicates):
        raise ValueError(f"只能把{model._meta.verbose_name}合并到{model._meta.verbose_name}。")
    dup_pks = {d.pk for d in duplicates}
    if keep.pk is None or None in dup_pks:
        raise ValueError("只能合并已保存的记录。")
    if not dup_pks:
        raise ValueError(f"没有选择要合并到「{keep}」的{model._meta.verbose_name}。")
    if keep.pk in dup_pks:
        raise ValueError(f"「{keep}」既是要保留的{model._meta.verbose_name}，又在要合并的重复项中。")
    locked = list(model._base_manager.select_for_update().filter(pk__in=[keep.pk, *dup_pks]).order_by("pk"))
    if len(locked) != len(dup_pks) + 1:
        raise ValueError(f"有的{model._meta.verbose_name}已经不存在，请刷新后重试。")
    keep.refresh_from_db()
    return [row for row in locked if row.pk != keep.pk]


def _links(model) -> list[_Link]:
    """Every foreign-key column pointing at ``model``, including many-to-many through tables."""
    links = []
    for rel in model._meta.get_fields(include_hidden=True):
        if rel.auto_created and not rel.concrete and (rel.one_to_many or rel.one_to_one):
            links.append(_describe(rel))
    # Report in the order the model declares its relations (through tables come first otherwise).
    order = [rel.get_accessor_name() for rel in model._meta.related_objects] + [f.name for f in model._meta.many_to_many]
    return sorted(links, key=lambda link: order.index(link.key) if link.key in order else len(order))


def _describe(rel) -> _Link:
    holder, fk = rel.related_model, rel.field
    measure = _MEASURE_WORDS.get(holder._meta.label_lower, "个")
    declared_by = holder._meta.auto_created  # the model whose ManyToManyField made this table
    if declared_by:
        m2m = next(f for f in declared_by._meta.many_to_many if f.remote_field.through is holder)
        if fk.name == m2m.m2m_reverse_field_name():  # target side: Article.data_sources -> Source
            measure = _MEASURE_WORDS.get(declared_by._meta.label_lower, "个")
            key = m2m.remote_field.get_accessor_name()
            label = f"{measure}{declared_by._meta.verbose_name}的{m2m.verbose_name}"
        else:  # declared on the merged model itself: Region.members
            key, label = m2m.name, f"个{m2m.verbose_name}"
    else:
        key = f"{holder._meta.label_lower}.{fk.name}" if rel.hidden else rel.get_accessor_name()
        label = f"{measure}{holder._meta.verbose_name}的{fk.verbose_name}"
    return _Link(holder, fk, key, _LABELS.get((holder._meta.label_lower, fk.name), label))


def _rows(link: _Link, pks):
    return link.holder._base_manager.filter(**{f"{link.field.attname}__in": pks})


def _move_relations(keep, dups) -> MergeResult:
    model = type(keep)
    links = _links(model)
    result = MergeResult(
        model_name=model._meta.verbose_name,
        kept=str(keep),
        merged=[str(d) for d in dups],
        moved=dict.fromkeys((link.key for link in links), 0),
        dropped=dict.fromkeys((link.key for link in links), 0),
        labels={link.key: link.label for link in links},
    )
    dup_pks = {d.pk for d in dups}
    for link in links:
        for dup in dups:
            moved, dropped = _move_link(link, keep, dup, dup_pks)
            result.moved[link.key] += moved
            result.dropped[link.key] += dropped
    left = [link.key for link in links if _rows(link, dup_pks).exists()]
    if left:  # a bug, not a user error: refuse to delete rather than cascade or null them away
        raise RuntimeError(f"合并后仍有关联指向被合并的记录：{', '.join(left)}")
    return result


def _move_link(link: _Link, keep, dup, dup_pks) -> tuple[int, int]:
    """Point ``link``'s rows from ``dup`` to ``keep``. Returns (moved, dropped)."""
    holder, fk = link.holder, link.field
    rows = holder._base_manager.filter(**{fk.attname: dup.pk})
    unique_sets = _unique_sets(holder, fk)
    # A through table linking the model to itself (Region.members) must not link keep to keep.
    # Other tables may point at keep twice (an article's publisher and syndicator).
    self_fks = [
        f for f in holder._meta.concrete_fields if f.is_relation and f.related_model is type(keep) and f is not fk
    ] if holder._meta.auto_created else []
    if not unique_sets and not self_fks and holder is not type(keep):
        return rows.update(**{fk.attname: keep.pk}), 0
    moved = dropped = 0
    merged_pks = dup_pks | {keep.pk}
    for row in rows.order_by("pk"):
        if holder is type(keep):  # a self-referencing column on the merged model (Region.parent)
            if row.pk == keep.pk:
                raise ValueError(f"「{keep}」的{fk.verbose_name}是「{dup}」，合并后会指向自己。")
            holder._base_manager.filter(pk=row.pk).update(**{fk.attname: keep.pk})
            moved += row.pk not in dup_pks  # a duplicate's own row is deleted anyway
            continue
        if any(getattr(row, f.attname) in merged_pks for f in self_fks):
            _drop(row, None, link)  # would link keep to itself (a region containing itself)
            dropped += 1
            continue
        twin = _find_twin(row, fk, keep, unique_sets)
        if twin is not None:
            _drop(row, twin, link)
            dropped += 1
            continue
        holder._base_manager.filter(pk=row.pk).update(**{fk.attname: keep.pk})
        moved += 1
    return moved, dropped


def _unique_sets(holder, fk) -> list[tuple[str, ...]]:
    sets = [tuple(fields) for fields in holder._meta.unique_together]
    sets += [tuple(constraint.fields) for constraint in holder._meta.total_unique_constraints]
    if fk.unique:
        sets.append((fk.name,))
    return [fields for fields in sets if fk.name in fields]


def _find_twin(row, fk, keep, unique_sets):
    """The row that ``row`` would collide with once it points at ``keep``, if any."""
    for fields in unique_sets:
        lookup = {}
        for name in fields:
            column = row._meta.get_field(name).attname
            lookup[column] = keep.pk if name == fk.name else getattr(row, column)
        twin = row._meta.model._base_manager.filter(**lookup).exclude(pk=row.pk).first()
        if twin is not None:
            return twin
    return None


def _keep_lower_order(twin: ArticleAuthor, row: ArticleAuthor) -> None:
    if row.order < twin.order:
        twin.order = row.order
        twin.save(update_fields=["order"])


# Rows of these tables may be dropped in favour of keep's equivalent row, after merging what
# differs. Through tables made by a ManyToManyField hold nothing but the link and need no merging.
_RESOLVERS = {ArticleAuthor: _keep_lower_order}


def _drop(row, twin, link: _Link) -> None:
    if not link.holder._meta.auto_created:
        resolve = _RESOLVERS.get(link.holder)
        if resolve is None:
            # Unknown table with its own data: refuse rather than lose a row. Add a resolver.
            raise ValueError(f"无法自动合并{link.holder._meta.verbose_name}「{row}」：保留项已有相同的记录。")
        if twin is not None:
            resolve(twin, row)
    row.delete()


def _union(*lists, exclude=(), casefold=False) -> list[str]:
    """Strings of ``lists`` in first-seen order, without blanks, repeats or ``exclude``."""
    seen = {(value.casefold() if casefold else value) for value in exclude if value}
    out = []
    for values in lists:
        for value in values or []:
            value = (value or "").strip()
            marker = value.casefold() if casefold else value
            if value and marker not in seen:
                seen.add(marker)
                out.append(value)
    return out


def _fill_blanks(keep, dups, names) -> list[str]:
    """Copy each blank field of ``keep`` from the first duplicate that has it; return the names filled."""
    filled = []
    for name in names:
        if getattr(keep, name) in (None, ""):
            value = next((getattr(d, name) for d in dups if getattr(d, name) not in (None, "")), None)
            if value is not None:
                setattr(keep, name, value)
                filled.append(name)
    return filled


def _finish(keep, dups, changed) -> None:
    # Values come from rows already stored; clean only what changed, as a form would.
    keep.clean_fields(exclude={f.name for f in keep._meta.fields} - set(changed))
    type(keep)._base_manager.filter(pk__in=[d.pk for d in dups]).delete()
    keep.save(update_fields=changed)
    # Relations moved by update() send no signals, and a save with nothing to update sends none either.
    page_document.refresh_showing(keep)


def _format_counts(counts: dict[str, int], labels: dict[str, str]) -> str:
    return "、".join(f"{n} {labels[key]}" for key, n in counts.items() if n)
