"""What each ribbon button runs inside Excel: ``run(action_id)``.

The add-in's VBA calls ``RunPython "import yibao.macros.ribbon as r; r.run('validate')"``.
Each action is the same function the ``yibao`` command runs, given the live
workbook through :class:`yibao.macros._excel.ExcelBook` instead of a file.
:func:`run` only wires Excel (the calling workbook, the file dialog, the
alert); :func:`perform` is the rest and runs on any book, so tests run it
without Excel.

The lists a status is decided from (death list, employee-insurance list,
merged roster) are what ``yibao validate --lists …`` is given on the command
line; in Excel there is no command line, so the files beside the workbook
are looked at (:func:`yibao.macros.lists.find_nearby_lists`) and the result
line says which were used.
"""

from __future__ import annotations

import importlib
from pathlib import Path

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
    # group 比对 (issue 14): each module's ``ribbon(live, workbook, pick_files)``
    "reconcile": ("yibao.macros.reconcile", "缴费比对"),
    "uninsured": ("yibao.macros.uninsured", "应参未参"),
    "renewal": ("yibao.macros.renewal", "续保催缴"),
    "split": ("yibao.macros.split", "分村下发"),
    "gather": ("yibao.macros.gather", "收回汇总"),
}

#: actions whose module decides for itself what to ask for and read:
#: ``module.ribbon(live, workbook, pick_files) -> str`` (the compare group)
OWN_RIBBON = ("reconcile", "uninsured", "renewal", "split", "gather")

#: actions that decide enrollment statuses, and so use the lists beside the workbook
WITH_LISTS = ("validate", "notice", "summary", "progress", "reward")


def perform(action_id: str, live, workbook: Path, pick_files=None) -> str:
    """Run one ribbon action on ``live`` (any :class:`~yibao.macros.book.Book`),
    the workbook saved at ``workbook``; return the Chinese result line.
    ``pick_files(title)`` asks the user for files (a list of paths, or None
    when cancelled): the department lists (dedupe), the payment export, last
    year's ledgers, returned village workbooks (the 比对 group). Raises what
    the action raises."""
    module_name, _label = ACTIONS[action_id]
    module = importlib.import_module(module_name)
    if action_id in OWN_RIBBON:
        return module.ribbon(live, Path(workbook), pick_files)
    nearby = None
    if action_id in WITH_LISTS:
        from .lists import find_nearby_lists
        nearby = find_nearby_lists(Path(workbook))
    if action_id == "validate":
        return module.run([live], lists=nearby.lists) + nearby.note()
    if action_id == "notice":
        return module.run(live, lists=nearby.lists) + nearby.note()
    if action_id in ("summary", "progress", "reward"):
        options = {"lists": nearby.lists}
        if action_id == "summary" and nearby.roster_rows():
            from .summary import roster_persons
            options["roster"] = roster_persons(nearby.roster_rows())
        return module.run(live, None, options) + nearby.note()
    if action_id == "dedupe":
        files = pick_files("选择各部门资助名单，可连同死亡人员名单、职工医保参保名单（可多选）") if pick_files else None
        if not files:
            return ""
        from .validate import resolve_plan
        plan = resolve_plan(None, live.grids())
        output = Path(workbook).with_name("资助名单比对结果.xlsx")
        return module.run([Path(f) for f in files], plan, output)
    return module.run(live)


def run(action_id: str, report: str | None = None):
    """Run one button's action on the calling workbook and show its line.
    ``report``: a file to write the line to instead of the message box
    (``yibao addin selftest`` drives the buttons unattended)."""
    import xlwings as xw
    from ._excel import ExcelBook

    book = xw.Book.caller()
    _module_name, label = ACTIONS[action_id]
    try:
        live = ExcelBook(book)
        if action_id == "new_ledger":
            module = importlib.import_module(ACTIONS[action_id][0])
            path, line = module.new_ledger(live)
            xw.Book(str(path))                    # open it for the user to fill
        else:
            def pick_files(title: str):
                picked = book.app.api.GetOpenFilename(
                    "Excel或文本文件 (*.xls*;*.csv;*.txt),*.xls*;*.csv;*.txt", 1, title, None, True)
                # Excel returns False when cancelled, else a tuple of paths
                return [str(p) for p in picked] if picked else None
            line = perform(action_id, live, Path(book.fullname), pick_files)
            if not line:
                return
    except Exception as exc:  # show the user one line, never a traceback
        from yibao.functions.plan import PlanError
        line = f"{label}未完成：{exc.text() if isinstance(exc, PlanError) else exc}"
    if report:
        from pathlib import Path
        Path(report).write_text(line, encoding="utf-8")
        return
    book.app.alert(line, title=f"医保征缴 · {label}")
