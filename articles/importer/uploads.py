"""Import files uploaded in the admin and record the run as an ImportRun.

The uploads are written to a fresh temporary folder (one sub-folder per upload, so equal
names never collide and upload order is kept), ``.zip`` archives are unpacked there, and the
folder goes through ``import_paths`` like a folder given to the ``import_articles`` command.
The ImportRun keeps exactly the lines that command prints (``format_result_lines``), with
paths as the editor named them (``archive.zip/foo.md``), never the temporary folder.

Uploads are untrusted input. A Markdown file over ``NEWSROOM_MAX_SOURCE_BYTES`` is a failed
line and is not even written. In an archive, members with an absolute path, ``..``, a control
character or a name part over ``MAX_NAME_BYTES`` are refused (a failed line each, nothing
written for them, never anything outside the temporary folder), and so is a Markdown member over
``NEWSROOM_MAX_SOURCE_BYTES`` (by its header, and by the bytes really read); directories, hidden
files (``.git/``, macOS ``__MACOSX/`` and ``._*`` forks) and members that are not
.md/.markdown/.txt/.ndjson/.jsonl are left out, as a folder given to the command would leave
them out. Names without the UTF-8 flag (0x800) are read as UTF-8, else GBK/GB18030, else cp437.
An archive over ``MAX_ARCHIVE_MEMBERS`` entries (counted from its end record before the member
list is parsed) or ``MAX_ARCHIVE_BYTES`` uncompressed (from the headers, and again counting the
bytes really read), or one that cannot be read, is one failed line and nothing of it is imported.
"""

import os
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path

from django.conf import settings

from articles.importer.frontmatter import ImportFileError, check_source_size
from articles.importer.run import (
    EXPORT_SUFFIXES,
    MARKDOWN_SUFFIXES,
    ImportResult,
    format_result_lines,
    import_paths,
    iter_source_files,
)
from articles.models import ImportRun

IMPORTABLE_SUFFIXES = MARKDOWN_SUFFIXES | EXPORT_SUFFIXES
ARCHIVE_SUFFIX = ".zip"
ACCEPT = ".md,.markdown,.txt,.ndjson,.jsonl,.zip"  # for <input type="file" accept>
MAX_ARCHIVE_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 2000  # entries, files and folders
MAX_NAME_BYTES = 200  # file systems allow 255 bytes per name; leave room
_CHUNK = 64 * 1024
_UTF8_NAME_FLAG = 0x800


class ArchiveRefused(Exception):
    """The whole archive is refused; the message is its failed line's reason."""


def import_uploaded_files(files, *, user=None, publish=False, queue_images=False) -> ImportRun:
    """Import uploaded files (Django ``UploadedFile`` objects) and return the saved ImportRun.

    ``queue_images`` queues a background image download per created or updated article; the
    returned run's ``images_queued`` (not stored) says how many were queued.

    ``publish`` is honoured only without a ``user`` or for one with ``articles.publish_article``;
    otherwise new articles stay drafts. Unsupported and refused files come first in the lines,
    then the imported files in upload order.
    """
    if user is not None and not user.has_perm("articles.publish_article"):
        publish = False
    files = list(files)
    refused, lines = [], []
    with tempfile.TemporaryDirectory(prefix="newsroom-upload-") as tmp:
        root = Path(tmp)
        width = len(str(len(files)))
        for number, upload in enumerate(files, start=1):
            folder = root / f"{number:0{width}d}"
            folder.mkdir()
            refused += _store_upload(upload, folder)

        imported_total = len(list(iter_source_files([root])))
        total = len(refused) + imported_total
        for number, result in enumerate(refused, start=1):
            lines += format_result_lines(result, number, total)

        temp_prefix = re.compile(re.escape(str(root) + os.sep) + r"\d+" + re.escape(os.sep))

        def record(result, number, _total):
            result.path = temp_prefix.sub("", result.path).replace(os.sep, "/")
            result.reason = temp_prefix.sub("", result.reason)
            result.warnings = [temp_prefix.sub("", warning) for warning in result.warnings]
            lines.extend(format_result_lines(result, len(refused) + number, total))

        importer = user if getattr(user, "is_authenticated", False) else None
        report = import_paths([root], publish=publish, on_result=record, user=importer, queue_images=queue_images)

    report.results[:0] = refused
    run = ImportRun.objects.create(
        created_by=user if getattr(user, "is_authenticated", False) else None,
        summary=report.summary()[:300],
        lines=lines,
        failed_count=len(report.failed),
    )
    run.images_queued = sum(result.images_queued for result in report.results)
    return run


def safe_upload_name(name) -> str:
    """The upload's base name, without folders or NUL, shortened (keeping the suffix) if very long."""
    name = str(name or "").replace("\\", "/").rsplit("/", 1)[-1].replace("\x00", "").strip()
    if name in ("", ".", ".."):
        return "upload"
    suffix = Path(name).suffix
    stem = name[: len(name) - len(suffix)]
    while len((stem + suffix).encode()) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return stem + suffix


def _store_upload(upload, folder) -> list[ImportResult]:
    """Write one upload into ``folder`` (unpacking an archive); returns failed results for what was refused."""
    name = safe_upload_name(upload.name)
    suffix = Path(name).suffix.lower()
    if suffix == ARCHIVE_SUFFIX:
        return extract_archive(upload, folder / name, label=name)
    if suffix not in IMPORTABLE_SUFFIXES:
        return [ImportResult(name, "failed", f"unsupported file type {suffix or '(none)'}: upload .md, .txt, .ndjson or .zip")]
    if suffix in MARKDOWN_SUFFIXES and getattr(upload, "size", None) is not None:
        try:
            check_source_size(upload.size, max_bytes=settings.NEWSROOM_MAX_SOURCE_BYTES)
        except ImportFileError as error:
            return [ImportResult(name, "failed", str(error))]
    with (folder / name).open("wb") as out:
        for chunk in upload.chunks() if hasattr(upload, "chunks") else [upload.read()]:
            out.write(chunk)
    return []


def extract_archive(file, target, *, label) -> list[ImportResult]:
    """Unpack the importable members of the zip ``file`` into the folder ``target``.

    Returns a failed result per refused member, named ``label/member``; or, if the archive is
    unreadable or over the limits, a single failed result named ``label`` and nothing unpacked.
    """
    try:
        _check_entry_count(file)
        with zipfile.ZipFile(file) as archive:
            refused, wanted = _select_members(archive, label)
            if sum(info.file_size for info, _ in wanted) > MAX_ARCHIVE_BYTES:
                raise ArchiveRefused(_too_large())
            budget = MAX_ARCHIVE_BYTES
            for info, parts in wanted:
                destination = target.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                limit, read = _member_limit(parts), 0
                with archive.open(info) as source, destination.open("xb") as out:
                    while chunk := source.read(_CHUNK):
                        read += len(chunk)
                        budget -= len(chunk)
                        if budget < 0:  # the header understated the size: a zip bomb, or corrupt
                            raise ArchiveRefused(_too_large())
                        if read > limit:
                            break
                        out.write(chunk)
                if read > limit:  # more than its header said: refuse the member, keep nothing of it
                    destination.unlink()
                    refused.append(ImportResult(f"{label}/{'/'.join(parts)}", "failed",
                                                f"file is over the limit of {limit:,} bytes; not extracted"))
        return refused
    except ArchiveRefused as error:
        reason = str(error)
    except UnicodeDecodeError:  # zipfile decodes names flagged UTF-8 (0x800) strictly
        reason = "not a readable zip archive: a file name is marked as UTF-8 but is not; nothing imported from it"
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError, ValueError) as error:
        # RuntimeError: an encrypted member; NotImplementedError: an unsupported compression method
        reason = f"not a readable zip archive: {error}"
    except OSError as error:  # strerror only: the full message would name the temporary folder
        reason = f"could not unpack the archive: {error.strerror or type(error).__name__}"
    shutil.rmtree(target, ignore_errors=True)
    return [ImportResult(label, "failed", reason)]


def _too_large():
    return f"archive too large: over {MAX_ARCHIVE_BYTES / (1024 * 1024):g} MB uncompressed; nothing imported from it"


def _too_many(count):
    return (f"too many files in archive: {count} files and folders, the limit is {MAX_ARCHIVE_MEMBERS}; "
            "nothing imported from it")


def _check_entry_count(file):
    """Refuse an archive whose end record lists more than MAX_ARCHIVE_MEMBERS entries, before zipfile
    builds an object for each (a small upload can list hundreds of thousands). ``_EndRecData`` is the
    reader zipfile itself uses (Zip64 included); an archive without an end record is left to zipfile."""
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:
        return
    file.seek(0)
    record = end_record(file)
    file.seek(0)
    if record and record[zipfile._ECD_ENTRIES_TOTAL] > MAX_ARCHIVE_MEMBERS:
        raise ArchiveRefused(_too_many(record[zipfile._ECD_ENTRIES_TOTAL]))


def _member_limit(parts) -> int:
    """The most bytes a member may unpack to: a Markdown file's own limit; a dump, the archive's."""
    if Path(parts[-1]).suffix.lower() in MARKDOWN_SUFFIXES:
        return settings.NEWSROOM_MAX_SOURCE_BYTES
    return MAX_ARCHIVE_BYTES


def _select_members(archive, label):
    """(refused results, [(info, safe path parts)]) for the archive's members worth unpacking."""
    entries = archive.infolist()
    if len(entries) > MAX_ARCHIVE_MEMBERS:
        raise ArchiveRefused(_too_many(len(entries)))
    refused, wanted, seen = [], [], set()
    for info in entries:
        if info.is_dir():
            continue
        name = _member_name(info)
        parts = _safe_parts(name)
        shown = _printable(name)
        if parts is None:
            refused.append(ImportResult(f"{label}/{shown}", "failed", "unsafe path in archive (absolute or '..'): not extracted"))
        elif parts[0] == "__MACOSX" or any(part.startswith(".") for part in parts):
            continue  # hidden files and macOS resource forks (._name.md), not articles
        elif Path(parts[-1]).suffix.lower() not in IMPORTABLE_SUFFIXES:
            continue
        elif any(_is_control(char) for char in name):
            refused.append(ImportResult(f"{label}/{shown}", "failed", "control character in the file name: not extracted"))
        elif any(len(part.encode()) > MAX_NAME_BYTES for part in parts):
            refused.append(ImportResult(f"{label}/{shown[:MAX_NAME_BYTES]}…", "failed",
                                        f"file or folder name over {MAX_NAME_BYTES} bytes: not extracted"))
        elif info.file_size > _member_limit(parts):
            refused.append(ImportResult(f"{label}/{'/'.join(parts)}", "failed",
                                        f"file is {info.file_size:,} bytes, over the limit of {_member_limit(parts):,} "
                                        "bytes; not extracted"))
        elif tuple(parts) in seen:
            refused.append(ImportResult(f"{label}/{'/'.join(parts)}", "failed", "the archive holds two files of this name"))
        else:
            seen.add(tuple(parts))
            wanted.append((info, parts))
    return refused, wanted


def _member_name(info) -> str:
    """The member's name as its author wrote it. Without the UTF-8 flag, zipfile reads names as
    cp437; Chinese Windows tools write GBK there, and some tools UTF-8 without setting the flag."""
    if info.flag_bits & _UTF8_NAME_FLAG:
        return info.filename
    raw = info.filename.encode("cp437")
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return info.filename


def _is_control(char) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf") and char != "\u200d"  # \u200d: emoji joiner


def _printable(name) -> str:
    """The name as a failed line may show it: control characters (a newline would fake a line) as escapes."""
    return "".join(char.encode("unicode_escape").decode() if _is_control(char) else char for char in name)


def _safe_parts(name):
    """The member's path as a list of folder and file names, or None if it is absolute or leaves the folder."""
    name = name.replace("\\", "/")
    if "\x00" in name or name.startswith("/") or re.match(r"[A-Za-z]:", name):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return parts
