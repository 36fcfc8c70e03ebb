"""``yibao app --shortcut``: a 医保征缴助手 shortcut on the Windows desktop.

PowerShell asks Windows for the real Desktop folder
(``[Environment]::GetFolderPath('Desktop')``, i.e. SHGetKnownFolderPath:
right for redirected or OneDrive desktops and Chinese user names) and
writes the ``.lnk`` through the WScript.Shell COM object. The script is
passed UTF-16 encoded (``-EncodedCommand``), so no code page can garble a
Chinese path. The shortcut runs ``python -m yibao app`` in a console
window: closing the window ends the app.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

NAME = "医保征缴助手"


def _quote(text: str) -> str:
    """A PowerShell single-quoted string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def arguments(folders=()) -> str:
    """The shortcut's arguments: ``-m yibao app`` and the folders the page
    may use besides the user's home, each in double quotes (Windows' rule)."""
    return " ".join(["-m", "yibao", "app", *(f'"{Path(f)}"' for f in folders)])


def script(python: str, folders=(), name: str = NAME) -> str:
    """The PowerShell that writes ``<Desktop>\\<name>.lnk`` running
    ``python -m yibao app [folders]`` and prints the shortcut's path."""
    return "\n".join([
        "$ErrorActionPreference = 'Stop'",
        "$desktop = [Environment]::GetFolderPath('Desktop')",
        f"$link = Join-Path $desktop {_quote(name + '.lnk')}",
        "$shell = New-Object -ComObject WScript.Shell",
        "$s = $shell.CreateShortcut($link)",
        f"$s.TargetPath = {_quote(python)}",
        f"$s.Arguments = {_quote(arguments(folders))}",
        "$s.WorkingDirectory = [Environment]::GetFolderPath('UserProfile')",
        f"$s.Description = {_quote(name + '：城乡居民医保参保征缴（在浏览器中使用）')}",
        f"$s.IconLocation = {_quote(python + ',0')}",
        "$s.Save()",
        "[Console]::OutputEncoding = [Text.Encoding]::UTF8",
        "Write-Output $link",
    ])


def command(text: str) -> list[str]:
    """powershell.exe running ``text`` as -EncodedCommand (base64 of UTF-16LE)."""
    encoded = base64.b64encode(text.encode("utf-16-le")).decode("ascii")
    return ["powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-EncodedCommand", encoded]


def python_for_shortcut() -> str:
    """python.exe of this installation (not pythonw: the console window shows
    the address and closing it ends the app)."""
    exe = Path(sys.executable)
    if exe.name.lower() == "pythonw.exe" and (exe.parent / "python.exe").exists():
        exe = exe.parent / "python.exe"
    return str(exe)


def make(folders=()) -> str:
    """Write the shortcut; return the Chinese line to print. Raises
    UserError on a system other than Windows or when PowerShell fails."""
    from yibao.cli import UserError
    if sys.platform != "win32":
        raise UserError("桌面快捷方式只用于Windows；在这台电脑上请直接运行：yibao app")
    try:
        done = subprocess.run(command(script(python_for_shortcut(), folders)), capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        raise UserError(f"未能创建桌面快捷方式：无法运行PowerShell（{exc}）") from None
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UserError(f"未能创建桌面快捷方式：{err[-1] if err else 'PowerShell出错'}")
    link = done.stdout.decode("utf-8", "replace").strip().splitlines()
    return f"已在桌面放好“{NAME}”快捷方式：{link[-1] if link else NAME + '.lnk'}；双击它即可打开助手"
