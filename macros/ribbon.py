"""What each ribbon button runs inside Excel: ``run(action_id)``.

The add-in's VBA calls ``RunPython "import yibao.macros.ribbon as r; r.run('validate')"``.
Each action is the same function the ``yibao`` command runs, given the live
workbook through :class:`yibao.macros._excel.ExcelBook` instead of a file.
This module only wires; it cannot run without Excel.
"""

from __future__ import annotations

import importlib

ACTIONS = {
    # action id: (module, Chinese label)
    "new_ledger": ("yibao.templates.ribbon", "新建台账"),
    "validate": ("yibao.macros.validate", "校验"),
    "refresh": ("yibao.macros.refresh", "刷新"),
    "dedupe": ("yibao.macros.dedupe", "合并资助名单"),
    "quota": ("yibao.macros.quota", "任务分配"),
    "reward": ("yibao.macros.reward", "奖励测算"),
    "progress": ("yibao.macros.progress", "进度通报"),
    "summary": ("yibao.macros.summary", "汇总上报"),
    "notice": ("yibao.macros.notice", "公示名单"),
}


def run(action_id: str, report: str | None = None):
    """Run one button's action on the calling workbook and show its line.
    ``report``: a file to write the line to instead of the message box
    (``yibao addin selftest`` drives the buttons unattended)."""
    import xlwings as xw
    from ._excel import ExcelBook

    book = xw.Book.caller()
    module_name, label = ACTIONS[action_id]
    try:
        module = importlib.import_module(module_name)
        live = ExcelBook(book)
        if action_id == "new_ledger":
            path, line = module.new_ledger(live)
            xw.Book(str(path))                    # open it for the user to fill
        elif action_id == "validate":
            line = module.run([live])
        elif action_id == "dedupe":
            files = book.app.api.GetOpenFilename("Excel文件 (*.xls*;*.csv),*.xls*;*.csv", 1,
                                                 "选择各部门资助名单，可连同死亡人员名单、职工医保参保名单（可多选）", None, True)
            if not files:
                return
            from pathlib import Path
            from yibao.macros.validate import resolve_plan
            plan = resolve_plan(None, live.grids())
            output = Path(book.fullname).with_name("资助名单比对结果.xlsx")
            line = module.run([Path(f) for f in files], plan, output)
        else:
            line = module.run(live)
    except Exception as exc:  # show the user one line, never a traceback
        line = f"{label}未完成：{exc}"
    if report:
        from pathlib import Path
        Path(report).write_text(line, encoding="utf-8")
        return
    book.app.alert(line, title=f"医保征缴 · {label}")
