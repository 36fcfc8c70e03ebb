"""``yibao app``: the ribbon's actions in a local web page, for staff
whose PC runs WPS 表格 (no xlwings, no ribbon) and who never open a
command prompt.

The page runs every action through the very entry the command line runs
(:func:`yibao.cli.main` with the argv the page builds), in a worker thread,
and shows its one Chinese result line; nothing of an action is written
again here. :mod:`.actions` reads each command's argparse parser to draw
its form, :mod:`.jobs` runs it, :mod:`.server` is the Flask application
(loopback only, a random token on every request, the Host header checked,
uploads size-limited, files only in the user's folders or the app's own),
:mod:`.shortcut` puts 医保征缴助手 on a Windows desktop.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import threading
import webbrowser
from pathlib import Path

__all__ = ["add_parser", "cmd_app", "default_workdir"]

#: the only address the page is served on: nobody else on the network gets in
HOST = "127.0.0.1"


def default_workdir() -> Path:
    """The app's own folder: uploads in 上传/, results in 结果/."""
    return Path.home() / "医保征缴助手"


def _free_port() -> int:
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def cmd_app(args) -> int:
    from yibao.cli import UserError
    folders = [Path(f).expanduser().resolve() for f in args.folders]
    for folder in folders:
        if not folder.is_dir():
            raise UserError(f"“{folder}”不是一个文件夹")
    if args.shortcut:
        from . import shortcut
        print(shortcut.make(folders))
        return 0
    workdir = Path(args.workdir).expanduser() if args.workdir else default_workdir()
    port = args.port or _free_port()
    token = secrets.token_urlsafe(24)
    from .server import create_app, make_server
    app = create_app(token=token, port=port, workdir=workdir, folders=folders,
                     max_upload_mb=args.max_upload_mb)
    try:
        server = make_server(app, port)
    except OSError as exc:
        raise UserError(f"无法在本机端口{port}上启动（{exc.strerror or exc}）；请换一个端口，或不写 --port") from None
    url = f"http://{HOST}:{port}/?token={token}"
    print(f"医保征缴助手已启动：{url}\n请在浏览器中使用；用完关闭本窗口（或按 Ctrl+C）即可退出。"
          f"结果文件保存在“{workdir / '结果'}”。")
    sys.stdout.flush()
    if not args.no_browser:
        threading.Timer(0.8, webbrowser.open, args=(url,)).start()
    try:
        server.run()
    except KeyboardInterrupt:
        print("医保征缴助手已退出")
    finally:
        server.close()
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "app", help="在浏览器中使用全部功能（WPS用户、不用命令行） / the actions in a local web page",
        description="在本机启动医保征缴助手网页并用默认浏览器打开：选方案、选择或拖入台账和名单，"
                    "点按钮校验、刷新、合并资助名单、任务分配、进度通报、汇总上报、公示名单等，与命令行结果相同。"
                    "只在本机（127.0.0.1）使用，别的电脑打不开，文件不会离开本机。"
                    " Serves the ribbon's actions as a page on 127.0.0.1 and opens the browser.")
    p.add_argument("folders", nargs="*", metavar="文件夹",
                   help="页面可读写的文件夹（默认只有用户主目录和助手自己的文件夹） / extra folders the page may use")
    p.add_argument("--port", type=int, help="端口（默认随机空闲端口） / port")
    p.add_argument("--workdir", help="助手自己的文件夹（默认 ~/医保征缴助手） / the app's own folder")
    p.add_argument("--max-upload-mb", type=int, default=200, help="上传文件大小上限（MB，默认200） / upload limit")
    p.add_argument("--no-browser", action="store_true", help="不自动打开浏览器 / don't open the browser")
    p.add_argument("--shortcut", action="store_true",
                   help="在Windows桌面放一个“医保征缴助手”快捷方式 / put a desktop shortcut on Windows")
    p.set_defaults(func=cmd_app)
    return p
