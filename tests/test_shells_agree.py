"""The golden cases through every shell (issue 12 item 8): the Excel functions
(as xlwings calls ``yibao.addin.udfs``), a ledger through the real ``yibao
refresh`` and ``yibao validate``, and ``yibao calc``, all reading the same
cell values, must agree with each other and with the golden answer.

Each case's input is written as staff type it, a different way per case:
flags as √, 是, Y, 1, TRUE or 已参加 (blank, 否, ×, 0, N when not insured),
dates as dates, date-times, text with a time, 2025年10月15日, Excel serials
or 2025/10/15, identities as one cell separated by ；. A `√` that validate
read as insured and =PAYABLE() rejected is the bug this guards against.
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import openpyxl
import pytest

from conftest import calc_lines, run_yibao
from test_golden import DEMO_PLANS, PLANS, load_cases
from yibao.addin import udfs as excel
from yibao.functions import udf
from yibao.functions.person import FIELDS

_FLAGS = {True: ["√", "是", "Y", 1, True, "已参加"], False: [None, "否", "×", 0, "", "N"]}
_EPOCH = datetime.date(1899, 12, 30)


def _date_form(iso: str, i: int):
    day = datetime.date.fromisoformat(iso)
    forms = [
        day,
        datetime.datetime(day.year, day.month, day.day, 9, 31, 27),
        f"{iso} 09:31:27",
        f"{day.year}年{day.month}月{day.day}日",
        (day - _EPOCH).days,                   # a serial: a date cell without a date format
        iso.replace("-", "/"),
    ]
    return forms[i % len(forms)]


def cells_of(case_input: dict, i: int, flags_seen: dict) -> dict:
    """The case's input as the cells of a ledger row, written the ``i``-th way
    (flags: the next way of writing yes or no, counted in ``flags_seen``)."""
    cells = {}
    for key in FIELDS:
        value = case_input.get(key)
        if key in ("pay_date", "event_date") and isinstance(value, str) and value:
            value = _date_form(value, i)
        elif key == "employee_insured":
            n = flags_seen[bool(value)] = flags_seen.get(bool(value), -1) + 1
            value = _FLAGS[bool(value)][n % 6]
        elif key == "identities" and isinstance(value, list):
            value = "；".join(value) or None
        cells[key] = value
    return cells


def json_of(cells: dict) -> dict:
    """The same cells as a `yibao calc` line (JSON has no dates: ISO text, times kept)."""
    return {k: (v.isoformat() if isinstance(v, (datetime.date, datetime.datetime)) else v)
            for k, v in cells.items() if v is not None}


def as_xlwings(value):
    """A cell value as xlwings hands it to a function: numbers as floats,
    date cells as datetimes, empty as None."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return datetime.datetime(value.year, value.month, value.day)
    if value == "":
        return None
    return value


def _comparable(case_input):
    return set(case_input) <= set(FIELDS)


def _shown(value):
    """A cell as compared: datetimes as dates, error values and text as text."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return str(value)
    return value


COMPUTED = [("PAYABLE", "应缴"), ("SUBSIDY_TIER", "资助类别"), ("SUBSIDY_AMOUNT", "资助金额"),
            ("FUNDING", "资金来源"), ("BENEFIT_START", "待遇起始"), ("ID_CHECK", "校验")]
INPUT_HEADERS = {"id_no": "身份证号", "identities": "身份类别", "pay_date": "缴费日期", "enroll_type": "参保类型",
                 "event_date": "事件日期", "employee_insured": "是否参加职工医保"}


def expected_cells(want: dict) -> dict:
    """What each function shows for a `yibao calc` result."""
    if not want["ok"]:
        return {"PAYABLE": "#VALUE!", "SUBSIDY_AMOUNT": "#VALUE!", "BENEFIT_START": "#VALUE!",
                "SUBSIDY_TIER": want["message"], "FUNDING": want["message"]}
    return {"PAYABLE": want["payable"], "SUBSIDY_AMOUNT": want["subsidy"],
            "BENEFIT_START": datetime.date.fromisoformat(want["benefit_start"]),
            "SUBSIDY_TIER": want["subsidy_tier"] or "",
            "FUNDING": "；".join(f"{source}{amount}元" for source, amount in want["funding"].items())}


def write_ledger(path: Path, rows: list[dict], plan_id: str):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["示例村参保缴费台账", None, "方案编号", plan_id])
    ws.append(["姓名"] + list(INPUT_HEADERS.values()) + [header for _f, header in COMPUTED])
    for n, cells in enumerate(rows, 1):
        ws.append([f"参保人{n}"] + [cells[key] for key in INPUT_HEADERS])
        ws.cell(ws.max_row, 2).number_format = "@"
        for col, key in enumerate(INPUT_HEADERS, 2):
            if isinstance(cells[key], datetime.date):
                ws.cell(ws.max_row, col).number_format = "yyyy-mm-dd hh:mm"
    wb.save(path)


def run_shells(plan_id: str, cells: list[dict], folder: Path) -> dict:
    """Every shell's answer for rows of ``cells``: `yibao calc`, the Excel
    functions, and a ledger through the real refresh and validate."""
    calc = calc_lines(plan_id, [json_of(c) for c in cells])
    # the Excel functions, one call per column as a spilled formula makes it
    columns = {key: [[as_xlwings(c[key])] for c in cells] for key in FIELDS}
    args = [columns[key] for key in FIELDS] + [plan_id]
    functions = {name: [row[0] for row in getattr(excel, name)(*args)] for name, _h in COMPUTED if name != "ID_CHECK"}
    functions["ID_CHECK"] = [row[0] for row in excel.ID_CHECK(columns["id_no"])]
    reasons = {name: [row[0] for row in udf.REGISTRY[name].func(*args)] for name in ("PAYABLE", "BENEFIT_START")}
    # a ledger through the real commands
    path = folder / "台账.xlsx"
    write_ledger(path, cells, plan_id)
    run_yibao("refresh", str(path), "--policy", plan_id)
    ws = openpyxl.load_workbook(path)["台账"]
    first = 1 + len(INPUT_HEADERS) + 1
    rows = range(3, 3 + len(cells))
    refreshed = {name: [ws.cell(r, first + k).value for r in rows] for k, (name, _h) in enumerate(COMPUTED)}
    kinds = {name: [ws.cell(r, first + k).data_type for r in rows] for k, (name, _h) in enumerate(COMPUTED)}
    run_yibao("validate", str(path), "--policy", plan_id)
    report = [r for r in openpyxl.load_workbook(path)["校验报告"].iter_rows(min_row=2, values_only=True)]
    return dict(cells=cells, calc=calc, functions=functions, reasons=reasons, refreshed=refreshed, kinds=kinds,
                report=report)


@pytest.fixture(scope="module", params=PLANS + DEMO_PLANS)
def plan_run(request, tmp_path_factory):
    """Every shell's answer for one plan's golden cases."""
    plan_id = request.param
    cases = [c for c in load_cases(plan_id) if _comparable(c["input"])]
    golden = calc_lines(plan_id, [dict(c["input"]) for c in cases])
    flags_seen: dict = {}
    cells = [cells_of(c["input"], i, flags_seen) for i, c in enumerate(cases)]
    return dict(plan=plan_id, cases=cases, golden=golden,
                **run_shells(plan_id, cells, tmp_path_factory.mktemp(plan_id)))


def test_the_cases_are_there(plan_run):
    assert len(plan_run["cases"]) >= 15
    assert len(plan_run["golden"]) == len(plan_run["calc"]) == len(plan_run["cases"])
    # the ways of writing a cell are all in use: insured as √ and not insured as ×, dates with times
    written = [c for cells in plan_run["cells"] for c in cells.values()]
    assert "√" in written and "×" in written
    assert any(isinstance(v, datetime.datetime) for v in written)


def test_calc_reads_the_cells_as_typed_like_the_canonical_input(plan_run):
    failures = [f"[{c['clause']}] {c['title']}: {json.dumps(json_of(cells), ensure_ascii=False)} → {got}, golden {want}"
                for c, cells, got, want in zip(plan_run["cases"], plan_run["cells"], plan_run["calc"], plan_run["golden"])
                if got != want]
    assert not failures, "\n".join(failures)


def test_the_excel_functions_show_what_calc_says(plan_run):
    failures = []
    for i, (case, want) in enumerate(zip(plan_run["cases"], plan_run["golden"])):
        for name, value in expected_cells(want).items():
            got = _shown(plan_run["functions"][name][i])
            if got != value:
                failures.append(f"[{case['clause']}] {case['title']}: ={name}() → {got!r}, calc says {value!r}")
        if not want["ok"]:
            # the reason travels with the error value (the text columns and ID_CHECK show it)
            for name in ("PAYABLE", "BENEFIT_START"):
                if plan_run["reasons"][name][i].reason != want["message"]:
                    failures.append(f"[{case['clause']}] {case['title']}: {name} reason differs")
    assert not failures, "\n".join(failures)


def test_refresh_writes_what_the_functions_show(plan_run):
    failures = []
    for i, case in enumerate(plan_run["cases"]):
        for name, _header in COMPUTED:
            shown = _shown(plan_run["functions"][name][i])
            written = _shown(plan_run["refreshed"][name][i])
            if written in (None,) and shown == "":
                continue
            if written != shown:
                failures.append(f"[{case['clause']}] {case['title']}: {name} refresh wrote {written!r}, "
                                f"the function shows {shown!r}")
            if shown == "#VALUE!" and plan_run["kinds"][name][i] != "e":
                failures.append(f"[{case['clause']}] {case['title']}: {name} #VALUE! written as text, not an error")
    assert not failures, "\n".join(failures)


def test_validate_reports_what_calc_says(plan_run):
    by_row: dict[int, list[tuple[str, str]]] = {}
    for row in plan_run["report"]:
        by_row.setdefault(row[2], []).append((row[5], row[6]))
    failures = []
    for i, (case, cells, want) in enumerate(zip(plan_run["cases"], plan_run["cells"], plan_run["golden"])):
        found = by_row.get(3 + i, [])
        messages = [m for _s, m in found]
        if not want["ok"]:
            insured_and_unpaid = bool(want["message"]) and cells["employee_insured"] in _FLAGS[True]
            if not insured_and_unpaid and want["message"] not in messages:
                failures.append(f"[{case['clause']}] {case['title']}: validate lacks “{want['message']}”: {found}")
        else:
            if want["message"] and want["message"] not in messages:
                failures.append(f"[{case['clause']}] {case['title']}: validate lacks the note “{want['message']}”")
            wrong = [m for s, m in found if s == "错误" and "重复" not in m]
            if wrong:
                failures.append(f"[{case['clause']}] {case['title']}: calc computes it, validate says {wrong}")
    assert not failures, "\n".join(failures)


def _row(**cells):
    return {key: cells.get(key) for key in FIELDS}


def test_error_values_in_any_cell_are_read_the_same_everywhere(tmp_path):
    """An error value (#N/A from a lookup, #REF! after a deleted sheet) is an
    error in every shell and every column: never a blank ID (a row skipped)
    or a blank flag (not insured) in one shell and an error in another."""
    person = "430999195001010213"
    cells = [_row(id_no="#N/A"), _row(id_no=person, identities="#REF!"), _row(id_no=person, pay_date="#VALUE!"),
             _row(id_no=person, employee_insured="#DIV/0!"), _row(id_no=person, enroll_type="#NAME?"),
             _row(id_no=person, enroll_type="职工医保转入", event_date="#N/A"), _row(id_no=person, identities="低保户")]
    run = run_shells("shili-2026", cells, tmp_path)
    *bad, good = run["calc"]
    assert good["ok"] and good["payable"] == 200
    labels = ["身份证号", "身份类别", "缴费日期", "是否参加职工医保", "参保类型", "事件日期"]
    for want, label, cell in zip(bad, labels, cells):
        code = next(v for v in cell.values() if isinstance(v, str) and v.startswith("#"))
        assert not want["ok"] and want["message"] == f"“{label}”单元格是错误值{code}（多为公式出错），请改正该单元格"
    for i, want in enumerate(run["calc"]):
        for name, value in expected_cells(want).items():
            assert _shown(run["functions"][name][i]) == value, (i, name)
            assert _shown(run["refreshed"][name][i]) == value, (i, name)
    # the 校验 column (ID_CHECK) reports the #N/A ID, and refresh writes the same
    assert run["functions"]["ID_CHECK"][0] == run["refreshed"]["ID_CHECK"][0] == bad[0]["message"]
    assert [run["kinds"]["PAYABLE"][i] for i in range(6)] == ["e"] * 6
    reported = {(row[2], row[6]) for row in run["report"]}
    for i, want in enumerate(bad):
        assert (3 + i, want["message"]) in reported, want["message"]


def test_an_old_15_digit_number_gets_the_same_note_in_every_shell(tmp_path):
    """Issue 12 item 10: a 15-digit number is upgraded and computed, and the
    校验 column says so. =ID_CHECK() shows the note with the 18-digit form;
    `yibao refresh` wrote nothing there, so WPS users never saw it."""
    cells = [_row(id_no="430999500101021", identities="低保户", pay_date=datetime.date(2025, 10, 15))]
    run = run_shells("shili-2026", cells, tmp_path)
    note = "15位旧身份证号，对应的18位号码为430999195001010213，请改填18位号码"
    assert run["calc"][0]["ok"] and run["calc"][0]["payable"] == 200 and note in run["calc"][0]["message"]
    assert run["functions"]["ID_CHECK"][0] == note
    assert run["refreshed"]["ID_CHECK"][0] == note
    assert run["functions"]["PAYABLE"][0] == run["refreshed"]["PAYABLE"][0] == 200
