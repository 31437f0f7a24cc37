"""Read a Hexo-style Markdown file: decode its bytes, split and validate the YAML front matter.

Owns: encodings (UTF-8, else GB18030 when it decodes cleanly), NUL rejection, the size
limit, the ``---`` fences, YAML errors with the file's own line number, and dates.
Leaves HTML to ``syndicated.py``.

Dates: RFC 2822 (``Sun, 31 Jul 2022 22:26:46 GMT``) and ISO 8601 are accepted. A date
without a zone, or with ``CST``, is China Standard Time (UTC+8): these sources are Chinese
and CST there never means US Central time. A missing date stays missing (``None``): it is
never invented.
"""

import datetime as dt
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import yaml

CHINA_TZ = ZoneInfo("Asia/Shanghai")


class ImportFileError(Exception):
    """A file that cannot be imported; the message says why, for the editor."""


@dataclass
class SourceFile:
    text: str  # the whole file, decoded, verbatim
    encoding: str
    meta: dict = field(default_factory=dict)
    body: str = ""


def check_source_size(size: int, *, max_bytes: int) -> None:
    """Refuse a Markdown file of ``size`` bytes over ``max_bytes`` (``NEWSROOM_MAX_SOURCE_BYTES``); callers that
    know the size before reading (a file's stat, an upload, a zip member's header) check here first."""
    if size > max_bytes:
        raise ImportFileError(f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes")


def decode_bytes(data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 first; GB18030 (a superset of GBK) when UTF-8 fails."""
    check_source_size(len(data), max_bytes=max_bytes)
    if b"\x00" in data[:4] and (data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[1:2] == b"\x00"):
        raise ImportFileError("file looks like UTF-16; save it as UTF-8")
    try:
        text, encoding = data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as utf8_error:
        try:
            text, encoding = data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            raise ImportFileError(
                f"not UTF-8 (invalid byte at position {utf8_error.start}) and not GBK/GB18030 either"
            ) from None
        if not re.search(r"[\u4e00-\u9fff]", text):
            raise ImportFileError(f"not UTF-8 (invalid byte at position {utf8_error.start})") from None
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ImportFileError(f"contains a NUL character (line {line}); PostgreSQL cannot store it")
    return text, encoding


_FENCE = re.compile(r"^---[ \t]*\r?$", re.MULTILINE)  # \r?: files saved with CRLF line ends


def split_front_matter(text: str) -> tuple[dict, str]:
    """Return (meta, body). The front matter is the YAML between the first two ``---`` lines."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("---"):
        raise ImportFileError("no front matter: the file must start with a '---' line")
    first = _FENCE.search(text)
    second = _FENCE.search(text, first.end()) if first else None
    if not first or not second:
        raise ImportFileError("front matter is not closed: no second '---' line")
    yaml_text = text[first.end() : second.start()]
    offset_lines = text.count("\n", 0, first.end())
    try:
        meta = yaml.load(yaml_text, Loader=yaml.CSafeLoader) if hasattr(yaml, "CSafeLoader") else yaml.safe_load(yaml_text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + offset_lines + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ImportFileError(f"invalid YAML in front matter{where}: {problem}") from None
    except (ValueError, OverflowError) as error:  # a well-formed scalar of an impossible value: date 2022-13-01
        raise ImportFileError(f"invalid value in front matter: {error}") from None
    except (TypeError, AttributeError):  # PyYAML's own slip on some explicit tags (!!timestamp x)
        raise ImportFileError("invalid value in front matter (an explicit !!tag that does not fit)") from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ImportFileError("front matter is not a mapping of keys to values")
    if _expanded_size(meta, limit=2 * len(yaml_text) + 1000) is None:
        raise ImportFileError("front matter repeats YAML aliases (*name) far beyond its own size")
    return meta, text[second.end() :]


def _expanded_size(value, *, limit: int) -> int | None:
    """Values plus characters of ``value`` with every YAML alias counted as a copy, or None past ``limit``.

    Without aliases this stays within about twice the YAML's length. With them a few hundred bytes expand to
    billions of values ("billion laughs") the moment anything prints or copies the meta, and a value can even
    hold itself (``&a [*a]``): such front matter is refused here, before anyone walks it.
    """
    pending, size = [value], 0
    while pending:
        item = pending.pop()
        size += 1 + (len(item) if isinstance(item, str | bytes) else 0)
        if size > limit:
            return None
        if isinstance(item, dict):
            pending += [*item.keys(), *item.values()]
        elif isinstance(item, list | tuple | set):
            pending += item
    return size


def read_source_file(data: bytes, *, max_bytes: int) -> SourceFile:
    text, encoding = decode_bytes(data, max_bytes=max_bytes)
    meta, body = split_front_matter(text)
    return SourceFile(text=text, encoding=encoding, meta=meta, body=body)


_CST = re.compile(r"\s(?:CST|Asia/Shanghai|Beijing|北京时间)\s*$", re.IGNORECASE)


def parse_date(value) -> dt.datetime | None:
    """Return an aware datetime for a front-matter date, or None when there is none.

    Raises ImportFileError for a value that is present but unreadable.
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return _storable(value if value.tzinfo else value.replace(tzinfo=CHINA_TZ), value)
    if isinstance(value, dt.date):
        return _storable(dt.datetime(value.year, value.month, value.day, tzinfo=CHINA_TZ), value)
    text = str(value).strip()
    china = bool(_CST.search(text))
    if china:
        text = _CST.sub("", text)
    parsed = None
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
            if parsed.tzinfo is None and text.endswith("-0000"):  # RFC 2822: UTC, sender's zone unknown
                parsed = parsed.replace(tzinfo=dt.UTC)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        raise ImportFileError(f"unreadable date {str(value)!r}: use RFC 2822 or ISO 8601")
    if parsed.tzinfo is None or china:
        parsed = parsed.replace(tzinfo=CHINA_TZ)
    return _storable(parsed, value)


def _storable(parsed: dt.datetime, value) -> dt.datetime:
    """``parsed``, if it has a time in UTC (saving it) and in China (showing it): 0001-01-01 in UTC+8 falls before
    year 1 in UTC, 9999-12-31 23:00 UTC after year 9999 in China."""
    try:
        parsed.astimezone(dt.UTC).astimezone(CHINA_TZ)
    except OverflowError:
        raise ImportFileError(f"date {str(value)!r} is out of range") from None
    return parsed
