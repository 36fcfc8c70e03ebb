"""``yibao addin build | install | remove | status | fallback | selftest``.

``add_parser(subparsers)`` is called from :func:`yibao.cli.build_parser`.
Errors a user can cause end as one Chinese line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 2


def _guard(func):
    def run(args) -> int:
        from .build import BuildError
        from .install import InstallError
        try:
            return func(args)
        except (BuildError, InstallError) as exc:
            return _fail(str(exc))
        except OSError as exc:
            return _fail(f"无法读写文件：{exc.filename or ''}（{exc.strerror or exc}）")
    return run


@_guard
def cmd_build(args) -> int:
    from . import build
    start = time.perf_counter()
    path = build.build(args.output)
    seconds = time.perf_counter() - start
    version = build.xlwings_version()
    print(f"已生成 {path}（{path.stat().st_size // 1024} KB，用时 {seconds:.1f} 秒；"
          f"xlwings {version}）")
    print(f"它只能用在装有 xlwings {version} 的电脑上；在别的电脑上请运行 yibao addin install")
    return 0


@_guard
def cmd_install(args) -> int:
    from . import install
    for line in install.install(args.dir):
        print(line)
    return 0


@_guard
def cmd_remove(args) -> int:
    from . import install
    for line in install.remove(args.dir):
        print(line)
    return 0


@_guard
def cmd_status(args) -> int:
    from . import install
    ok, lines = install.status(args.dir)
    for line in lines:
        print(line)
    return 0 if ok else 1


@_guard
def cmd_fallback(args) -> int:
    from . import install
    for line in install.fallback(args.dir, args.vba_dir):
        print(line)
    print("接下来请按 docs/windows.md 的“备用方案”一节操作：在台账中点 xlwings → Import Functions "
          "导入函数（或在 VBA 编辑器里手工导入上面两个模块）；备用方案下没有功能区按钮，"
          "各项功能请在命令提示符里运行对应的 yibao 命令")
    return 0


def cmd_selftest(args) -> int:
    from .selftest import cmd_selftest as run
    return run(args)


def add_parser(subparsers) -> argparse.ArgumentParser:
    addin = subparsers.add_parser(
        "addin", help="生成、安装、卸载 Excel 加载项 / build and install the Excel add-in",
        description="Excel 加载项 yibao.xlam：功能区“医保征缴”选项卡和全部表格函数。"
                    " The Excel add-in: the 医保征缴 ribbon tab and every worksheet function.",
    )
    sub = addin.add_subparsers(dest="addin_command", metavar="子命令")

    p = sub.add_parser("build", help="生成 yibao.xlam（不需要 Excel） / write yibao.xlam, no Excel needed")
    p.add_argument("-o", "--output", default="yibao.xlam",
                   help="输出文件（默认当前文件夹的 yibao.xlam） / output file")
    p.set_defaults(func=cmd_build)

    dir_help = "XLSTART 文件夹（默认自动查找） / the XLSTART folder (found automatically)"
    p = sub.add_parser("install", help="安装到 Excel 启动文件夹 / install into Excel's XLSTART folder")
    p.add_argument("--dir", type=Path, help=dir_help)
    p.set_defaults(func=cmd_install)

    p = sub.add_parser("remove", help="从 Excel 启动文件夹删除 / remove from XLSTART")
    p.add_argument("--dir", type=Path, help=dir_help)
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("status", help="查看是否已安装、是否为当前版本 / show what is installed")
    p.add_argument("--dir", type=Path, help=dir_help)
    p.set_defaults(func=cmd_status)

    p = sub.add_parser(
        "fallback",
        help="备用方案：改用 xlwings 原版加载项 / use the stock xlwings add-in instead",
        description="当 yibao.xlam 在某台电脑上无法加载时使用：安装 xlwings 原版加载项，"
                    "设置函数模块和 Python，并写出需要手动导入的 VBA 模块。"
                    " For a PC where yibao.xlam does not load.",
    )
    p.add_argument("--dir", type=Path, help=dir_help)
    p.add_argument("--vba-dir", type=Path,
                   help="VBA 模块写到哪里（默认 用户目录\\yibao-vba） / where to write the .bas files")
    p.set_defaults(func=cmd_fallback)

    p = sub.add_parser(
        "selftest", help="在装有 Excel 的电脑上自动检查加载项并写出报告 / check the add-in in Excel, write a report",
        description="自动打开 Excel，逐个输入函数、运行功能区按钮、计时重算，写出自检报告（JSON 和中文说明）。"
                    " Drives Excel through xlwings and writes a report to send back.",
    )
    p.add_argument("-o", "--output", type=Path, help="报告文件夹（默认 yibao-自检-日期时间） / report folder")
    p.add_argument("--addin", type=Path, help="加载项文件（默认 XLSTART 中的 yibao.xlam） / the add-in file")
    p.add_argument("--rows", type=int, nargs="+", help="计时重算的台账行数（默认 300 5000） / rows to time")
    p.set_defaults(func=cmd_selftest)

    addin.set_defaults(func=lambda a: (addin.print_help(), 0)[1])
    return addin
