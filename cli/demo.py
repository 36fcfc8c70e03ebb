"""The whole season for the fictional 示例镇, on bundled data: ``yibao demo``.

Makes the town's data (:mod:`yibao.synth`, the same files as
``examples/示例镇``), then does what a township's staff do in a season, in
order, with the very functions the ribbon buttons and the ``yibao``
commands run, and writes the submission pack::

    DIR/原始数据/              the inputs as the villages and departments sent them (never changed)
    DIR/资助名单比对结果.xlsx   合并资助名单: final roster, exceptions, feedback per department, counts
    DIR/台账/<村>.xlsx          filled ledgers: computed columns refreshed, 校验报告 sheet, marked cells
    DIR/任务分配表.xlsx         任务分配, 进度通报 (with its chart) and 奖励测算 sheets
    DIR/缴费比对结果.xlsx       the ledgers reconciled with the tax bureau's payment export
    DIR/缴费比对结果-医保平台.xlsx  … and with the 医保信息平台's export (other column names)
    DIR/续保催缴名单.xlsx       last year's insured not yet enrolled this year (上年度台账 against 台账)
    DIR/未参保核查结果.xlsx     the household register against everyone enrolled: 未参保原因 per village
    DIR/汇总上报.xlsx, .pdf     the stamped summary (PDF where LibreOffice is installed)
    DIR/公示名单/<村>.xlsx      public notices, IDs masked

The folder must be new or empty, or an earlier demo's (it holds the marker
``.yibao-demo``): a user's own files are never written over.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import time
from pathlib import Path

from yibao.functions import plan as plans

from . import synth

__all__ = ["run", "add_parser", "AS_OF"]

MARKER = ".yibao-demo"
#: the day the progress report is made: the plan's first milestone (95% by Dec 31)
AS_OF = datetime.date(2025, 12, 31)
STEPS = 11


def _fresh_book(path: Path):
    """A workbook this demo just copied from its own data: saved without a
    backup beside it (there is nothing of the user's to keep)."""
    from yibao.macros import book as books

    class FreshCopy(books.FileBook):
        def save(self, backup: bool = False):
            return super().save(backup=False)

    return FreshCopy(path)


def _check_folder(folder: Path) -> None:
    from yibao.cli import UserError
    if folder.exists() and not folder.is_dir():
        raise UserError(f"“{folder}”是一个文件，请给一个文件夹名")
    if folder.is_dir() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise UserError(f"文件夹“{folder}”里已有别的文件；演示只写入新的或空的文件夹，请换一个名字")


def run(folder: Path, persons: int = 1000, pdf: bool = True, bar=None) -> list[tuple[str, Path]]:
    """Run the season into ``folder``; returns (what, path) for each result."""
    from yibao.macros import dedupe, notice, progress, quota, reconcile, refresh, renewal, reward, summary, town, validate

    folder = Path(folder)
    _check_folder(folder)
    if folder.is_dir() and (folder / MARKER).exists():
        # an earlier demo's output: replaced as a whole
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("yibao demo output; the whole folder is replaced by the next demo run\n",
                                 encoding="utf-8")
    plan = plans.load(synth.PLAN_ID)
    made: list[tuple[str, Path]] = []
    step = 0

    def tick(label):
        nonlocal step
        step += 1
        if bar:
            bar.label = label
            bar(step, STEPS)

    tick("生成示例数据")
    source = folder / "原始数据"
    data = synth.town(persons)
    synth.write(data, source)
    villages = [v for v, _ in synth.VILLAGES]
    made.append(("原始数据（各村台账、上年度台账、部门名单、任务表、税务和医保平台缴费明细、户籍人口名单、异地参保登记表、错误清单）", source))

    tick("合并资助名单")
    lists = [source / "部门名单" / f"{d}.xlsx" for d in synth.DEPARTMENTS]
    roster = folder / "资助名单比对结果.xlsx"
    line = dedupe.run([p for p in lists if p.exists()], plan, roster,
                      deceased=[source / "部门名单" / "死亡人员名单.xlsx"],
                      employee=[source / "部门名单" / "职工医保参保名单.xlsx"])
    made.append((f"合并资助名单：{line}", roster))

    tick("刷新计算列")
    ledgers = []
    for village in villages:
        target = folder / "台账" / f"{village}.xlsx"
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(source / "台账" / f"{village}.xlsx", target)
        refresh.run(_fresh_book(target), plan)
        ledgers.append(target)

    tick("校验台账")
    from yibao.macros.lists import read_side_lists
    side = read_side_lists([roster], deceased=[source / "部门名单" / "死亡人员名单.xlsx"],
                           employee=[source / "部门名单" / "职工医保参保名单.xlsx"])
    line = validate.run([_fresh_book(p) for p in ledgers], plan, lists=side)
    made.append((f"刷新并校验各村台账：{line}", folder / "台账"))

    tick("缴费比对")
    compared = folder / "缴费比对结果.xlsx"
    line = reconcile.run(source / synth.EXPORT_FILE, [str(p) for p in ledgers], plan.id, compared, lists=side)
    made.append((f"缴费比对（税务缴费明细与台账）：{line}", compared))
    compared = folder / "缴费比对结果-医保平台.xlsx"
    line = reconcile.run(source / synth.PLATFORM_FILE, [str(p) for p in ledgers], plan.id, compared, lists=side)
    made.append((f"缴费比对（医保平台缴费明细与台账）：{line}", compared))

    tick("续保催缴")
    chase = folder / "续保催缴名单.xlsx"
    last = [str(source / synth.LAST_FOLDER / f"{v}.xlsx") for v in villages]
    line = renewal.run(last, [str(p) for p in ledgers], plan.id, output=chase, lists=side)
    made.append((f"续保催缴（上年度台账与今年台账）：{line}", chase))

    tick("未参保核查")
    from yibao.macros import uninsured
    from . import synth_roster
    checked = folder / "未参保核查结果.xlsx"
    line = uninsured.run(source / synth_roster.ROSTER_FILE, [str(p) for p in ledgers], plan.id, checked,
                         export=str(source / synth.EXPORT_FILE), lists=side,
                         elsewhere=[str(source / synth_roster.ELSEWHERE_FILE)])
    made.append((f"未参保核查（户籍人口名单与台账、缴费导出、名单比对）：{line}", checked))

    tasks = folder / "任务分配表.xlsx"
    shutil.copyfile(source / "任务分配表.xlsx", tasks)
    sources = town.read_sources([str(p) for p in ledgers])
    tick("任务分配")
    line = quota.run(_fresh_book(tasks), plan, {"lists": side})
    made.append((f"任务分配：{line}", tasks))
    tick("进度通报")
    line = progress.run(_fresh_book(tasks), plan, {"ledgers": sources, "date": AS_OF, "lists": side})
    made.append((f"进度通报：{line}", tasks))
    tick("奖励测算")
    line = reward.run(_fresh_book(tasks), plan, {"ledgers": sources, "lists": side})
    made.append((f"奖励测算：{line}", tasks))

    tick("汇总上报")
    sheet = folder / "汇总上报.xlsx"
    first, rest = ledgers[0], sources[1:]
    line = summary.run(_fresh_book(first), plan, {"ledgers": rest, "output": sheet, "town": synth.TOWN, "lists": side,
                                                  "roster": summary.read_roster(roster), "pdf": pdf})
    made.append((f"汇总上报：{line}", sheet))

    tick("公示名单")
    for village, ledger in zip(villages, ledgers):
        target = folder / "公示名单" / f"{village}.xlsx"
        target.parent.mkdir(exist_ok=True)
        notice.run(_fresh_book(ledger), plan, output=target, village=village, lists=side, others=sources)
    made.append(("公示名单（各村一份，身份证号已脱敏）", folder / "公示名单"))
    if bar:
        bar.close()
    return made


def cmd_demo(args) -> int:
    from yibao.macros._bar import Bar
    from yibao.cli import UserError
    if not synth.MIN_PERSONS <= args.persons <= 200_000:
        raise UserError(f"人数应在{synth.MIN_PERSONS}到200000之间（少于{synth.MIN_PERSONS}人放不下各种故意放的错误）")
    folder = Path(args.folder)
    started = time.monotonic()
    print(f"演示：虚构的{synth.TOWN}（{plans.load(synth.PLAN_ID).name}），{args.persons}人，从名单合并到汇总上报")
    made = run(folder, args.persons, pdf=not args.no_pdf, bar=Bar("演示"))
    for what, path in made:
        print(f"  {what}\n      → {path}")
    print(f"完成，用时{time.monotonic() - started:.0f}秒。全部结果在“{folder}”；"
          f"故意放的错误见“{folder / '原始数据' / '错误清单.md'}”")
    return 0


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "demo", help="用虚构的示例镇演示一个征缴季的全部工作 / run a whole season on fictional data",
        description=f"用虚构的{synth.TOWN}数据走一遍征缴季：合并资助名单、刷新和校验台账、缴费比对、续保催缴、未参保核查、任务分配、进度通报、"
                    "奖励测算、汇总上报（含PDF）、公示名单，结果写入一个文件夹。"
                    " Runs the whole season for a fictional town and writes the submission pack.")
    p.add_argument("folder", nargs="?", default="示例镇-演示", help="结果文件夹（默认“示例镇-演示”） / output folder")
    p.add_argument("--persons", type=int, default=1000, help="人数（至少1000，默认1000） / number of persons (at least 1000)")
    p.add_argument("--no-pdf", action="store_true", help="不生成PDF / skip the PDF")
    p.set_defaults(func=cmd_demo)
    return p
