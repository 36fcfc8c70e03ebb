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


def test_a_list_naming_another_person_on_the_id_is_pending_not_applied():
    # a mistyped ID on a side list must not strike a living person off
    for lists, not_kind in ((SideLists(deceased={A: "死亡人员名单.xlsx 第2行"},
                                       names={A: (("死亡人员名单", "死亡人员名单.xlsx 第2行", "王五"),)}), st.DECEASED),
                            (SideLists(employee={A: "职工.xlsx 第4行"},
                                       names={A: (("职工医保参保名单", "职工.xlsx 第4行", "王五"),)}), st.EMPLOYEE)):
        s, found = decide(**FULL, id_no=A, lists=lists, name="肖桂娟")
        assert s.kind == st.PENDING and s.kind != not_kind
        assert len(found) == 1 and "王五" in found[0] and "肖桂娟" in found[0] and "第" in found[0]
    # the same name written differently (a space, full width) is the same person: applied
    same = SideLists(deceased={A: "死亡人员名单.xlsx 第2行"},
                     names={A: (("死亡人员名单", "死亡人员名单.xlsx 第2行", "肖 桂娟"),)})
    assert kind(**FULL, id_no=A, lists=same, name="肖桂娟").kind == st.DECEASED


def test_a_death_list_noting_the_death_after_the_name_is_the_same_person():
    # death lists write 张三（已故）: the note is not another name, the person is 已死亡, not 待核实
    for written in ("肖桂娟（已故）", "肖桂娟(已故)", "肖桂娟（殁）", "肖　桂娟【死亡】"):
        lists = SideLists(deceased={A: "死亡人员名单.xlsx 第2行"},
                          names={A: (("死亡人员名单", "死亡人员名单.xlsx 第2行", written),)})
        assert kind(**FULL, id_no=A, lists=lists, name="肖桂娟").kind == st.DECEASED, written
    # another name with a note is still another name
    other = SideLists(deceased={A: "死亡人员名单.xlsx 第2行"},
                      names={A: (("死亡人员名单", "死亡人员名单.xlsx 第2行", "王五（已故）"),)})
    assert kind(**FULL, id_no=A, lists=other, name="肖桂娟").kind == st.PENDING


def test_plain_rows_have_no_contradiction():
    assert decide(**FULL, id_no=A)[1] == ()
    assert decide(**OWES, paid=40000, id_no=A)[1] == ()
    assert decide(**OWES, unpaid_reason="外出联系不上")[1] == ()


# ---------------------------------------------------------------- on real files

import datetime
import shutil

import openpyxl

from yibao.macros import book as books
from yibao.macros.ledger import compute_records, read_ledger_tables, records_of
from yibao.macros.lists import read_side_lists
from yibao.functions import plan as plans
from yibao.templates import builder

from conftest import run_yibao

PLAN = "shuangshui-2025"          # 001 水城区: full, fixed and proxy (代缴) categories
PAY = datetime.date(2024, 10, 10)


def _pid(n: int) -> str:
    return make_id(f"1970{(n % 12) + 1:02d}15", 100 + 2 * n + 1, "430999")     # odd: 男


#  row: name, ID, paid, 未缴费原因, 身份类别, 是否参加职工医保 → kind, cell of the contradiction (or None)
PEOPLE = [
    ("张甲", _pid(1), 400, None, None, None, st.PAID, None),
    ("李乙", _pid(2), 0, None, "特困人员", None, st.SUBSIDIZED, None),
    ("王丙", _pid(3), 0, None, "领取定期抚恤的烈士遗属", None, st.PROXY, None),
    ("赵丁", _pid(4), None, "本人不愿参保", "特困人员", None, st.UNPAID, "I"),
    ("钱戊", _pid(5), None, "已在外地参保", "特困人员", None, st.ELSEWHERE, "I"),
    ("孙己", _pid(6), None, "已参加职工医保", None, "是", st.EMPLOYEE, None),
    ("周庚", _pid(7), 400, None, None, None, st.DECEASED, "H"),         # on the death list
    ("吴辛", _pid(8), 400, "外出联系不上", None, None, st.UNPAID, "I"),
    ("郑壬", _pid(9), 400, None, None, None, st.EMPLOYEE, "H"),           # on the employee list
    ("冯癸", _pid(10)[:17] + ("0" if _pid(10)[17] != "0" else "1"), 400, None, None, None, st.PENDING, None),
    ("陈子", _pid(11), 0, None, "特困人员", None, st.DECEASED, "F"),     # on the death list, subsidized
    ("褚丑", _pid(12), None, "外出联系不上", None, None, st.UNPAID, None),
]
DEAD = {_pid(7), _pid(11)}
EMPLOYED = {_pid(9)}


@pytest.fixture
def town(tmp_path):
    """A ledger made from the project's template, with a death list and an
    employee list beside it."""
    path = tmp_path / "东山村.xlsx"
    shutil.copyfile(builder.built_path(PLAN, "ledger"), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["参保缴费台账"]
    for i, (name, pid, paid, reason, identity, employee, _k, _c) in enumerate(PEOPLE):
        r = 4 + i
        values = {"B": f"{i + 1:03d}", "C": name, "D": "户主", "E": "男", "F": pid, "H": paid, "I": reason,
                  "J": "本人", "K": identity, "L": PAY if paid else None, "O": employee}
        for col, value in values.items():
            ws[f"{col}{r}"] = value
    wb.save(path)
    dead = tmp_path / "死亡人员名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["2024年死亡人员名单"])
    wb.active.append(["姓名", "身份证号", "死亡日期"])
    for name, pid, *_ in PEOPLE:
        if pid in DEAD:
            wb.active.append([name, pid, datetime.date(2024, 7, 3)])
    wb.save(dead)
    employed = tmp_path / "职工医保参保名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号", "参保单位"])
    for name, pid, *_ in PEOPLE:
        if pid in EMPLOYED:
            wb.active.append([name, pid, "示例公司"])
    wb.save(employed)
    return path, dead, employed


def test_each_kind_on_a_template_ledger(town):
    path, dead, employed = town
    tables, _ = read_ledger_tables(books.FileBook(path).grids())
    lists = read_side_lists([dead, employed])
    records = {r.name: r for r in compute_records(plans.load(PLAN), records_of(tables), lists=lists)}
    for name, _pid_, _p, _r, _i, _e, kind_, cell in PEOPLE:
        rec = records[name]
        assert rec.status.kind == kind_, (name, rec.status)
        assert rec.enrolled == (kind_ in (st.PAID, st.SUBSIDIZED, st.PROXY)), name
        assert bool(rec.contradictions) == (cell is not None), (name, rec.contradictions)
    assert "死亡人员名单.xlsx 第3行" in records["周庚"].status.reason
    # without the lists the deceased and the listed employee are what the ledger says
    plain = {r.name: r for r in compute_records(plans.load(PLAN), records_of(tables))}
    assert (plain["周庚"].status.kind, plain["陈子"].status.kind, plain["郑壬"].status.kind) == (
        st.PAID, st.SUBSIDIZED, st.PAID)


def _errors(path):
    ws = openpyxl.load_workbook(path)["校验报告"]
    return [(r[3], r[4], r[6]) for r in ws.iter_rows(min_row=2, values_only=True) if r[5] == "错误"]


def test_validate_reports_each_contradiction_on_its_cell_naming_both_sources(town):
    path, dead, employed = town
    proc = run_yibao("validate", str(path), "--deceased", str(dead), "--employee", str(employed))
    assert proc.stdout.startswith("共检查12行")
    errors = _errors(path)
    for i, (name, _pid_, _p, reason, identity, _e, _k, cell) in enumerate(PEOPLE):
        found = [(c, m) for c, n, m in errors if n == name and ("名单" in m or "未缴费原因填" in m)]
        if cell is None:
            assert not found, (name, found)
            continue
        assert any(c == f"{cell}{4 + i}" for c, _m in found), (name, found)
    text = {n: " ".join(m for _c, nn, m in errors if nn == n) for n in {e[1] for e in errors}}
    assert "未缴费原因填“本人不愿参保”，却按方案享受特困人员资助" in text["赵丁"]
    assert "未缴费原因填“已在外地参保”，却按方案享受特困人员资助" in text["钱戊"]
    assert "死亡人员名单（死亡人员名单.xlsx 第3行）有此人，台账却填了个人缴费400元" in text["周庚"]
    assert "死亡人员名单" in text["陈子"] and "特困人员" in text["陈子"]
    assert "未缴费原因填“外出联系不上”，个人缴费却填了400元" in text["吴辛"]
    assert "职工医保参保名单（职工医保参保名单.xlsx 第2行）有此人，台账却填了个人缴费400元" in text["郑壬"]
    # the lists are the reason: no 未缴费原因 demanded of the deceased
    assert not any("未缴费原因”为空" in m for _c, n, m in errors if n == "陈子")


def test_validate_without_lists_still_sees_what_the_row_contradicts(town):
    path, _dead, _employed = town
    run_yibao("validate", str(path))
    names = {n for _c, n, m in _errors(path) if "未缴费原因填" in m}
    assert names == {"赵丁", "钱戊", "吴辛"}


def test_validate_reads_a_folder_of_lists_and_refuses_a_missing_one(town, tmp_path):
    path, dead, employed = town
    folder = tmp_path / "部门名单"
    folder.mkdir()
    shutil.move(dead, folder / dead.name)
    shutil.move(employed, folder / employed.name)
    run_yibao("validate", str(path), "--lists", str(folder))
    names = {n for _c, n, m in _errors(path) if "名单（" in m}
    assert names == {"周庚", "陈子", "郑壬"}
    proc = run_yibao("validate", str(path), "--deceased", str(tmp_path / "没有.xlsx"), check_rc=2)
    assert "找不到名单文件" in proc.stderr and "Traceback" not in proc.stderr


def _notice_cells(path):
    ws = openpyxl.load_workbook(path)["公示名单"]
    return [[c for c in row] for row in ws.iter_rows(values_only=True)]


def test_notice_lists_only_the_enrolled_with_no_amount(town, tmp_path):
    path, dead, employed = town
    out = tmp_path / "公示.xlsx"
    proc = run_yibao("notice", str(path), "-o", str(out), "--deceased", str(dead), "--employee", str(employed))
    rows = _notice_cells(out)
    names = {r[2] for r in rows if isinstance(r[0], int)}
    assert names == {"张甲", "李乙", "王丙"}
    assert "公示名单共3人" in proc.stdout
    assert "未列入9人：未缴费3人、已死亡2人、职工医保2人、异地参保1人、待核实1人" in proc.stdout
    header = next(r for r in rows if r[0] == "序号")
    assert [h for h in header if h] == ["序号", "村（社区）", "姓名", "性别", "身份证号"]
    text = " ".join(str(c) for r in rows for c in r if c is not None)
    assert "个人缴费" not in text and "元" not in text
    assert "特困" not in text and "遗属" not in text
    for _n, pid, *_ in PEOPLE:
        assert pid not in text
    assert _pid(1)[:6] + "********" + _pid(1)[-4:] in text


def test_notice_amount_only_when_asked(town, tmp_path):
    path, _dead, _employed = town
    out = tmp_path / "公示.xlsx"
    run_yibao("notice", str(path), "-o", str(out), "--amount")
    rows = _notice_cells(out)
    header = next(r for r in rows if r[0] == "序号")
    assert header[5] == "个人缴费（元）"
    paid = {r[2]: r[5] for r in rows if isinstance(r[0], int)}
    # without the lists the dead payer and the listed employee are on it
    assert paid == {"张甲": 400, "李乙": 0, "王丙": 0, "周庚": 400, "郑壬": 400, "陈子": 0}


def test_validate_names_a_death_list_row_it_could_not_match(town):
    path, dead, employed = town
    wb = openpyxl.load_workbook(dead)
    bad = _pid(20)[:17] + ("0" if _pid(20)[17] != "0" else "1")
    wb.active.append(["卫某", bad, datetime.date(2024, 8, 1)])
    wb.save(dead)
    proc = run_yibao("validate", str(path), "--deceased", str(dead))
    assert "名单中身份证号无法识别、未能比对的：死亡人员名单 死亡人员名单.xlsx 第5行（卫某：" in proc.stdout


def test_the_rows_own_death_flag(town):
    path, _dead, _employed = town
    wb = openpyxl.load_workbook(path)
    ws = wb["参保缴费台账"]
    ws["U3"] = "是否死亡"
    ws["U4"] = "是"          # 张甲, paid
    ws["U5"] = "不详"        # 李乙
    wb.save(path)
    tables, _ = read_ledger_tables(books.FileBook(path).grids())
    records = {r.name: r for r in compute_records(plans.load(PLAN), records_of(tables))}
    assert (records["张甲"].status.kind, records["张甲"].enrolled) == (st.DECEASED, False)
    assert records["李乙"].status.kind == st.PENDING
    run_yibao("validate", str(path))
    assert ("U5", "李乙", "“是否死亡”应填是或否，见到“不详”") in _errors(path)
