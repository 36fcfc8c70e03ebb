"""The templates' add-in formulas, evaluated headlessly: the `formulas`
package parses each formula exactly as written in the committed template,
our Excel functions stand in for the add-in, and every filled row gives
what `yibao calc` gives for the same person."""
from __future__ import annotations

import datetime
import json
from pathlib import Path

import openpyxl
import pytest

from conftest import calc_lines, make_id
from template_support import PLAN_IDS, layout_of, main_sheet
from yibao.functions import plan as plans
from yibao.functions.udf import REGISTRY
from yibao.templates import builder

formulas = pytest.importorskip("formulas")
import numpy as np  # noqa: E402  (dependencies of formulas)
import schedula  # noqa: E402

EMPTY = schedula.EMPTY      # how formulas represents an empty cell

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
UDF_FORMS = ("ledger", "new-enrollee", "register", "subsidy-list")


def _plain(value):
    """What xlwings hands a function: Python scalars, None for an empty cell."""
    if isinstance(value, np.ndarray):
        value = value.ravel()[0] if value.size else None
    if isinstance(value, np.generic):
        value = value.item()
    if value is EMPTY:
        return None
    return value


def _register_stand_ins():
    table = formulas.get_functions()
    for name, spec in REGISTRY.items():
        def stand_in(*args, _func=spec.func):
            return _func(*[_plain(a) for a in args])
        table[name] = stand_in


_register_stand_ins()


def persons(plan_id: str) -> list[dict]:
    rows = [json.loads(line) for line in (EXAMPLES / f"persons-{plan_id}.jsonl").read_text("utf-8").splitlines()
            if line.strip()]
    plan = plans.load(plan_id)
    adult = make_id("19800808", 57)
    rows += [
        {"id_no": adult[:-1] + ("0" if adult[-1] != "0" else "1")},                  # wrong check digit
        {"id_no": adult, "employee_insured": True},                                   # 职工医保: not here
        {"id_no": adult, "identities": [plan.categories[0].name, plan.categories[-1].name]},
        {"id_no": adult, "identities": ["不存在的身份"]},
    ]
    return rows


def _cell_value(key: str, person: dict):
    v = person.get(key)
    if key == "identities":
        return "；".join(v) if v else None
    if key in ("pay_date", "event_date"):
        return datetime.datetime.fromisoformat(v) if v else None
    if key == "employee_insured":
        return None if v is None else ("是" if v else "否")
    return v


def _row_inputs(lay, person: dict, form_id: str) -> dict[str, object]:
    """Cell coordinate → value for one filled row (only the cells formulas read)."""
    r = lay.first_data
    values = {}
    for key in ("id_no", "identities", "pay_date", "enroll_type", "event_date", "employee_insured", "household_type"):
        if key in lay.col:
            values[f"{lay.letter(key)}{r}"] = _cell_value(key, person) if key != "household_type" else None
    if form_id == "register" and len(person.get("identities") or []) == 1:
        # 004: one identity written as the household's 户属性 instead of 身份类别
        values[f"{lay.letter('identities')}{r}"] = None
        values[f"{lay.letter('household_type')}{r}"] = person["identities"][0]
    return values


def evaluate(formula: str, cells: dict[str, object], plan_id: str):
    func = formulas.Parser().ast(formula)[1].compile()
    args = []
    for name in func.inputs:
        if name == "方案编号":
            args.append(plan_id)
        else:
            value = cells.get(name.replace("$", ""))
            args.append(EMPTY if value is None else value)
    return _plain(func(*args))


def expected(column_key: str, result: dict):
    if column_key == "calc_check":
        return "" if result["ok"] or "身份证" not in result["message"] else result["message"]
    if not result["ok"]:
        # number and date columns: #VALUE!, so a total cannot skip the row (issue 13 item 6)
        numeric = column_key in ("calc_payable", "calc_subsidy", "calc_benefit")
        return "#VALUE!" if numeric else result["message"]
    if column_key == "calc_payable":
        return result["payable"]
    if column_key == "calc_subsidy":
        return result["subsidy"]
    if column_key == "calc_tier":
        return result["subsidy_tier"] or ""
    if column_key == "calc_benefit":
        return result["benefit_start"]
    raise KeyError(column_key)


@pytest.fixture(scope="module")
def calc_results():
    return {pid: calc_lines(pid, persons(pid)) for pid in PLAN_IDS}


@pytest.mark.parametrize("form_id", UDF_FORMS)
@pytest.mark.parametrize("plan_id", PLAN_IDS)
def test_template_formulas_match_yibao_calc(calc_results, plan_id, form_id):
    wb = openpyxl.load_workbook(builder.built_path(plan_id, form_id))
    ws = main_sheet(wb)
    lay = layout_of(plan_id, form_id)
    udf_cols = [c for c in lay.columns if c.kind == "udf"]
    assert udf_cols
    # the plan-id cell the defined name points to holds this plan
    sheet, ref = wb.defined_names["方案编号"].attr_text.rsplit("!", 1)
    assert wb[sheet.strip("'")][ref.replace("$", "")].value == plan_id
    checked = 0
    for person, result in zip(persons(plan_id), calc_results[plan_id]):
        if form_id == "subsidy-list" and (person.get("pay_date") or person.get("enroll_type")
                                          or person.get("employee_insured") or person.get("event_date")):
            continue        # a subsidy list carries identities only
        cells = _row_inputs(lay, person, form_id)
        for c in udf_cols:
            formula = ws.cell(lay.first_data, lay.col[c.key]).value
            got = evaluate(formula, cells, plan_id)
            want = expected(c.key, result)
            if isinstance(got, datetime.date):
                got = got.isoformat()[:10]
            if isinstance(want, (int, float)) and not isinstance(want, bool):
                assert got == pytest.approx(want), (person, c.header, formula)
            else:
                assert got == want, (person, c.header, formula)
            checked += 1
    assert checked >= len(udf_cols) * 3


def test_blank_row_gives_blank_cells():
    ws = main_sheet(openpyxl.load_workbook(builder.built_path("xinqiao-2021", "ledger")))
    lay = layout_of("xinqiao-2021", "ledger")
    for c in lay.columns:
        if c.kind == "udf":
            assert evaluate(ws.cell(lay.first_data + 7, lay.col[c.key]).value, {}, "xinqiao-2021") == ""
