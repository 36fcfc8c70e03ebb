"""One enrollment status per person (functions/status.py) and its
contradictions; then the status as validate and notice see it on real files."""

from __future__ import annotations

import pytest

from yibao.functions import status as st
from yibao.functions.status import SideLists, decide

from conftest import make_id

A = make_id("19800101", 123, "430999")
B = make_id("19900202", 456, "430999")
FULL = dict(ok=True, payable=0, subsidy=40000, tier="特困人员", funding=(("医疗救助", 40000),))
OWES = dict(ok=True, payable=40000, subsidy=0, tier=None, funding=())


def kind(**kw):
    return decide(**kw)[0]


# ---------------------------------------------------------------- each kind

def test_paid_in_full_is_enrolled():
    s, found = decide(**OWES, paid=40000, id_no=A)
    assert (s.kind, s.enrolled, s.clause, found) == (st.PAID, True, "002 附件2", ())


def test_full_subsidy_is_enrolled_without_paying():
    s = kind(**FULL, paid=None, id_no=A)
    assert (s.kind, s.enrolled) == (st.SUBSIDIZED, True)
    assert "002 四(四)" in s.clause


def test_proxy_funding_is_daijiao():
    # 001 四(三): the veterans' bureau pays; the plan names its source
    s = kind(ok=True, payable=0, subsidy=40000, tier="烈士遗属", funding=(("退役军人事务局", 40000),),
             proxy_source="退役军人事务局", id_no=A)
    assert (s.kind, s.enrolled, s.clause) == (st.PROXY, True, "001 四(三)")
    # the same funding without the plan's proxy source is an ordinary subsidy
    assert kind(ok=True, payable=0, subsidy=40000, funding=(("退役军人事务局", 40000),), id_no=A).kind == st.SUBSIDIZED


def test_unpaid_says_how_much():
    assert kind(**OWES, paid=None).text == "未缴费（未缴400元）"
    s = kind(**OWES, paid=15050)
    assert (s.text, s.enrolled) == ("未缴费（少缴249.5元）", False)


def test_unpaid_reason_is_the_reason():
    s = kind(**OWES, unpaid_reason=" 外出联系不上 ")
    assert (s.kind, s.reason, s.enrolled) == (st.UNPAID, "外出联系不上", False)
    # a template's placeholder is no reason
    assert kind(**OWES, paid=40000, unpaid_reason="无").kind == st.PAID


@pytest.mark.parametrize("how", [
    dict(deceased=True),
    dict(unpaid_reason="已死亡"),
    dict(lists=SideLists(deceased={A: "死亡人员名单.xlsx 第3行"})),
])
def test_deceased_from_any_source(how):
    s = kind(**FULL, id_no=A, **how)
    assert (s.kind, s.enrolled, s.clause) == (st.DECEASED, False, "002 四(四) 资助流程4")


def test_death_list_names_the_row():
    s = kind(**FULL, id_no=A, lists=SideLists(deceased={A: "死亡人员名单.xlsx 第3行"}))
    assert "死亡人员名单.xlsx 第3行" in s.reason
    # another person is not touched by A's entry
    assert kind(**FULL, id_no=B, lists=SideLists(deceased={A: "x 第3行"})).kind == st.SUBSIDIZED


@pytest.mark.parametrize("how, said", [
    (dict(employee=True, ok=False, message="已参加职工医保"), "是否参加职工医保"),
    (dict(unpaid_reason="已参加职工医保"), "已参加职工医保"),
    (dict(lists=SideLists(employee={A: "职工医保参保名单.xlsx 第7行"})), "第7行"),
])
def test_employee_from_any_source(how, said):
    facts = {**OWES, **how}
    s = kind(**facts, id_no=A)
    assert (s.kind, s.enrolled) == (st.EMPLOYEE, False)
    assert said in s.reason and "002 四(一)" in s.clause


def test_transfer_from_employee_insurance_enrolls_here():
    # 001 三(二)2: 职工医保转居民医保 enroll here; the employee list still has them
    s = kind(**OWES, paid=40000, id_no=A, enroll_type="职工医保转入",
             lists=SideLists(employee={A: "职工医保参保名单.xlsx 第7行"}))
    assert s.kind == st.PAID


@pytest.mark.parametrize("reason", ["已在外地参保", "异地参保", "在外省参加居民医保"])
def test_elsewhere(reason):
    s = kind(**OWES, unpaid_reason=reason)
    assert (s.kind, s.reason, s.enrolled) == (st.ELSEWHERE, reason, False)
    assert "附件4" in s.clause


@pytest.mark.parametrize("facts", [
    dict(ok=False, message="未知身份类别“低宝”"),
    dict(**OWES, paid=40000, read_error="身份证号校验位不对"),
])
def test_pending_when_the_row_cannot_be_read(facts):
    s = kind(**facts)
    assert (s.kind, s.enrolled) == (st.PENDING, False)
    assert s.reason in ("未知身份类别“低宝”", "身份证号校验位不对")


def test_read_error_wins_over_everything():
    s = kind(**FULL, id_no=A, deceased=True, read_error="缴费日期无法识别")
    assert s.kind == st.PENDING


def test_common_kinds_are_shared_instances():
    assert kind(**OWES, paid=40000) is kind(**OWES, paid=50000)
    assert kind(**FULL) is kind(**FULL, paid=0)


# ---------------------------------------------------------------- contradictions

def test_subsidized_but_refused():
    s, found = decide(**FULL, id_no=A, unpaid_reason="本人不愿参保")
    assert s.kind == st.UNPAID
    assert found == ("未缴费原因填“本人不愿参保”，却按方案享受特困人员资助",)


def test_subsidized_but_enrolled_elsewhere():
    s, found = decide(**FULL, id_no=A, unpaid_reason="已在外地参保")
    assert s.kind == st.ELSEWHERE
    assert len(found) == 1 and "已在外地参保" in found[0] and "特困人员" in found[0]


def test_on_the_roster_counts_as_subsidized():
    # the engine has no category for them, the merged roster does
    _s, found = decide(**OWES, id_no=A, unpaid_reason="本人不愿参保", lists=SideLists(roster={A: "低保对象"}))
    assert found and "资助名单汇总列为低保对象" in found[0]


def test_dead_with_payment_and_subsidy():
    lists = SideLists(deceased={A: "死亡人员名单.xlsx 第2行"})
    _s, found = decide(**OWES, paid=40000, id_no=A, lists=lists)
    assert found == ("死亡人员名单（死亡人员名单.xlsx 第2行）有此人，台账却填了个人缴费400元",)
    _s, found = decide(**FULL, id_no=A, lists=lists)
    assert len(found) == 1 and "第2行" in found[0] and "特困人员" in found[0]


def test_reason_with_a_payment():
    s, found = decide(**OWES, paid=40000, unpaid_reason="外出联系不上")
    assert s.kind == st.UNPAID
    assert found == ("未缴费原因填“外出联系不上”，个人缴费却填了400元",)


def test_employee_list_but_paid_here():
    lists = SideLists(employee={A: "职工医保参保名单.xlsx 第4行"})
    s, found = decide(**OWES, paid=40000, id_no=A, lists=lists)
    assert s.kind == st.EMPLOYEE
    assert len(found) == 1 and "第4行" in found[0] and "400元" in found[0]
    # a transfer paid here on purpose is no contradiction
    assert decide(**OWES, paid=40000, id_no=A, lists=lists, enroll_type="职工医保转入")[1] == ()


def test_plain_rows_have_no_contradiction():
    assert decide(**FULL, id_no=A)[1] == ()
    assert decide(**OWES, paid=40000, id_no=A)[1] == ()
    assert decide(**OWES, unpaid_reason="外出联系不上")[1] == ()
