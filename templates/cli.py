"""``yibao template list`` / ``yibao template new FORM --policy ID``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .spec import FORMS, form as find_form

__all__ = ["add_parser", "cmd_list", "cmd_new"]


def _user_error(text: str):
    from yibao.cli import UserError
    return UserError(text)


def cmd_list(args) -> int:
    print("可用的台账模板（yibao template new 模板 --policy 方案编号 -o 文件.xlsx）：")
    for f in FORMS:
        print(f"  {f.id:<13}{f.name}（{f.source}）：{f.description}")
    from yibao.functions import plan as plans
    ids = [pid for pid, _path, _origin in plans.list_plans()]
    print(f"方案：{'、'.join(ids)}")
    return 0


def cmd_new(args) -> int:
    from yibao.functions import plan as plans
    from . import builder, content

    try:
        f = find_form(args.form)
    except KeyError:
        raise _user_error(f"没有“{args.form}”这个模板；可用：{'、'.join(x.id for x in FORMS)}"
                          "（运行 yibao template list 查看）") from None
    try:
        plan = plans.load(args.policy)
    except plans.PlanError as exc:
        raise _user_error(str(exc)) from None
    for label, value in (("乡镇", args.town), ("村", args.village)):
        if value is not None and (not value.strip() or len(value) > 30 or any(ch in value for ch in "\r\n\t")):
            raise _user_error(f"{label}名称“{value}”不对：应为1至30个字，不含换行")
    if args.output:
        target = Path(args.output)
    else:
        title = f.title.format(**content.context(plan, args.town, args.village))
        suffix = f"-{args.village}" if args.village else ""
        target = Path(f"{title}{suffix}.xlsx")
    if target.suffix.lower() != ".xlsx":
        raise _user_error(f"输出文件应以 .xlsx 结尾：{target}")
    if target.exists() and not args.force:
        raise _user_error(f"{target} 已存在；要覆盖请加 --force（原文件会备份为 .bak）")
    if target.is_dir():
        raise _user_error(f"{target} 是文件夹，请给出文件名，如 {target / (f.name + '.xlsx')}")
    data = builder.build_bytes(f, plan, args.town, args.village)
    backup = builder.write_template(target, data, force=True)
    print(f"已生成“{f.name}”：{target}（方案 {plan.id}）" + (f"；原文件备份为 {backup}" if backup else ""))
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``template`` (list / new) to the ``yibao`` command."""
    template = subparsers.add_parser(
        "template", help="生成方案规定的台账、登记表（Excel模板） / official ledger templates",
        description="按方案生成带实时校验的台账和登记表。 Build the plans' forms as Excel workbooks with live validation.")
    tsub = template.add_subparsers(dest="template_command", metavar="子命令")
    p = tsub.add_parser("list", help="列出全部模板 / list the forms")
    p.set_defaults(func=cmd_list)
    p = tsub.add_parser("new", help="按方案生成一个模板文件 / build one form for a plan",
                        description="如：yibao template new ledger --policy xinqiao-2021 --village 新桥村 -o 台账.xlsx")
    p.add_argument("form", metavar="FORM", help="模板：" + "、".join(f"{f.id}（{f.name}）" for f in FORMS)
                   + " / form id")
    p.add_argument("--policy", required=True, help="方案编号或方案文件 / plan id or .toml path")
    p.add_argument("--town", help="乡镇（街道）名称，默认取方案的 / town name (default: the plan's)")
    p.add_argument("--village", help="村（社区）名称 / village name")
    p.add_argument("-o", "--output", help="输出文件 .xlsx（默认按表名） / output file")
    p.add_argument("--force", action="store_true", help="覆盖已有文件（先备份为 .bak） / overwrite, keeping a backup")
    p.set_defaults(func=cmd_new)
    template.set_defaults(func=lambda a: (template.print_help(), 0)[1])
    return template
