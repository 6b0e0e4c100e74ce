"""Files the station writes for a person — exports, labels, sheets — and its data folder.

A written file is never half there and never lands on what the station lives on (SPEC §8:
no file the station writes can overwrite its ledger). `write_atomically` writes into a new
file in the target's folder, syncs it and renames it over the target, and only when the
target is a regular file (or nothing yet) that is not the ledger, one of its SQLite side
files, or anything in the station's data folder (session journals, the stations' cache),
also through a symlink or a hard link. Every refusal and every failure to write is a
StationError with the code the caller names, the path, and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import unquote, urlsplit

import platformdirs

from station.codes import Code, StationError

T = TypeVar("T")

#: Where each place of the data folder is explained in a refusal.
_DATA_FOLDER = "the station's data folder (its ledger, session journals and station cache)"


#: Longer paths are shown by their two ends.
SHOWN_LENGTH = 300


def shown(path: str | os.PathLike[str]) -> str:
    """A path as text that prints anywhere: bytes that are not UTF-8 as \\xNN, and a
    path too long to read as its two ends and its length."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    if len(text) <= SHOWN_LENGTH:
        return text
    return f"{text[:200]}…{text[-60:]} ({len(text)} characters)"


def data_folder_path() -> Path:
    """Where Station keeps its SQLite file and session journals on this machine
    (STATION_DATA_DIR, else the user data folder); not created, not checked."""
    override = os.environ.get("STATION_DATA_DIR")
    if override:
        try:
            return Path(override).expanduser()  # "~/station" as a config file may write it
        except RuntimeError:  # "~nobody/…": no such user, no home
            raise _data_folder_error(
                Path(override), "its ~ names no user's home folder on this machine"
            ) from None
    return Path(platformdirs.user_data_dir("station", False))


def data_folders() -> list[Path]:
    """Every folder holding a station's data on this machine: the one in use and the
    user's default one (a STATION_DATA_DIR override does not make the default fair game)."""
    default = Path(platformdirs.user_data_dir("station", False))
    current = data_folder_path()
    return [current] if current == default else [current, default]


def inside_data_folder(path: str | os.PathLike[str]) -> Path | None:
    """The data folder that holds `path` (followed through symlinks, and found by its
    identity too, so another path to it — a bind mount — is no way in), else None."""
    real = Path(os.path.realpath(path))
    places = [real, *real.parents]
    for folder in data_folders():
        inside = Path(os.path.realpath(folder))
        if real == inside or real.is_relative_to(inside):
            return folder
        if any(_same_file(place, inside) for place in places):
            return folder
    return None


def ensure_data_folder() -> Path:
    """The data folder, created when missing. DATA_FOLDER_UNAVAILABLE, naming the folder
    and the fix, when it cannot be created or written."""
    path = data_folder_path()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file (or a symlink to one) has its name
        raise _data_folder_error(path, "it is a file, not a folder") from None
    except NotADirectoryError:
        raise _data_folder_error(path, "a part of its path is a file, not a folder") from None
    except PermissionError:
        raise _data_folder_error(
            path, "this user may not create it (no permission in the folder above)"
        ) from None
    except OSError as error:
        raise _data_folder_error(path, f"it cannot be created ({_reason(error)})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise _data_folder_error(path, "it is read-only for this user")
    return path


def _data_folder_error(path: Path, reason: str) -> StationError:
    return StationError(
        Code.DATA_FOLDER_UNAVAILABLE,
        f"The data folder {shown(path)} cannot be used: {reason}. Set STATION_DATA_DIR to"
        " a folder this user can write (or unset it for the default), or fix that path.",
    )


#: The files of every SQLite ledger this process opened (station.db.engine registers
#: them): nothing the station writes — an export, a label, a file printer — lands on one.
_LEDGER_FILES: dict[Path, str] = {}


#: The files SQLite keeps beside a ledger, and what each is.
SIDE_FILES = {
    "-wal": "the ledger's write-ahead log",
    "-shm": "the ledger's shared-memory index",
    "-journal": "the ledger's rollback journal",
}


def protect(files: Mapping[Path, str]) -> None:
    """Never let a file the station writes replace or append to these."""
    _LEDGER_FILES.update(files)


def sqlite_database(database: str | None) -> Path | None:
    """The file a SQLite URL's database part opens (None: in memory), its URI form too
    (`file:/path/ledger.db?mode=rw`)."""
    if not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a SQLite URI
        parts = urlsplit(database)
        path = unquote(parts.path)
        if not path or path == ":memory:" or "memory" in parts.query:
            return None
        return Path(path)
    return Path(database)


def ledger_files_of(path: Path) -> dict[Path, str]:
    files = {path: "the station's ledger (its SQLite database)"}
    files.update({Path(f"{path}{suffix}"): what for suffix, what in SIDE_FILES.items()})
    return files


def protect_url(url: str | None) -> None:
    """Protect the SQLite ledger a command names (--db / STATION_DATABASE_URL) before
    anything opens it — a command that never opens the database (a test print to a
    file://) must not write onto it either. Read without SQLAlchemy: `sqlite://[/PATH]`."""
    if not url or not url.startswith("sqlite") or ":///" not in url:
        return
    database = url.split(":///", 1)[1]
    if not database.startswith("file:"):
        database = database.split("?", 1)[0]
    path = sqlite_database(unquote(database) if "%" in database else database)
    if path is not None:
        protect(ledger_files_of(path))


def protected_files(extra: Mapping[Path, str] | None = None) -> dict[Path, str]:
    return {**_LEDGER_FILES, **(extra or {})}


def refuse_protected(path: str | os.PathLike[str], code: Code, *, why: str) -> None:
    """StationError(`code`) when `path` is a ledger file this process knows of or lies
    in a data folder (followed through links, found by identity); `why` ends the
    message ("it is never overwritten. Choose another file.")."""
    target = Path(os.fspath(path))
    _refuse_protected(target, Path(os.path.realpath(target)), protected_files(), code, why)


def write_atomically(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], T],
    *,
    protected: Mapping[Path, str] | None = None,
    code: Code = Code.EXPORT_FAILED,
) -> T:
    """Call `write` with a new file in `path`'s folder, sync it and rename it onto `path`;
    return what `write` returned. `protected` maps files that must never be written (the
    SQLite ledger and its side files) to what each is; anything inside a data folder is
    refused too. A refusal or a failure raises StationError(`code`) naming the path, and
    leaves no file behind; an existing file at `path` is then left as it was."""
    text = os.fspath(path)
    if not text.strip():
        raise StationError(code, "No file name was given: name the file to write.")
    target = Path(text)
    real = Path(os.path.realpath(target))
    _refuse_protected(target, real, protected_files(protected), code)
    _refuse_non_file(target, real, code)
    folder = real.parent
    temporary, fd = _new_file(folder, real.name, target, code)
    try:
        chmod = getattr(os, "fchmod", None)  # POSIX
        with contextlib.suppress(OSError):  # keep the mode of the file it replaces
            if chmod is not None:
                chmod(fd, stat.S_IMODE(os.stat(real).st_mode))
        with os.fdopen(fd, "wb") as handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, real)
    except OSError as error:
        raise _cannot_write(target, folder, error, code) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)  # gone once renamed; a leftover otherwise
    sync_folder(folder)
    return result


def _refuse_protected(
    target: Path,
    real: Path,
    protected: Mapping[Path, str],
    code: Code,
    why: str = "it is never overwritten. Choose another file.",
) -> None:
    for path, what in protected.items():
        if (
            real == Path(os.path.realpath(path))
            or _same_file(real, path)
            or _same_place(real, path)
        ):
            raise StationError(
                code,
                f"{shown(target)} is {what}: {why}",
            )
    folder = inside_data_folder(real)
    if folder is not None:
        raise StationError(
            code,
            f"{shown(target)} is inside {_DATA_FOLDER}, {shown(folder)}: nothing is"
            " written there. Choose a file in another folder.",
        )


def _same_place(real: Path, other: Path) -> bool:
    """The same name in the same folder, reached by another path (for a file that does
    not exist yet, such as the ledger's -wal)."""
    return real.name == other.name and _same_file(real.parent, other.parent)


def _same_file(real: Path, other: Path) -> bool:
    try:
        return os.path.samefile(real, other)
    except (OSError, ValueError):
        return False


def _refuse_non_file(target: Path, real: Path, code: Code) -> None:
    """Only a regular file, or nothing, may be at the target (stat, never open: a named
    pipe with no writer would block)."""
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise StationError(
            code, f"Cannot write {shown(target)}: a part of its folder path is a file."
        ) from None
    except OSError as error:
        raise _cannot_write(target, real.parent, error, code) from None
    if stat.S_ISDIR(mode):
        raise StationError(
            code,
            f"{shown(target)} is a folder: give a file name in it, such as"
            f" {shown(target / 'export.xlsx')}.",
        )
    if not stat.S_ISREG(mode):
        raise StationError(
            code,
            f"{shown(target)} is not a regular file (a device, a named pipe or a socket):"
            " give a file name.",
        )


def _new_file(folder: Path, name: str, target: Path, code: Code) -> tuple[Path, int]:
    """A new, empty file beside the target (hidden, never an existing one): its path and
    descriptor. Created with the usual permissions (the umask applies)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    flags |= getattr(os, "O_BINARY", 0)
    stem = os.fsdecode(os.fsencode(name)[:100])  # its name fits beside the target's
    for _attempt in range(100):
        temporary = folder / f".{stem}.{secrets.token_hex(4)}.partial"
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise _cannot_write(target, folder, error, code) from None
    raise StationError(code, f"Cannot write {shown(target)}: no free temporary name beside it.")


def _cannot_write(target: Path, where: Path, error: OSError, code: Code) -> StationError:
    folder = shown(where)
    number = error.errno
    if number == errno.ENOENT:
        why = f"its folder {folder} does not exist. Create it, or choose another folder"
    elif number == errno.ENOTDIR:
        why = f"a part of its folder path {folder} is a file, not a folder"
    elif number == errno.EISDIR:
        why = "a folder has its name. Give a file name"
    elif number in (errno.EACCES, errno.EPERM):
        why = (
            f"no permission to write in {folder}, or the file is open in another program"
            " (Excel?). Close it, or choose another folder"
        )
    elif number == errno.EROFS:
        why = f"{folder} is on a read-only disk. Choose another folder"
    elif number in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        why = f"the disk of {folder} is full ({_reason(error)}). Free space, or choose another"
    elif number == errno.ENAMETOOLONG:
        why = "the name is too long. Choose a shorter name"
    else:
        why = _reason(error)
    return StationError(code, f"Cannot write {shown(target)}: {why}. Nothing was written.")


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def sync_folder(folder: Path) -> None:
    """A rename or removal in `folder` survives a power loss only once the folder is
    synced (POSIX; Windows has no directory handles)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
