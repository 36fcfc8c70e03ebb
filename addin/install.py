"""Install, remove and inspect the add-in, like ``xlwings addin install``.

Differences from xlwings: the XLSTART folder is found without starting
Excel (Excel need not even be installed to run the command), the add-in is
built on the spot from the installed yibao and xlwings (so its xlwings VBA
always matches the installed xlwings DLL), and the Python that runs the
command is written as the interpreter into the add-in's own user settings
(``%USERPROFILE%\\.yibao\\yibao.conf``; on macOS the sandboxed
``~/Library/Containers/com.microsoft.Excel/Data/yibao.conf``), which
xlwings' VBA reads because the add-in's ``PROJECT_NAME`` is ``yibao``.

Every message is one plain Chinese sentence about what was done or why not.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from yibao.atomic import write_atomic

from . import build

ADDIN_NAME = build.ADDIN_NAME
FALLBACK_NAME = "xlwings.xlam"


class InstallError(Exception):
    """A reason the command cannot do its job; the message is for the user."""


@dataclass
class Platform:
    """Where things go on this PC (everything overridable for tests)."""
    system: str                 # "windows", "mac" or something else
    xlstart: Path | None
    conf_file: Path | None      # the add-in's user settings (yibao.conf)
    xlwings_conf: Path | None   # the stock xlwings add-in's user settings
    interpreter_key: str | None
    #: The encoding xlwings' VBA reads the conf files in: ``Open … For Input``
    #: and ``Input #`` decode bytes with Windows' ANSI code page.
    conf_encoding: str = "utf-8"


def detect(xlstart: str | os.PathLike | None = None) -> Platform:
    home = Path.home()
    if sys.platform.startswith("win"):
        appdata = Path(os.environ.get("APPDATA") or home / "AppData" / "Roaming")
        profile = Path(os.environ.get("USERPROFILE") or home)
        return Platform("windows",
                        Path(xlstart) if xlstart else appdata / "Microsoft" / "Excel" / "XLSTART",
                        profile / ".yibao" / "yibao.conf",
                        profile / ".xlwings" / "xlwings.conf",
                        "INTERPRETER_WIN",
                        ansi_codepage())
    if sys.platform == "darwin":
        group = home / "Library" / "Group Containers" / "UBF8T346G9.Office"
        container = home / "Library" / "Containers" / "com.microsoft.Excel" / "Data"
        return Platform("mac",
                        Path(xlstart) if xlstart else
                        group / "User Content.localized" / "Startup.localized" / "Excel",
                        container / "yibao.conf",
                        container / "xlwings.conf",
                        "INTERPRETER_MAC")
    return Platform(sys.platform, Path(xlstart) if xlstart else None,
                    None, None, None)


def ansi_codepage() -> str:
    """Windows' ANSI code page as a Python codec name: ``cp936`` on Simplified
    Chinese Windows, ``utf-8`` when "Beta: Use Unicode UTF-8 for worldwide
    language support" is on (code page 65001). VBA converts every string it
    reads from a file (``Input #``), gets from ``Environ`` or passes to a
    ``Declare``d DLL function (xlwings' ``LoadLibraryA``, the command line of
    its UDF server) through this code page."""
    import ctypes
    if not sys.platform.startswith("win") or not hasattr(ctypes, "windll"):
        return "utf-8"
    acp = ctypes.windll.kernel32.GetACP()
    return "utf-8" if acp == 65001 else f"cp{acp}"


def _unrepresentable(text: str, encoding: str) -> str:
    """The characters of ``text`` that ``encoding`` cannot represent."""
    return "".join(dict.fromkeys(ch for ch in text if not _encodes(ch, encoding)))


def _encodes(ch: str, encoding: str) -> bool:
    try:
        ch.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def check_paths(platform: "Platform", *pythons: str) -> None:
    """Refuse (:class:`InstallError`) when a path the add-in's VBA must use
    has a character the ANSI code page cannot hold: the user folder (VBA's
    ``Environ("USERPROFILE")`` finds the conf file) and the Python folder
    (``LoadLibraryA`` loads xlwings' DLL from it). Chinese names are fine on
    Chinese Windows (code page 936 has them); rare characters outside GBK,
    such as 䶮, are not."""
    if platform.system != "windows" or platform.conf_file is None:
        return
    enc = platform.conf_encoding
    profile = str(platform.conf_file.parent.parent)
    bad = _unrepresentable(profile, enc)
    if bad:
        raise InstallError(
            f"Windows 用户文件夹 {profile} 含有本机代码页（{enc}）无法表示的字符“{bad}”，"
            "Excel 里的 xlwings 找不到设置文件；请用名字只含常用汉字、字母或数字的 Windows 账户安装")
    for python in pythons:
        _check_python_path(python, enc)


def _check_python_path(python: str, enc: str) -> None:
    bad = _unrepresentable(python, enc)
    if bad:
        raise InstallError(
            f"Python 所在的路径 {python} 含有本机代码页（{enc}）无法表示的字符“{bad}”，"
            "Excel 里的 xlwings 无法从那里加载；请把 Python 安装到只含字母和数字的文件夹"
            "（安装时选 Customize installation，在 Advanced Options 里把安装位置改成 C:\\Python312）")


def interpreter() -> str:
    """The Python Excel should start: this one (pythonw.exe on Windows, so no
    console window flashes up)."""
    exe = Path(sys.executable)
    if sys.platform.startswith("win"):
        windowed = exe.with_name("pythonw.exe")
        if windowed.exists():
            return str(windowed)
    return str(exe)


def dll_path() -> Path | None:
    """The xlwings DLL the add-in's VBA loads (Windows only): pip puts it in
    ``sys.prefix``, next to python.exe (a venv: one folder above
    ``Scripts\\pythonw.exe``), the two folders xlwings' VBA looks in."""
    if not sys.platform.startswith("win"):
        return None
    bits = "64" if sys.maxsize > 2**32 else "32"
    return Path(sys.prefix) / f"xlwings{bits}-{build.xlwings_version()}.dll"


def user_dll_path() -> Path | None:
    """Where ``pip install --user`` puts the DLL instead (pip does so on its
    own when Python was installed for all users and the command prompt is not
    run as administrator); xlwings' VBA never looks there."""
    dll = dll_path()
    if dll is None:
        return None
    import site
    return Path(site.getuserbase()) / dll.name


def store_python(executable: str | None = None, prefix: str | None = None) -> bool:
    """Python from the Microsoft Store: it runs from ``…\\WindowsApps\\…`` and
    pip installs into the app's private folder, so xlwings' DLL is never next to
    the python.exe Excel would start."""
    executable = executable if executable is not None else sys.executable
    prefix = prefix if prefix is not None else sys.prefix
    return any("WindowsApps" in p or "PythonSoftwareFoundation.Python." in p
               for p in (executable, prefix))


def conda_env(prefix: str | None = None,
              conda_exe: str | None = None) -> tuple[str, str] | None:
    """(``CONDA PATH``, ``CONDA ENV``) for a conda Python, else None.
    xlwings' VBA then starts Python through ``conda activate`` (a conda
    Python started without activation cannot load the DLLs of numpy and
    pandas). The env is ``base``, a name under ``<base>\\envs``, or a full path."""
    root = Path(prefix if prefix is not None else sys.prefix)
    if not (root / "conda-meta").is_dir():
        return None
    exe = conda_exe if conda_exe is not None else os.environ.get("CONDA_EXE", "")
    if exe:
        base = Path(exe).parent.parent
    elif root.parent.name.lower() == "envs":
        base = root.parent.parent
    else:
        base = root
    if not (base / "condabin").is_dir():
        return None
    if root == base:
        return str(base), "base"
    if root.parent == base / "envs":
        return str(base), root.name
    return str(base), str(root)


def python_settings(platform: "Platform") -> dict[str, str | None]:
    """The conf keys that tell xlwings' VBA which Python to start."""
    conda = conda_env() if platform.system == "windows" else None
    if conda:
        return {platform.interpreter_key: None, "CONDA PATH": conda[0], "CONDA ENV": conda[1]}
    if platform.system == "windows":
        # Left-over conda settings would make RunPython activate that env
        # (and fail if it is gone) before starting this interpreter.
        return {platform.interpreter_key: interpreter(), "CONDA PATH": None, "CONDA ENV": None}
    return {platform.interpreter_key: interpreter()}


# ---------------------------------------------------------------- conf files

def decode_conf(data: bytes, encoding: str) -> str:
    """The text of a conf file as xlwings' VBA reads it: in the ANSI code page
    ``encoding`` (what it and its ribbon's ``Write #`` use). A file that is
    valid UTF-8 and decodes to Chinese (not to the Cyrillic or Greek letters
    that GBK bytes such as 郑叶's happen to form) was written by an earlier yibao,
    which wrote UTF-8, and is read as such so that rewriting repairs it."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode(encoding, errors="replace")
    if all(ch < "\x80" or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
           for ch in text):
        return text
    return data.decode(encoding, errors="replace")


def read_conf(path: Path, encoding: str = "utf-8") -> dict[str, str]:
    """xlwings' conf format: one ``"KEY","VALUE"`` per line."""
    import csv
    values: dict[str, str] = {}
    if path.exists():
        for row in csv.reader(decode_conf(path.read_bytes(), encoding).splitlines()):
            if len(row) >= 2:
                values[row[0]] = row[1]
    return values


def conf_bytes(values: dict[str, str], encoding: str) -> bytes:
    """The conf file as xlwings' VBA reads it: ``"KEY","VALUE"`` lines ending
    in CRLF (as VBA's ``Write #`` writes them), no byte order mark, in the
    ANSI code page ``encoding``, since ``Input #`` decodes with it."""
    text = "".join(f'"{k}","{v}"\r\n' for k, v in values.items())
    return text.encode(encoding)


def update_conf(path: Path, changes: dict[str, str | None], encoding: str = "utf-8") -> None:
    """Set (or, with ``None``, delete) keys, keeping every other line; the
    file is written in ``encoding`` (see :func:`conf_bytes`)."""
    values = read_conf(path, encoding)
    lower = {k.upper(): k for k in values}
    for key, value in changes.items():
        existing = lower.get(key.upper(), key)
        if value is None:
            values.pop(existing, None)
        else:
            values.pop(existing, None)
            values[key] = value
    if not values:
        if path.exists():
            path.unlink()
        return
    write_atomic(path, conf_bytes(values, encoding))


def _require(platform: Platform, force_dir: bool) -> Path:
    if platform.system not in ("windows", "mac") and not force_dir:
        raise InstallError("只能在装有 Excel 的 Windows 或 macOS 电脑上安装加载项；"
                           "本机可以用 yibao addin build 生成 yibao.xlam 再拷过去")
    assert platform.xlstart is not None
    return platform.xlstart


def _locked(path: Path, exc: OSError) -> InstallError:
    return InstallError(f"无法写入 {path}（{exc.strerror or exc}）：如果 Excel 正在运行，"
                        "请先完全退出 Excel 再运行此命令")


# ---------------------------------------------------------------- commands

def install(xlstart: str | os.PathLike | None = None) -> list[str]:
    """Build the add-in into the XLSTART folder; return what was done."""
    platform = detect(xlstart)
    folder = _require(platform, xlstart is not None)
    target = folder / ADDIN_NAME
    if platform.system == "windows" and store_python():
        raise InstallError(
            f"这个 Python（{sys.executable}）是从 Microsoft Store 安装的，Excel 无法从它加载 xlwings；"
            "请从 python.org 下载安装包另装一个 Python（见 docs/windows.md 第 1 步），"
            "用它重新安装 yibao 后再运行 yibao addin install")
    settings = python_settings(platform)
    check_paths(platform, interpreter(), *([settings["CONDA PATH"]] if settings.get("CONDA PATH") else []))
    done = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        existed = target.exists()
        write_atomic(target, build.build_bytes())
    except PermissionError as exc:
        raise _locked(target, exc) from None
    done.append(f"已{'更新' if existed else '安装'}加载项：{target}")
    if platform.conf_file is not None and platform.interpreter_key:
        update_conf(platform.conf_file, settings, platform.conf_encoding)
        if settings.get("CONDA ENV"):
            done.append(f"已设置 Excel 调用的 Python：conda 环境 {settings['CONDA ENV']}"
                        f"（conda 在 {settings['CONDA PATH']}；写在 {platform.conf_file}）")
        else:
            done.append(f"已设置 Excel 调用的 Python：{interpreter()}（写在 {platform.conf_file}）")
    done.extend(_dll_notes())
    if platform.system == "mac":
        done.append(_mac_runpython_install())
    done.append("请重新启动 Excel，功能区会出现“医保征缴”选项卡")
    return done


def _dll_notes() -> list[str]:
    dll = dll_path()
    if dll is None or dll.exists():
        return []
    user = user_dll_path()
    if user is not None and user.exists():
        return [f"注意：xlwings 装在了您的用户文件夹（{user.parent}），Excel 只在 Python 文件夹"
                f"（{dll.parent}）里找 {dll.name}，表格函数会无法使用；请右键“命令提示符”选"
                "“以管理员身份运行”，输入 pip install --force-reinstall xlwings，再运行 yibao addin install"]
    return [f"注意：找不到 {dll.name}（应在 {dll.parent}）；请运行 pip install --force-reinstall xlwings"]


def _mac_runpython_install() -> str:
    try:
        from xlwings.cli import runpython_install
        runpython_install(None)
    except Exception as exc:  # pragma: no cover - macOS only
        return f"注意：未能安装 xlwings 的 AppleScript（{exc}）；请运行 xlwings runpython install"
    return "已安装 xlwings 在 macOS 上需要的 AppleScript"


def remove(xlstart: str | os.PathLike | None = None) -> list[str]:
    platform = detect(xlstart)
    folder = _require(platform, xlstart is not None)
    target = folder / ADDIN_NAME
    done = []
    if target.exists():
        try:
            target.unlink()
        except PermissionError as exc:
            raise _locked(target, exc) from None
        done.append(f"已删除加载项：{target}")
    else:
        done.append(f"没有安装加载项（{target} 不存在），无需删除")
    if platform.conf_file is not None and platform.conf_file.exists():
        ours = {platform.interpreter_key: None}
        current = read_conf(platform.conf_file, platform.conf_encoding)
        conda = conda_env() if platform.system == "windows" else None
        if conda and current.get("CONDA PATH") == conda[0] and current.get("CONDA ENV") == conda[1]:
            ours.update({"CONDA PATH": None, "CONDA ENV": None})
        update_conf(platform.conf_file, ours, platform.conf_encoding)
        done.append(f"已清除 {platform.conf_file} 中的 Python 设置")
    done.append("如果 Excel 正在运行，重新启动后“医保征缴”选项卡会消失")
    return done


def status(xlstart: str | os.PathLike | None = None) -> tuple[bool, list[str]]:
    """(installed and current?, lines describing the state)."""
    platform = detect(xlstart)
    lines = []
    if platform.xlstart is None:
        return False, ["本机不是 Windows 或 macOS，没有 Excel 加载项文件夹；"
                       "可用 yibao addin build 生成 yibao.xlam"]
    target = platform.xlstart / ADDIN_NAME
    ok = target.exists()
    if ok:
        installed = target.read_bytes()
        current = installed == build.build_bytes()
        ok = current
        made_for, have = build.built_for(installed), build.xlwings_version()
        if current:
            lines.append(f"加载项：{target}（与当前版本一致）")
        elif made_for is not None and made_for != have:
            lines.append(f"加载项：{target}（按 xlwings {made_for} 生成，但本机的 xlwings 是 {have}，"
                         "Excel 里的函数会无法加载 xlwings；请完全退出 Excel 后运行 yibao addin install）")
        else:
            lines.append(f"加载项：{target}（不是当前版本，请运行 yibao addin install 更新）")
    else:
        lines.append(f"加载项：未安装（应在 {target}）；请运行 yibao addin install")
    fallback = platform.xlstart / FALLBACK_NAME
    if fallback.exists():
        lines.append(f"另装有 xlwings 原版加载项：{fallback}")
    if platform.conf_file is not None:
        values = read_conf(platform.conf_file, platform.conf_encoding)
        configured = values.get(platform.interpreter_key or "", "")
        if not configured and values.get("CONDA PATH") and values.get("CONDA ENV"):
            configured = f"conda 环境 {values['CONDA ENV']}（conda 在 {values['CONDA PATH']}）"
        lines.append(f"Excel 调用的 Python：{configured or '未设置（将用 PATH 中的 python）'}")
    lines.append(f"xlwings 版本：{build.xlwings_version()}")
    dll = dll_path()
    if dll is not None:
        lines.append(f"xlwings DLL：{'有' if dll.exists() else '缺少'} {dll}")
        lines.extend(_dll_notes())
        ok = ok and dll.exists()
    return ok, lines


# ---------------------------------------------------------------- fallback

FALLBACK_FILES = ("yibao_udfs.bas", "yibao_ribbon.bas")


def fallback(xlstart: str | os.PathLike | None = None,
             folder: str | os.PathLike | None = None) -> list[str]:
    """Set up the stock xlwings add-in instead of ours, for a PC where the
    pre-built VBA does not load: copy xlwings' own ``xlwings.xlam`` (saved
    by Excel) to XLSTART, point its settings at our UDF module and this
    Python, and put our two VBA modules where the user can import them."""
    platform = detect(xlstart)
    xlstart_dir = _require(platform, xlstart is not None)
    check_paths(platform, interpreter())
    source = build.xlwings_dir() / "addin" / FALLBACK_NAME
    if not source.exists():
        raise InstallError(f"已安装的 xlwings 中没有 {source}；请运行 pip install --force-reinstall xlwings")
    target = xlstart_dir / FALLBACK_NAME
    try:
        xlstart_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except PermissionError as exc:
        raise _locked(target, exc) from None
    done = [f"已安装 xlwings 原版加载项：{target}"]
    ours = xlstart_dir / ADDIN_NAME
    if ours.exists():
        try:
            ours.unlink()
            done.append(f"已删除无法加载的 {ours}")
        except PermissionError as exc:
            raise _locked(ours, exc) from None
    if platform.xlwings_conf is not None and platform.interpreter_key:
        update_conf(platform.xlwings_conf, {"UDF Modules": "yibao.addin.udfs",
                                            platform.interpreter_key: interpreter()},
                    platform.conf_encoding)
        done.append(f"已在 {platform.xlwings_conf} 中设置函数模块 yibao.addin.udfs 和 Python")
    out = Path(folder) if folder else Path.home() / "yibao-vba"
    out.mkdir(parents=True, exist_ok=True)
    for name in FALLBACK_FILES:
        text = build.source(name).replace("\n", "\r\n")
        write_atomic(out / name, text.encode("gbk"))
    done.append(f"已把 VBA 模块写到 {out}：{'、'.join(FALLBACK_FILES)}")
    return done
