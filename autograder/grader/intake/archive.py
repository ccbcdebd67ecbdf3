"""Unpacking an LMS download (.zip) so that every entry is either extracted inside the folder or named.

Nothing is ever written outside the extraction folder: an entry whose name leaves it (`../../x.ipynb`,
`/tmp/y.ipynb`), a symbolic link, an encrypted or corrupt entry, or one too large to be anybody's notebook is not
extracted, and a warning names it and says so. Each extracted file keeps its entry's time (as `unzip` does), and
the time is kept for the record: exact when the entry carries Info-ZIP's UTC time field, else the zip's local
date and time without a zone (the deadlines' zone reads it).
"""

import os
import stat
import struct
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from autograder.grader.core.files import replacing
from autograder.grader.intake.junk import is_junk

MAX_ENTRY_BYTES = 256 * 2**20  # far above any notebook of this course (a notebook over 20 MiB is refused anyway)
UNIX_TIME_FIELD = 0x5455  # Info-ZIP's "extended timestamp": flags, then the modification time as Unix seconds
UTF8_FLAG = 0x800


class ArchiveError(ValueError):
    """The download is not a zip that can be read at all."""


@dataclass
class Unpacked:
    folder: Path  # the folder to read submissions from
    warnings: list = field(default_factory=list)  # every entry not extracted, and why
    times: dict = field(default_factory=dict)  # extracted file (resolved Path) -> its entry's time, ISO 8601
    refused: dict = field(default_factory=dict)  # entry's path inside the folder (PurePosixPath) -> why it was not extracted


def refused_path(name, outside):
    """The path inside the extraction folder that a refused entry's name stands for, so that it is somebody's row by
    the same rules as an extracted file: its own path, or for a name that would leave the folder (a leading /, a
    drive, ..) its file name alone. None for a name with no file name."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", "..", ".") and not p.endswith(":")]
    if not parts:
        return None
    return PurePosixPath(parts[-1]) if outside else PurePosixPath(*parts)


def _entry_name(info):
    """The entry's name as its author wrote it: zips from macOS store UTF-8 without saying so (zipfile reads cp437)."""
    name = info.filename
    if not info.flag_bits & UTF8_FLAG:
        try:
            name = name.encode("cp437").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return unicodedata.normalize("NFC", name.replace("\\", "/"))  # some Windows tools wrote backslashes


def _unix_time(extra):
    """The UTC modification time in Info-ZIP's extended timestamp field of extra, or None."""
    while len(extra) >= 4:
        kind, size = struct.unpack("<HH", extra[:4])
        data, extra = extra[4 : 4 + size], extra[4 + size :]
        if kind == UNIX_TIME_FIELD and len(data) >= 5 and data[0] & 1:
            return struct.unpack("<i", data[1:5])[0]
    return None


def entry_time(info):
    """(ISO 8601 text, Unix time) of a zip entry: aware UTC from the extended field, else the naive local time."""
    unix = _unix_time(info.extra)
    if unix is not None:
        return datetime.fromtimestamp(unix, UTC).isoformat(), unix
    local = datetime(*info.date_time)
    return local.isoformat(), time.mktime(local.timetuple())  # as unzip does: the zip's time is this machine's


def _refusal(info, name, target, root):
    """Why this entry must not be extracted, or ""."""
    if stat.S_ISLNK(info.external_attr >> 16):
        return "is a symbolic link: not followed, not extracted"
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in Path(name).parts:
        return "would land outside the extraction folder: not extracted, not graded"
    if root not in target.parents:
        return "would land outside the extraction folder: not extracted, not graded"
    if info.flag_bits & 0x1:
        return "is encrypted: not extracted, not graded"
    if info.file_size > MAX_ENTRY_BYTES:
        return f"is {info.file_size // 2**20} MiB, more than any notebook: not extracted, not graded"
    return ""


def _extract(bundle, info, target, unpacked, archive):
    try:
        with replacing(target) as partial, bundle.open(info) as source, open(partial, "wb") as sink:
            while chunk := source.read(2**20):
                sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, EOFError) as error:
        unpacked.warnings.append(f"{archive}: entry {info.filename!r} cannot be extracted ({error}): not graded")
        unpacked.refused[refused_path(_entry_name(info), False)] = f"its entry in {archive} cannot be extracted ({error})"
        return
    text, unix = entry_time(info)
    os.utime(target, (unix, unix))
    unpacked.times[target.resolve()] = text


def extract_zip(archive, into):
    """Unpack the LMS download at archive into the folder into; an Unpacked says what to read and what was left."""
    root = Path(into).resolve()
    root.mkdir(parents=True, exist_ok=True)
    unpacked, seen = Unpacked(root), {}
    try:
        bundle = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise ArchiveError(f"{archive} is not a zip that can be read ({error})") from None
    with bundle:
        for info in bundle.infolist():
            name = _entry_name(info)
            target = (root / name).resolve() if not name.startswith(("/", "\\")) else Path(name)
            why = _refusal(info, name, target, root)
            if why:
                unpacked.warnings.append(f"{Path(archive).name}: entry {name!r} {why}")
                where = refused_path(name, "outside the extraction folder" in why)
                if where is not None and not info.is_dir():
                    unpacked.refused[where] = f"its entry {name!r} in {Path(archive).name} {why}"
            elif info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                if target in seen:
                    unpacked.warnings.append(f"{Path(archive).name}: entry {name!r} appears twice: the later one is kept")
                seen[target] = name
                _extract(bundle, info, target, unpacked, Path(archive).name)
    unpacked.folder = _wrapped(root)
    if unpacked.folder != root:  # the refused entries' paths, like the others, inside the wrapping folder
        wrapper = unpacked.folder.name
        unpacked.refused = {
            (p.relative_to(wrapper) if p.parts[0] == wrapper and len(p.parts) > 1 else p): why for p, why in unpacked.refused.items()
        }
    return unpacked


def _wrapped(root):
    """The one folder that wraps the class's files (a zip of a folder), else root."""
    entries = [p for p in root.iterdir() if not is_junk(p.name)]
    if len(entries) == 1 and entries[0].is_dir() and not any(p.suffix == ".ipynb" for p in entries[0].glob("*/*.ipynb")):
        return entries[0]
    return root
