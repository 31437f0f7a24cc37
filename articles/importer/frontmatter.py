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


def decode_bytes(data: bytes, *, max_bytes: int) -> tuple[str, str]:
    """Return (text, encoding). UTF-8 first; GB18030 (a superset of GBK) when UTF-8 fails."""
    if len(data) > max_bytes:
        raise ImportFileError(f"file is {len(data):,} bytes, over the limit of {max_bytes:,} bytes")
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
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise ImportFileError("front matter is not a mapping of keys to values")
    return meta, text[second.end() :]


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
        return value if value.tzinfo else value.replace(tzinfo=CHINA_TZ)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=CHINA_TZ)
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
    return parsed
