"""The Excel functions as plain Python: single cells, whole columns, problems."""
from __future__ import annotations

import datetime

import pytest

from conftest import calc_lines, make_id
from yibao.functions import udf

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
            assert got_pay[0] == want["message"] and "校验位" in got_pay[0]


def test_scalar_arguments_broadcast_over_a_column():
    out = udf.PAYABLE([[ELDER], [ADULT]], "低保边缘户", "2024-11-01", None, None, None, P)
    assert out == [[280], [400]]


def test_mismatched_ranges_say_so_in_chinese():
    out = udf.PAYABLE([[ELDER], [ADULT]], [["低保"], ["低保"], ["低保"]], policy=P)
    assert "参数区域大小不一致" in out[0][0]


@pytest.mark.parametrize("call,needle", [
    (lambda: udf.PAYABLE(ADULT, "五保老人", policy=P), "未知身份类别“五保老人”"),
    (lambda: udf.PAYABLE(ADULT, policy="no-such"), "没有名为“no-such”的方案"),
    (lambda: udf.PAYABLE(ADULT, pay_date="2025-13-45", policy=P), "日期“2025-13-45”不存在"),
    (lambda: udf.PAYABLE(4.30423198001011e17, policy=P), "Excel"),
    (lambda: udf.PAYABLE(ADULT, employee_insured="是", policy=P), "职工医保"),
    (lambda: udf.PAYABLE(ADULT, pay_date="2025-10-08", policy=P), "不在本方案任何缴费期内"),
    (lambda: udf.ID_CHECK("4.30423E+17"), "Excel"),
])
def test_problems_come_back_as_readable_text(call, needle):
    value = call()
    assert isinstance(value, str) and needle in value


def test_default_policy_from_environment(monkeypatch, user_home):
    monkeypatch.delenv("YIBAO_POLICY", raising=False)
    assert "未指定方案" in udf.PAYABLE(ADULT)
    monkeypatch.setenv("YIBAO_POLICY", "xxzhen-2020")
    assert udf.PAYABLE(ADULT) == 250


def test_mask_and_check_columns():
    assert udf.MASK_ID([[ELDER], [None]]) == [[ELDER[:6] + "********" + ELDER[-4:]], [""]]
    assert udf.ID_CHECK([[ELDER], [ELDER[:-1] + ("0" if ELDER[-1] != "0" else "1")]]) == [[""], ["身份证号校验位不对，请逐位核对"]]
