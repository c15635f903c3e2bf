"""Atomic file writes: a reader sees the old file or the whole new one, never a half-written one;
likewise a folder of files, replaced whole."""

import os
import shutil
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.
    The temporary file is removed if anything (an error, Ctrl-C, SIGTERM as ``SystemExit``) stops
    the write; it is named ``.<name>.<random>.tmp``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
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
