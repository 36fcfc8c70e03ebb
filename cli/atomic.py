"""Writing files so that a crash, a full disk or a second command never
leaves half a file or loses a result.

Every file yibao writes goes through a temporary file beside the target,
which then replaces the target in one rename (:func:`write_atomic`,
:func:`commit`). Around that rename:

- a workbook written in place is first copied to a backup with a name no
  other run uses (:func:`backup_copy`), itself written atomically, so a full
  disk never leaves a truncated "备份" beside the ledger;
- the target is locked for the write with an advisory lock file created
  with ``O_EXCL`` beside it (:func:`hold`; works the same on Windows and
  POSIX), and its size and time are checked again right before the rename,
  so that two commands on one file cannot both report success with one
  result lost;
- a symbolic link is written through: the file it points to is replaced,
  the link stays;
- a new file gets the permissions the user's umask gives (``0644``-ish),
  not the private ``0600`` of :func:`tempfile.mkstemp`.
"""

from __future__ import annotations

import atexit
import datetime
import errno
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

__all__ = ["keep_mode", "write_atomic", "backup_copy", "commit", "hold", "release", "note_read",
           "real_path", "is_backup", "is_lock_file", "without_backups", "WriteRefused"]


class WriteRefused(Exception):
    """A write refused before anything changed (Chinese, one line)."""


def real_path(path) -> Path:
    """``path`` with symbolic links resolved (writing replaces the real file,
    never the link); other paths as given."""
    path = Path(path)
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def keep_mode(tmp, path: Path):
    """Give the temporary file the permissions the user's file had (mkstemp
    makes it private, which would lock colleagues on a shared folder out);
    a new file gets ``0666`` less the umask."""
    path = Path(path)
    if path.exists():
        shutil.copymode(path, tmp)
    else:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)


def _no_space(exc: OSError) -> bool:
    return exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))


def _disk_full(path: Path) -> WriteRefused:
    return WriteRefused(f"磁盘空间不足，未能写入“{path.name}”，原文件未改动；请清理磁盘后再试")


def backup_copy(path) -> Path:
    """Copy a workbook about to be written in place to
    ``<stem>.备份-YYYYmmdd-HHMMSS[-n]<suffix>`` beside it: a name no earlier
    backup has (``-2``, ``-3`` … within one second). The copy goes through a
    temporary file, so a full disk leaves no truncated backup.

    Raises :class:`WriteRefused` when the disk is full."""
    path = Path(path)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, tmp = tempfile.mkstemp(prefix=".~yibao-", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        shutil.copy2(path, tmp)
        n = 1
        while True:
            target = path.with_name(f"{path.stem}.备份-{stamp}{'' if n == 1 else f'-{n}'}{path.suffix}")
            try:                       # link: fails if the name exists, never overwrites
                os.link(tmp, target)
                break
            except FileExistsError:
                n += 1
            except OSError:            # no hard links here (FAT, some shares)
                if target.exists():
                    n += 1
                    continue
                os.replace(tmp, target)
                break
    except OSError as exc:
        if _no_space(exc):
            raise _disk_full(path) from None
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


_BACKUP_NAME = re.compile(r"\.备份-\d{8}-\d{6}(?:-\d+)?$")


def is_backup(path) -> bool:
    """A file :func:`backup_copy` made (``台账.备份-20261123-101500.xlsx``).

    >>> is_backup("台账/东山村.备份-20261123-101500.xlsx"), is_backup("台账/东山村.xlsx")
    (True, False)
    >>> is_backup("东山村.备份-20261123-101500-2.xlsx")
    True
    """
    return bool(_BACKUP_NAME.search(Path(path).stem))


def is_lock_file(path) -> bool:
    """A lock file an office program keeps beside an open workbook: Excel's
    and WPS's ``~$东山村.xlsx``, LibreOffice's ``.~lock.东山村.xlsx#``, or ours.

    >>> is_lock_file("台账/~$东山村.xlsx"), is_lock_file(".~lock.东山村.xlsx#"), is_lock_file("东山村.xlsx")
    (True, True, False)
    """
    name = Path(path).name
    return name.startswith("~$") or (name.startswith(".~lock.") and name.endswith("#")) \
        or name.startswith(".~yibao-")


def without_backups(paths, say) -> list:
    """``paths`` less our own backups and office lock files (a folder's
    ``*.xlsx`` holds them too: reading a backup would count every person
    twice, a lock file is no workbook); ``say`` gets one notice for each."""
    kept = []
    for path in paths:
        if is_backup(path):
            say(f"提示：已跳过备份文件“{path}”（本工具写入前自动留的备份，不参与统计）")
        elif is_lock_file(path):
            say(f"提示：已跳过锁定文件“{path}”（Excel、WPS或LibreOffice打开文件时留下的，不是台账）")
        else:
            kept.append(path)
    return kept


# ---------------------------------------------------------------- locking

#: files this process holds the yibao lock of → lock path
_HELD: dict[Path, Path] = {}
#: files this process read for an update → (size, mtime) when read
_READ: dict[Path, tuple[int, int]] = {}
#: a lock older than this is left over from a crash
STALE_SECONDS = 3600


def _lock_path(path: Path) -> Path:
    return path.with_name(f".~yibao-lock.{path.name}#")


def _key(path) -> Path:
    return Path(os.path.abspath(real_path(path)))


def _stamp(path: Path):
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _stale(lock: Path) -> bool:
    try:
        text = lock.read_text(encoding="utf-8")
        age = time.time() - lock.stat().st_mtime
    except (OSError, UnicodeDecodeError):
        return False
    if age > STALE_SECONDS:
        return True
    host, _, pid = text.strip().partition(" ")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return not _alive(int(pid))


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs on this machine. (On Windows ``os.kill``
    would terminate it, so the process list is asked instead.)"""
    if os.name == "nt":
        import ctypes
        handle = ctypes.windll.kernel32.OpenProcess(0x1000, False, pid)   # QUERY_LIMITED_INFORMATION
        if not handle:                       # denied: another user's, running
            return ctypes.windll.kernel32.GetLastError() == 5
        code = ctypes.c_ulong()
        ctypes.windll.kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        ctypes.windll.kernel32.CloseHandle(handle)
        return code.value == 259                                            # STILL_ACTIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:          # another user's process: alive
        return True
    return True


def hold(path) -> None:
    """Take the yibao lock of ``path`` for this process (until :func:`release`
    or exit): a second yibao command on the same file is refused with
    :class:`WriteRefused` instead of racing this one. A lock left by a crashed
    run (its process gone, or over an hour old) is taken over. Taking a lock
    this process holds is a no-op."""
    key = _key(path)
    if key in _HELD or not key.parent.is_dir():
        return
    lock = _lock_path(key)
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _stale(lock):
                try:
                    os.unlink(lock)
                except OSError:
                    pass
                continue
            raise WriteRefused(f"“{key.name}”正被另一个yibao命令处理，请等它结束后再试"
                               f"（若确认没有在运行，可删除“{lock.name}”）") from None
        except OSError:             # read-only folder: nothing will be written there either
            return
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"{socket.gethostname()} {os.getpid()}\n")
        _HELD[key] = lock
        return
    raise WriteRefused(f"“{key.name}”正被另一个yibao命令处理，请等它结束后再试")


def release(path=None) -> None:
    """Give up the lock of ``path`` (every lock this process holds when None)."""
    keys = list(_HELD) if path is None else [_key(path)]
    for key in keys:
        lock = _HELD.pop(key, None)
        _READ.pop(key, None)
        if lock is not None:
            try:
                os.unlink(lock)
            except OSError:
                pass


atexit.register(release)


def note_read(path) -> None:
    """Remember ``path``'s size and time as read for an update: :func:`commit`
    refuses to replace it if it changed since (another program saved it)."""
    key = _key(path)
    stamp = _stamp(key)
    if stamp is not None:
        _READ[key] = stamp


def commit(tmp, path, backup: bool = False) -> Path | None:
    """Put the finished temporary file ``tmp`` in place of ``path``: under the
    lock, after checking ``path`` did not change since it was read
    (:func:`note_read`), with the target's permissions (or the umask's for a
    new file), a backup first when asked, through a symbolic link. Returns the
    backup's path. Raises :class:`WriteRefused`; ``tmp`` is then left for the
    caller to remove and ``path`` is untouched."""
    target = real_path(path)
    key = _key(path)
    locked_here = key not in _HELD
    hold(target)
    try:
        expected = _READ.get(key)
        if expected is not None and _stamp(target) != expected:
            raise WriteRefused(f"“{target.name}”在本次运行期间被其他程序改动过，为免覆盖别人的修改，未写入；请重新运行")
        keep_mode(tmp, target)
        saved = backup_copy(target) if backup and target.exists() else None
        os.replace(tmp, target)
        if expected is not None:
            note_read(target)
        return saved
    finally:
        if locked_here:
            release(target)


def write_atomic(path, data: bytes | str, backup: bool = False) -> Path | None:
    """Write ``data`` (text is UTF-8) to ``path`` atomically; with ``backup``
    an existing file is kept as ``<name>.bak``. Returns the backup path.
    A full disk raises :class:`WriteRefused` and leaves ``path`` as it was."""
    path = real_path(path)
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
            shutil.copy2(path, saved)
        os.replace(tmp, path)
    except OSError as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if _no_space(exc):
            raise _disk_full(path) from None
        raise
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return saved
