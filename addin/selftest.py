"""``yibao addin selftest``: check the add-in on a Windows PC with Excel,
unattended, and write a report to send back (issue 13 item 9).

It drives Excel through xlwings, as a person going through the checklist in
``docs/windows.md`` would:

1. start Excel and open the installed ``yibao.xlam`` (Excel started by
   automation does not open XLSTART by itself);
2. open a new ledger form (``yibao template new ledger``) and time it;
3. enter each function of :data:`yibao.functions.udf.REGISTRY` in a scratch
   workbook and compare what Excel shows with what the same function gives
   in this Python process;
4. run each ribbon action through ``Application.Run`` of the add-in's
   ``RunPython`` with the command its button runs (read from
   ``yibao_ribbon.bas``), on fictional files from ``yibao synth``; the
   action's line goes to a file instead of a message box. 合并资助名单 asks
   for files in a dialog and is left to the person;
5. time a full recalculation (``Application.CalculateFull``) of a ledger of
   300 and of 5,000 fictional persons, with one formula per cell and with
   one array formula per column.

The report is ``自检报告.json`` (every check, its result and seconds, Excel's
and Python's versions, nothing personal: the persons are fictional) and
``自检报告.txt``, the same in Chinese sentences. :func:`selftest` takes the
xlwings module as an argument, so the tests run it against a recording
stand-in on Linux.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import platform
import random
import re
import sys
import time
from pathlib import Path

__all__ = ["selftest", "summary", "write_report", "SAMPLE_ID", "SIZES", "SelftestError"]

#: fictional (region 430999), correct check digit
SAMPLE_ID = "430999195001010213"
SAMPLE_PLAN = "shuangshui-2025"
SIZES = (300, 5000)
ADDIN_NAME = "yibao.xlam"
#: actions that open a dialog: not driven unattended
MANUAL_ACTIONS = {
    "dedupe": "要在对话框中选择名单文件，请手工点一次“合并资助名单”",
    "reconcile": "要在对话框中选择缴费导出文件，请手工点一次“缴费比对”",
    "uninsured": "要在对话框中选择户籍人口名单，请手工点一次“应参未参”",
    "renewal": "要在对话框中选择上年度台账，请手工点一次“续保催缴”",
    "split": "要在比对结果工作簿中使用，请手工点一次“分村下发”",
    "gather": "要在对话框中选择各村交回的文件，请手工点一次“收回汇总”",
}
#: which synth file each action runs on
TOWN_ACTIONS = {"quota", "reward", "progress", "summary"}


class SelftestError(Exception):
    """The test cannot start (no xlwings, no Excel, add-in not installed); Chinese message."""


@dataclasses.dataclass
class Check:
    group: str          # 加载项 / 函数 / 功能区 / 重算
    name: str
    ok: bool | None     # None: not tested (manual)
    detail: str = ""
    seconds: float | None = None
    data: dict = dataclasses.field(default_factory=dict)


# ---------------------------------------------------------------- samples

def function_samples(plan_id: str = SAMPLE_PLAN) -> dict[str, tuple[str, tuple]]:
    """name → (formula, Python arguments) for every registry function."""
    from yibao.functions import plan as plans
    from yibao.functions.udf import REGISTRY
    plan = plans.load(plan_id)
    pay = _pay_day(plan)
    out = {}
    for name, spec in REGISTRY.items():
        if name == "ID_AGE":
            day = plan.year_start
            args = (SAMPLE_ID, datetime.datetime(day.year, day.month, day.day))
            text = f'={name}("{SAMPLE_ID}",DATE({day.year},{day.month},{day.day}))'
        elif spec.args and spec.args[-1].name == "policy":
            args = (SAMPLE_ID, "低保对象", pay, "", "", "", plan_id)
            text = (f'={name}("{SAMPLE_ID}","低保对象",DATE({pay.year},{pay.month},{pay.day}),'
                    f'"","","","{plan_id}")')
        else:
            args = (SAMPLE_ID,)
            text = f'={name}("{SAMPLE_ID}")'
        out[name] = (text, args)
    return out


def _pay_day(plan) -> datetime.datetime:
    first = min(r.start for r in plan.rules)
    return datetime.datetime(first.year, first.month, first.day) + datetime.timedelta(days=10)


def expected(name: str, args: tuple):
    from yibao.functions.udf import REGISTRY
    value = REGISTRY[name].func(*args)
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def same(shown, want) -> bool:
    """Excel's value and Python's, the way a person reads the cell."""
    return _norm(shown) == _norm(want)


def _norm(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return round(float(value), 2)
    if value is None:
        return ""
    from decimal import Decimal
    if isinstance(value, Decimal):
        return round(float(value), 2)
    return str(value)


def ribbon_commands() -> dict[str, str]:
    """action id → the Python command its button runs, from ``yibao_ribbon.bas``."""
    from .build import source
    text = source("yibao_ribbon.bas")
    found = re.findall(r'Case "yibao_(\w+)": pythonCode = "([^"]+)"', text)
    return dict(found)


def fictional_rows(plan_id: str, count: int, seed: int = 13) -> list[dict]:
    """Ledger rows of fictional persons: IDs in region 430999 with correct check digits."""
    from stdnum.cn.ric import calc_check_digit
    from yibao.functions import plan as plans
    plan = plans.load(plan_id)
    rng = random.Random(seed)
    names = [c.name for c in plan.categories if not c.from_age]
    pay = _pay_day(plan)
    rows = []
    for i in range(count):
        born = datetime.date(rng.randrange(1930, 2020), rng.randrange(1, 13), rng.randrange(1, 29))
        body = f"430999{born:%Y%m%d}{i % 1000:03d}"
        rows.append({
            "name": f"虚构{i + 1}",
            "id_no": body + calc_check_digit(body + "0"),
            "identities": rng.choice(names) if names and rng.random() < 0.3 else None,
            "pay_date": pay + datetime.timedelta(days=rng.randrange(0, 60)),
        })
    return rows


def ledger_file(path: Path, plan_id: str, rows: int) -> Path:
    """A ledger form of ``rows`` rows, all filled with fictional persons
    (a real recalculation: every function cell has a person to compute)."""
    import openpyxl
    from yibao.functions import plan as plans
    from yibao.templates import builder, content
    from yibao.templates.spec import form
    plan = plans.load(plan_id)
    shape = dataclasses.replace(form("ledger"), rows=rows)
    wb = builder._build_workbook(shape, plan, None, None, fit=False)
    layout = builder.Layout(shape, plan, content.context(plan), fit=False)
    ws = wb.worksheets[0]
    for r, person in zip(layout.data_rows(), fictional_rows(plan_id, rows)):
        for key, value in person.items():
            if key in layout.col and value is not None:
                ws.cell(r, layout.col[key]).value = value
    wb.calculation.fullCalcOnLoad = False     # timed by CalculateFull, not while opening
    ws.protection.sheet = False               # the column form is written into the locked function cells
    wb.save(path)
    return path


def column_formulas(path: Path, plan_id: str, rows: int) -> list[tuple[str, str]]:
    """(range address, array formula) per function column of :func:`ledger_file`:
    the same cells as one call per column range."""
    from yibao.functions import plan as plans
    from yibao.templates import builder, content
    from yibao.templates.spec import form
    plan = plans.load(plan_id)
    shape = dataclasses.replace(form("ledger"), rows=rows)
    layout = builder.Layout(shape, plan, content.context(plan), fit=False)
    first, last = layout.first_data, layout.last_data
    out = []
    for c in layout.columns:
        if c.kind != "udf":
            continue
        text = re.sub(r"\[\[([a-z_0-9]+)\]\]",
                      lambda m: f"{layout.letter(m.group(1))}{first}:{layout.letter(m.group(1))}{last}",
                      c.formula)
        col = layout.letter(c.key)
        out.append((f"{col}{first}:{col}{last}", text))
    return out


# ---------------------------------------------------------------- the run

def selftest(xw, workdir: Path, addin: Path | None = None, sizes=SIZES, clock=time.perf_counter,
             progress=print) -> dict:
    """Run every check; returns the report (see :func:`write_report`).
    ``xw``: the xlwings module (or a stand-in with its App/Book/Range API)."""
    from yibao.functions.udf import REGISTRY
    from yibao.templates import builder
    from . import build, install
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if addin is None:
        where = install.detect().xlstart
        addin = where / ADDIN_NAME if where else None
    if addin is None or not Path(addin).is_file():
        raise SelftestError("没有找到已安装的加载项 yibao.xlam，请先运行 yibao addin install")
    checks: list[Check] = []
    report = {
        "yibao_selftest": 1,
        "when": datetime.datetime.now().isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "xlwings": getattr(xw, "__version__", "?"),
        "addin_matches_this_version": Path(addin).read_bytes() == build.build_bytes(),
        "checks": [],
    }
    try:
        app = xw.App(visible=True, add_book=False)
    except Exception as exc:
        raise SelftestError(f"无法启动 Excel（{_short(exc)}）；请确认本机装有 Microsoft Excel") from None
    try:
        app.display_alerts = False
        report["excel"] = str(app.version)
        t0 = clock()
        try:
            app.books.open(str(addin))
            checks.append(Check("加载项", "打开 yibao.xlam", True, str(addin), clock() - t0))
        except Exception as exc:
            checks.append(Check("加载项", "打开 yibao.xlam", False, _short(exc), clock() - t0))
            raise SelftestError(f"Excel 打不开加载项 {addin}（{_short(exc)}）") from None

        # a new ledger form, as `yibao template new ledger` writes it
        form = workdir / "新台账.xlsx"
        form.write_bytes(builder.build_bytes("ledger", SAMPLE_PLAN))
        t0 = clock()
        book = app.books.open(str(form))
        checks.append(Check("加载项", "打开新台账模板", True, form.name, clock() - t0))
        book.close()

        progress("正在逐个输入函数……")
        scratch = app.books.add()
        cell = scratch.sheets[0].range("A1")
        for name, (text, args) in function_samples().items():
            want = expected(name, args)
            t0 = clock()
            try:
                cell.formula = text
                app.calculate()
                shown = cell.value
            except Exception as exc:
                shown = f"（{_short(exc)}）"
            ok = same(shown, want)
            checks.append(Check("函数", name, ok, "" if ok else f"Excel显示“{_norm(shown)}”，应为“{_norm(want)}”",
                                clock() - t0, {"formula": text, "shown": _norm(shown), "expected": _norm(want)}))
        scratch.close()

        progress("正在逐个运行功能区按钮……")
        checks += _actions(app, workdir, clock)

        for rows in sizes:
            progress(f"正在计时：{rows}行台账的全部重算……")
            checks += _recalc(app, workdir, rows, clock)
    finally:
        try:
            app.quit()
        except Exception:
            pass
    report["checks"] = [dataclasses.asdict(c) for c in checks]
    report["functions_tested"] = sorted(c.name for c in checks if c.group == "函数")
    report["functions_expected"] = sorted(REGISTRY)
    return report


def _actions(app, workdir: Path, clock) -> list[Check]:
    from yibao import synth
    from yibao.macros.ribbon import ACTIONS
    town = workdir / "示例镇"
    if not town.exists():
        synth.write(synth.town(1000), town)
    ledger = sorted((town / "台账").glob("*.xlsx"))[0]
    tasks = town / "任务分配表.xlsx"
    commands = ribbon_commands()
    out = []
    for action, (_module, label) in ACTIONS.items():
        if action in MANUAL_ACTIONS:
            out.append(Check("功能区", label, None, MANUAL_ACTIONS[action]))
            continue
        command = commands.get(action)
        if command is None:
            out.append(Check("功能区", label, False, "加载项的按钮中没有这个功能"))
            continue
        target = tasks if action in TOWN_ACTIONS else ledger
        line_file = workdir / f"按钮-{action}.txt"
        line_file.unlink(missing_ok=True)
        run = command.replace(f"r.run('{action}')", f"r.run('{action}', report=r'{line_file}')")
        t0 = clock()
        try:
            book = app.books.open(str(target))
            book.activate()
            app.api.Run(f"'{ADDIN_NAME}'!RunPython", run)
            line = line_file.read_text(encoding="utf-8") if line_file.exists() else ""
            error = ""
        except Exception as exc:
            line, error = "", _short(exc)
        seconds = clock() - t0
        if error or not line:
            ok, detail = False, error or "没有得到结果（Python 没有运行或中途退出）"
        elif _english_error(line):
            ok, detail = False, line
        else:
            ok, detail = True, line
        out.append(Check("功能区", label, ok, detail, seconds, {"file": target.name}))
        for b in list(app.books):
            if b.name != ADDIN_NAME:
                try:
                    b.close()
                except Exception:
                    pass
    return out


def _recalc(app, workdir: Path, rows: int, clock) -> list[Check]:
    path = ledger_file(workdir / f"重算-{rows}行.xlsx", SAMPLE_PLAN, rows)
    out = []
    book = app.books.open(str(path))
    try:
        sheet = book.sheets[0]
        cells = rows * len(column_formulas(path, SAMPLE_PLAN, rows))
        t0 = clock()
        app.api.CalculateFull()
        per_cell = clock() - t0
        out.append(Check("重算", f"{rows}行，每格一个公式", True, f"{cells}个函数单元格", per_cell,
                         {"rows": rows, "cells": cells, "form": "cell"}))
        for address, text in column_formulas(path, SAMPLE_PLAN, rows):
            sheet.range(address).api.FormulaArray = text
        t0 = clock()
        app.api.CalculateFull()
        per_column = clock() - t0
        out.append(Check("重算", f"{rows}行，每列一个数组公式", True, f"{cells}个函数单元格", per_column,
                         {"rows": rows, "cells": cells, "form": "column"}))
    finally:
        book.close()
    return out


def _english_error(line: str) -> bool:
    return bool(re.search(r"Traceback|Error|Exception|Could not|找不到宏", line))


def _short(exc) -> str:
    text = str(exc).strip().splitlines()
    return (text[-1] if text else type(exc).__name__)[:200]


# ---------------------------------------------------------------- report

def summary(report: dict) -> str:
    """The report in Chinese sentences, for the person to read and send."""
    checks = report["checks"]
    failed = [c for c in checks if c["ok"] is False]
    manual = [c for c in checks if c["ok"] is None]
    lines = [f"医保征缴加载项自检报告（{report['when']}）",
             f"Excel {report.get('excel', '?')}，Python {report['python']}，xlwings {report['xlwings']}，{report['platform']}",
             "已安装的加载项与本机 yibao 版本一致" if report.get("addin_matches_this_version")
             else "已安装的加载项与本机 yibao 版本不一致：请运行 yibao addin install",
             ""]
    lines.append("结论：全部通过" if not failed else f"结论：{len(failed)}项未通过")
    for group in ("加载项", "函数", "功能区", "重算"):
        items = [c for c in checks if c["group"] == group]
        if not items:
            continue
        good = sum(1 for c in items if c["ok"])
        lines.append(f"\n【{group}】{good}/{len(items)}项通过")
        for c in items:
            mark = {True: "通过", False: "未通过", None: "需手工"}[c["ok"]]
            secs = f"，{c['seconds']:.2f}秒" if c["seconds"] is not None else ""
            lines.append(f"  {c['name']}：{mark}{secs}" + (f"（{c['detail']}）" if c["detail"] else ""))
    recalc = {(c["data"].get("rows"), c["data"].get("form")): c["seconds"] for c in checks if c["group"] == "重算"}
    for rows in sorted({r for r, _ in recalc}):
        cell, column = recalc.get((rows, "cell")), recalc.get((rows, "column"))
        if cell and column:
            lines.append(f"  {rows}行：每格公式重算{cell:.2f}秒，每列数组公式{column:.2f}秒（{cell / column:.1f}倍）")
    if manual:
        lines.append("\n需要手工确认：" + "；".join(c["detail"] for c in manual)
                     + "；功能区“医保征缴”选项卡、按钮图标和函数向导中的中文说明")
    lines.append("\n请把本文件和同一文件夹中的 自检报告.json 发给开发人员。")
    return "\n".join(lines) + "\n"


def write_report(report: dict, folder: Path) -> tuple[Path, Path]:
    from yibao.atomic import write_atomic
    folder = Path(folder)
    data = folder / "自检报告.json"
    text = folder / "自检报告.txt"
    write_atomic(data, json.dumps(report, ensure_ascii=False, indent=1, default=str).encode("utf-8"))
    write_atomic(text, summary(report).encode("utf-8-sig"))       # BOM: Notepad on older Windows
    return data, text


def cmd_selftest(args, xw=None) -> int:
    if xw is None:
        try:
            import xlwings as xw
        except ImportError:
            print("错误：没有安装 xlwings，请运行 pip install xlwings", file=sys.stderr)
            return 2
        if sys.platform != "win32" and not getattr(args, "allow_any_os", False):
            print("错误：自检要在装有 Microsoft Excel 的 Windows 电脑上运行", file=sys.stderr)
            return 2
    folder = Path(args.output or f"yibao-自检-{datetime.datetime.now():%Y%m%d-%H%M%S}")
    sizes = tuple(args.rows) if getattr(args, "rows", None) else SIZES
    try:
        report = selftest(xw, folder, addin=args.addin, sizes=sizes)
    except SelftestError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    data, text = write_report(report, folder)
    failed = sum(1 for c in report["checks"] if c["ok"] is False)
    print("自检完成：全部通过" if not failed else f"自检完成：{failed}项未通过")
    print(f"报告：{text}（和 {data.name}），请发给开发人员")
    return 0 if not failed else 1
