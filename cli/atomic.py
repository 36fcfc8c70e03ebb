"""Writing files so that a crash or a full disk never leaves half a file.

Every file yibao writes goes through :func:`write_atomic`: the bytes go to a
temporary file beside the target, which then replaces the target in one
rename. The replaced file can be kept as ``<name>.bak``.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import tempfile
from pathlib import Path

__all__ = ["keep_mode", "write_atomic", "backup_copy"]


def keep_mode(tmp, path: Path):
    """Give the temporary file the permissions the user's file had (mkstemp
    makes it private, which would lock colleagues on a shared folder out)."""
    path = Path(path)
    if path.exists():
        shutil.copymode(path, tmp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def backup_copy(path) -> Path:
    """Copy a workbook about to be written in place to
    ``<stem>.备份-YYYYmmdd-HHMMSS<suffix>`` beside it."""
    path = Path(path)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.备份-{stamp}{path.suffix}")
    shutil.copy2(path, target)
    return target


_BACKUP_NAME = re.compile(r"\.备份-\d{8}-\d{6}$")


def is_backup(path) -> bool:
    """A file :func:`backup_copy` made (``台账.备份-20261123-101500.xlsx``).

    >>> is_backup("台账/东山村.备份-20261123-101500.xlsx"), is_backup("台账/东山村.xlsx")
    (True, False)
    """
    return bool(_BACKUP_NAME.search(Path(path).stem))


def without_backups(paths, say) -> list:
    """``paths`` less our own backups (a folder's ``*.xlsx`` holds them too,
    and reading one would count every person twice); ``say`` tells the user."""
    kept = []
    for path in paths:
        if is_backup(path):
            say(f"提示：已跳过备份文件“{path}”（本工具写入前自动留的备份，不参与统计）")
        else:
            kept.append(path)
    return kept


def write_atomic(path, data: bytes | str, backup: bool = False) -> Path | None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; with ``backup``
    an existing file is kept as ``<name>.bak``. Returns the backup path."""
    path = Path(path)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    saved = None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        keep_mode(tmp, path)
        if backup and path.exists():
            saved = path.with_name(path.name + ".bak")
            os.replace(path, saved)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return saved
