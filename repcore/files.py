"""Atomic file writes: a reader sees the old file or the whole new one, never a half-written one;
likewise a folder of files, replaced whole. Files and folders get the permissions the umask
gives (0644 and 0755 under the usual 022), as ``open`` and ``mkdir`` would: a report or cache folder
shared by a group stays readable to it."""

import os
import shutil
import tempfile
from pathlib import Path


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.
    The temporary file is removed if anything (an error, Ctrl-C, SIGTERM as ``SystemExit``) stops
    the write; it is named ``.<name>.<random>.tmp``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's files are 0600 whatever the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def replace_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Make ``folder`` hold exactly ``files`` (name -> bytes): they are written into a temporary
    folder beside it, which then takes its place, so no file of an earlier run is left among them
    and none is half-written. The earlier folder is moved aside for the swap (and back if the swap
    fails), then removed."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".tmp"))
    retired = staged.with_suffix(".old")
    try:
        staged.chmod(0o777 & ~current_umask())  # mkdtemp's folders are 0700 whatever the umask
        for name, data in files.items():
            (staged / name).write_bytes(data)
        if folder.exists():
            os.replace(folder, retired)
        try:
            os.replace(staged, folder)
        except BaseException:
            if retired.exists():
                os.replace(retired, folder)
            raise
    finally:
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
