"""The Excel functions as plain Python: single cells, whole columns, problems."""
from __future__ import annotations

import datetime

import pytest

from conftest import calc_lines, make_id
from yibao.functions import udf
from yibao.functions.person import CellError

P = "shuangshui-2025"
ELDER = make_id("19500101", 11)      # 75 on 2025-01-01
CHILD = make_id("20100601", 22)      # 14
ADULT = make_id("19850101", 33)


def test_registry_lists_every_function_with_chinese_help():
    names = set(udf.REGISTRY)
    assert {"PAYABLE", "SUBSIDY_TIER", "BENEFIT_START", "SUBSIDY_AMOUNT", "FUNDING", "ID_CHECK",
            "ID_BIRTH", "ID_GENDER", "ID_AGE", "MASK_ID"} <= names
    for spec in udf.REGISTRY.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in spec.help), spec.name
        assert spec.args[0].name == "id_no"
        for arg in spec.args:
            assert any("\u4e00" <= ch <= "\u9fff" for ch in arg.help), (spec.name, arg.name)


def test_single_cells():
    assert udf.PAYABLE(ELDER, "低保边缘户", policy=P) == 280
    assert udf.SUBSIDY_AMOUNT(ELDER, "低保边缘户", policy=P) == 120
    assert udf.SUBSIDY_TIER(ELDER, "低保边缘户；特困人员", policy=P) == "特困人员"
    assert udf.FUNDING(ELDER, "特困人员", policy=P) == "医疗救助基金400元"
    assert udf.BENEFIT_START(ADULT, None, "2025-04-01", policy=P) == datetime.date(2025, 6, 30)
    assert udf.SUBSIDY_TIER(ADULT, policy=P) == ""
    assert udf.ID_GENDER(ELDER) == "男" and udf.ID_GENDER(CHILD) == "女"
    assert udf.ID_BIRTH(CHILD) == datetime.date(2010, 6, 1)
    assert udf.ID_AGE(CHILD, "2025-06-01") == 15


def test_fractional_yuan_stays_exact():
    # 000: 60-69 get 50% of 280 = 140; 004 reward-style amounts like 1.2 are exact too
    assert udf.SUBSIDY_AMOUNT(make_id("19600101"), policy="zaozhuang-2022") == 140
    assert udf.PAYABLE(make_id("19600101"), policy="zaozhuang-2022") == 140


def test_a_column_in_gives_a_column_out_matching_yibao_calc():
    ids = [ELDER, CHILD, ADULT, "110105194912310021", None, ADULT]
    identities = ["低保边缘户", "低保边缘户", "低保边缘户", "", "", "烈士遗属"]
    pay = ["2024-10-01", "2025-05-05", datetime.date(2025, 5, 5), "", "", 45580]
    column = lambda xs: [[x] for x in xs]
    payable = udf.PAYABLE(column(ids), column(identities), column(pay), policy=P)
    tier = udf.SUBSIDY_TIER(column(ids), column(identities), column(pay), policy=P)
    start = udf.BENEFIT_START(column(ids), column(identities), column(pay), policy=P)
    assert len(payable) == len(ids) and all(len(r) == 1 for r in payable)
    rows = []
    for i, p, d in zip(ids, identities, pay):
        if i:
            day = d if isinstance(d, str) else ("2024-10-15" if d == 45580 else d.isoformat())
            rows.append({"id_no": i, "identities": [p] if p else [], "pay_date": day or None})
    expected = iter(calc_lines(P, rows))
    for i, got_pay, got_tier, got_start in zip(ids, payable, tier, start):
        if not i:
            assert got_pay == [""] and got_tier == [""] and got_start == [""]
            continue
        want = next(expected)
        if want["ok"]:
            assert got_pay[0] == want["payable"]
            assert got_tier[0] == (want["subsidy_tier"] or "")
            assert got_start[0].isoformat() == want["benefit_start"]
        else:
            # a row that cannot be computed: #VALUE! in the number column (a SUM over it is an
            # error, never a total without the person), the reason in the text columns
            assert isinstance(got_pay[0], CellError) and got_pay[0] == "#VALUE!"
            assert got_pay[0].reason == want["message"] and "校验位" in want["message"]
            assert got_tier[0] == want["message"]
            assert isinstance(got_start[0], CellError)


def test_scalar_arguments_broadcast_over_a_column():
    out = udf.PAYABLE([[ELDER], [ADULT]], "低保边缘户", "2024-11-01", None, None, None, P)
    assert out == [[280], [400]]


def test_mismatched_ranges_say_so_in_chinese():
    out = udf.PAYABLE([[ELDER], [ADULT]], [["低保"], ["低保"], ["低保"]], policy=P)
    assert out[0][0] == "#VALUE!" and "参数区域大小不一致" in out[0][0].reason
    out = udf.SUBSIDY_TIER([[ELDER], [ADULT]], [["低保"], ["低保"], ["低保"]], policy=P)
    assert "参数区域大小不一致" in out[0][0]


PROBLEMS = [
    (dict(id_no=ADULT, identities="五保老人"), "未知身份类别“五保老人”"),
    (dict(id_no=ADULT, policy="no-such"), "没有名为“no-such”的方案"),
    (dict(id_no=ADULT, pay_date="2025-13-45"), "日期“2025-13-45”不存在"),
    (dict(id_no=4.30423198001011e17), "Excel"),
    (dict(id_no=ADULT, employee_insured="是"), "职工医保"),
    (dict(id_no=ADULT, employee_insured="√"), "职工医保"),
    (dict(id_no=ADULT, employee_insured="x"), "“是否参加职工医保”应填是或否"),
    (dict(id_no=ADULT, pay_date="2025-10-08"), "不在本方案任何缴费期内"),
    (dict(id_no="#N/A"), "错误值#N/A"),
    (dict(id_no=ADULT, pay_date="#REF!"), "“缴费日期”单元格是错误值#REF!"),
]


@pytest.mark.parametrize("args,needle", PROBLEMS)
def test_a_row_that_cannot_be_computed_is_an_error_value_in_numbers_and_the_reason_in_text(args, needle):
    args = {"policy": P, **args}
    for name in ("PAYABLE", "SUBSIDY_AMOUNT", "BENEFIT_START"):
        value = udf.REGISTRY[name].func(**args)
        assert isinstance(value, CellError) and value == "#VALUE!", name
        assert needle in value.reason, name
    for name in ("SUBSIDY_TIER", "FUNDING"):
        value = udf.REGISTRY[name].func(**args)
        assert type(value) is str and needle in value, name


def test_a_sum_over_the_payable_column_cannot_skip_a_bad_row():
    # Excel's SUM skips text but not error values: the column must not hold text for a bad row
    column = udf.PAYABLE([[ELDER], [ADULT[:-1] + ("0" if ADULT[-1] != "0" else "1")], [ADULT]],
                         "低保边缘户", "2024-11-01", policy=P)
    assert [r[0] for r in column][::2] == [280, 400]
    assert not any(type(r[0]) is str for r in column)
    assert isinstance(column[1][0], CellError)


def test_id_functions_on_bad_and_error_cells():
    assert udf.ID_CHECK("4.30423E+17") and "Excel" in udf.ID_CHECK("4.30423E+17")
    # an error value in the ID cell (a lookup that found nothing) is a problem, not "OK" (issue 13 item 6)
    assert "错误值#N/A" in udf.ID_CHECK("#N/A")
    assert udf.ID_CHECK([["#N/A"], [ELDER], [None]]) == [[udf.ID_CHECK("#N/A")], [""], [""]]
    assert udf.ID_AGE("#N/A", "2025-01-01") == "#VALUE!" and isinstance(udf.ID_AGE("#N/A", "2025-01-01"), CellError)
    assert isinstance(udf.ID_BIRTH("123"), CellError)
    assert "18位" in udf.ID_GENDER("123")
    assert "错误值#DIV/0!" in udf.MASK_ID("#DIV/0!")


def test_id_age_without_a_date_uses_the_plans_age_day_not_today():
    # shuangshui-2025 decides age on 2025-01-01 (001 三(二)5): born 2007-01-02 is a minor (17) that day,
    # whatever today is; with a date, the age on that date
    born = make_id("20070102", 41)
    assert udf.ID_AGE(born, None, P) == 17
    assert udf.ID_AGE(born, "2025-06-01") == 18
    assert udf.ID_AGE(born, datetime.datetime(2025, 1, 1, 9, 30)) == 17
    assert udf.ID_AGE(born, None, "no-such").reason.startswith("没有名为")


def test_default_policy_from_environment(monkeypatch, user_home):
    monkeypatch.delenv("YIBAO_POLICY", raising=False)
    assert "未指定方案" in udf.PAYABLE(ADULT).reason
    assert "未指定方案" in udf.SUBSIDY_TIER(ADULT)
    monkeypatch.setenv("YIBAO_POLICY", "xxzhen-2020")
    assert udf.PAYABLE(ADULT) == 250


def test_mask_and_check_columns():
    assert udf.MASK_ID([[ELDER], [None]]) == [[ELDER[:6] + "********" + ELDER[-4:]], [""]]
    assert udf.ID_CHECK([[ELDER], [ELDER[:-1] + ("0" if ELDER[-1] != "0" else "1")]]) == [[""], ["身份证号校验位不对，请逐位核对"]]


# ---------------------------------------------------------------- the Excel shell (yibao.addin.udfs)

@pytest.fixture
def windows_xlwings(monkeypatch):
    """xlwings' real UDF decorators (``xlwings.udfs.xlfunc``/``xlarg``, what
    ``xw.func``/``xw.arg`` are on Windows) and a pywin32 stand-in whose
    ``VARIANT`` records its type and value, so the add-in's shell is built
    on Linux as it is inside Excel."""
    import importlib
    import sys
    import types

    class VARIANT:
        def __init__(self, vt, value):
            self.varianttype, self.value = vt, value

    pythoncom = types.ModuleType("pythoncom")
    pythoncom.VT_ERROR = 10
    pythoncom.CoInitialize = lambda: None
    client = types.ModuleType("win32com.client")
    client.VARIANT = VARIANT
    client.Dispatch = lambda *a, **k: None
    win32com = types.ModuleType("win32com")
    win32com.client = client
    pywintypes = types.ModuleType("pywintypes")
    for name, module in (("pythoncom", pythoncom), ("pywintypes", pywintypes), ("win32com", win32com),
                         ("win32com.client", client)):
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.delitem(sys.modules, "xlwings.udfs", raising=False)
    xl_udfs = importlib.import_module("xlwings.udfs")
    import xlwings
    monkeypatch.setattr(xlwings, "func", xl_udfs.xlfunc)
    monkeypatch.setattr(xlwings, "arg", xl_udfs.xlarg)
    from yibao.addin import udfs
    monkeypatch.delitem(sys.modules, "yibao.addin.udfs")
    shell = importlib.import_module("yibao.addin.udfs")
    shell._variant.cache_clear()
    yield shell, VARIANT
    shell._variant.cache_clear()
    monkeypatch.setattr(sys.modules["yibao.addin"], "udfs", udfs)   # (monkeypatch puts the modules back)


def test_the_excel_shell_declares_every_function_for_xlwings(windows_xlwings):
    shell, _variant = windows_xlwings
    for name, spec in udf.REGISTRY.items():
        info = getattr(shell, name).__xlfunc__
        assert info["name"] == name and info["category"] == "医保征缴"
        assert [a["name"] for a in info["args"]] == [a.name for a in spec.args]
        for arg in info["args"]:
            # a column arrives as rows; an error cell (#N/A) as its text, not as an empty cell
            assert arg["options"] == {"ndim": 2, "err_to_str": True}, (name, arg)
        assert [("optional" in a) for a in info["args"]] == [a.optional for a in spec.args]


def test_a_row_that_cannot_be_computed_reaches_excel_as_an_error_value(windows_xlwings):
    shell, VARIANT = windows_xlwings
    out = shell.PAYABLE([[ELDER], [ADULT + "0"], [None]], [["低保边缘户"], [None], [None]],
                        None, None, None, None, P)
    assert out[0] == [280] and out[2] == [""]
    error = out[1][0]
    # VT_ERROR with the scode of #VALUE! (CVErr(xlErrValue)): what Excel shows as #VALUE!, and SUM does not skip
    assert isinstance(error, VARIANT) and error.varianttype == 10 and error.value == -2146826273
    # (xlwings passes every argument by position)
    assert shell.SUBSIDY_TIER(ADULT + "0", None, None, None, None, None, P) == "身份证号应为18位，现为19位"
    assert "错误值#N/A" in shell.ID_CHECK([["#N/A"]])[0][0]


def test_without_pywin32_the_error_value_is_its_code():
    from yibao.addin import udfs
    assert udfs.excel_value(udf.PAYABLE("123", policy=P)) == "#VALUE!"
    assert udfs.to_excel([[1, udf.ID_AGE("#N/A", "2025-01-01")]]) == [[1, "#VALUE!"]]


def test_through_xlwings_own_call_udf_error_cells_in_and_error_values_out(monkeypatch):
    """xlwings' real ``call_udf`` (the emulation in benchmarks/bench_recalc.py):
    the add-in's wrappers pass range values, so an error cell arrives as its
    COM scode; it must reach our functions as ``#N/A`` (an error, not a blank
    row), and a row that cannot be computed must leave as a VT_ERROR variant."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    import bench_recalc as bench
    from yibao.addin import udfs as shell

    class VARIANT:
        def __init__(self, vt, value):
            self.varianttype, self.value = vt, value

    monkeypatch.setattr(shell, "_variant", lambda: (VARIANT, 10))
    xl = bench.stand_in()
    module = bench.emulated_udf_module("yibao_row_emulated")
    NA, MISSING = -2146826246, -2147352572            # CVErr(xlErrNA); an omitted Optional argument
    ids = ((ELDER,), (NA,), (ADULT[:-1] + ("0" if ADULT[-1] != "0" else "1"),), (None,))
    identities = (("低保边缘户",), (None,), (None,), (None,))
    with bench.excel_side():
        payable = xl.call_udf(module, "PAYABLE", (ids, identities, MISSING, MISSING, MISSING, MISSING, P), None, None)
        tier = xl.call_udf(module, "SUBSIDY_TIER", (ids, identities, MISSING, MISSING, MISSING, MISSING, P), None, None)
        check = xl.call_udf(module, "ID_CHECK", (ids,), None, None)
    assert payable[0] == [280] and payable[3] == [""]
    for row in (1, 2):
        value = payable[row][0]
        assert isinstance(value, VARIANT) and (value.varianttype, value.value) == (10, -2146826273), row
    assert tier[1][0] == check[1][0] == "“身份证号”单元格是错误值#N/A（多为公式出错），请改正该单元格"
    assert "校验位" in tier[2][0] and check[0][0] == ""


def test_a_broken_plan_file_says_what_to_fix_in_the_cell(tmp_path):
    """A county staff member who edits a plan and defines 低保对象 twice (issue
    12 item 11) sees the reason in the function cells, not only "有 1 处错误":
    the cell is the only place a ribbon user reads it."""
    from pathlib import Path
    import yibao.functions.plan as plans
    source = Path(plans.__file__).parent / "plans" / "xinqiao-2021.toml"
    broken = tmp_path / "我的方案.toml"
    broken.write_text(source.read_text(encoding="utf-8") + '\n[[category]]\nname = "低保对象"\nsubsidy = "full"\n'
                      'funding = { "民政" = "100%" }\nclause = "002 四(四)"\n', encoding="utf-8")
    args = ([[make_id("19800101", 1)]], [["低保户"]], [[datetime.datetime(2020, 10, 15)]], None, None, None,
            [[str(broken)]])
    tier = udf.SUBSIDY_TIER(*args)[0][0]
    assert "有 1 处错误" in tier and "“低保对象”定义了两次" in tier
    payable = udf.PAYABLE(*args)[0][0]
    assert isinstance(payable, CellError) and "定义了两次" in payable.reason
    age = udf.ID_AGE([[make_id("19800101", 1)]], None, [[str(broken)]])[0][0]
    assert isinstance(age, CellError) and "定义了两次" in age.reason
