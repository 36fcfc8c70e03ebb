"""Which list is which (macros/lists.py), and the death and employee lists
read into the side lists the enrollment status is decided from (issue 11)."""
from __future__ import annotations

import doctest

import openpyxl
import pytest

from conftest import make_id, run_yibao
from yibao.macros import lists

DEAD = make_id("19801016", 915)
WORKER = make_id("19660519", 28)


def test_docstring_examples():
    failures, _tried = doctest.testmod(lists)
    assert failures == 0


def _book(path, sheets):
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(r)
    wb.save(path)
    return path


@pytest.mark.parametrize("rows,sheet,file,kind", [
    ([["姓名", "身份证号", "死亡时间"]], "Sheet1", "名单1.xlsx", lists.DECEASED),
    ([["姓名", "公民身份号码", "注销原因"]], "Sheet1", "a.xlsx", lists.DECEASED),
    ([["姓名", "身份证号码", "单位名称", "险种"]], "Sheet1", "b.xlsx", lists.EMPLOYEE),
    ([["示例县职工基本医疗保险参保人员"], ["姓名", "身份证号", "备注"]], "Sheet1", "c.xlsx", lists.EMPLOYEE),
    ([["姓名", "身份证号", "救助类型"]], "Sheet1", "d.xlsx", lists.SUBSIDY),
    # a subsidy form's own 是否死亡 flag does not make it a death list
    ([["姓名", "身份证号", "身份类别", "是否死亡"]], "Sheet1", "死亡.xlsx", lists.SUBSIDY),
    ([["姓名", "身份证号"]], "死亡人员", "x.xlsx", lists.DECEASED),
    ([["序号", "姓名", "身份证号", "资助类别", "确定理由"]], "资助名单汇总", "结果.xlsx", lists.ROSTER),
])
def test_the_kind_is_read_from_headers_title_and_names(rows, sheet, file, kind):
    assert lists.classify(rows, sheet, file).kind == kind


def test_a_list_that_says_nothing_is_not_guessed():
    found = lists.classify([["姓名", "身份证号", "备注"]], "Sheet1", "名单.xlsx")
    assert found.kind is None
    message = lists.unclassified_message("名单.xlsx", "Sheet1", found)
    assert "--deceased" in message and "--employee" in message and "身份类别" in message


def test_side_lists_keep_the_source_row_and_report_every_unreadable_row(tmp_path):
    old15 = DEAD[:6] + DEAD[8:17]              # the same person's old 15-digit number
    dead = _book(tmp_path / "死亡人员名单.xlsx", {"Sheet1": [
        ["姓名", "身份证号", "死亡日期"],
        ["甲", DEAD, "2025-07-03"],
        ["乙", 4.30999195e17, "2025-08-01"],      # Excel stored it as a number
        ["丙", old15, "2025-09-01"],
        ["丁", "4309991", "2025-09-02"]]})
    work = _book(tmp_path / "职工.xlsx", {"参保": [["姓名", "身份证号", "参保单位"], ["戊", WORKER, "某公司"]]})
    side = lists.read_side_lists([dead, work])
    assert side.deceased == {DEAD: "死亡人员名单.xlsx 第2行"}            # 丙's 15-digit number is DEAD too
    assert side.employee == {WORKER: "职工.xlsx 第2行"}
    unread = {(u.name, u.row) for u in side.unreadable}
    assert unread == {("乙", 3), ("丁", 5)}
    assert all(u.reason for u in side.unreadable)


def test_side_lists_refuse_a_department_list_and_read_a_merged_roster(tmp_path):
    dept = _book(tmp_path / "民政.xlsx", {"低保": [["姓名", "身份证号", "身份类别"], ["甲", DEAD, "低保户"]]})
    with pytest.raises(Exception, match="先用“合并资助名单”"):
        lists.read_side_lists([dept])
    merged = _book(tmp_path / "结果.xlsx", {"资助名单汇总": [
        ["标题"], ["序号", "村（社区）", "姓名", "身份证号", "资助类别", "确定理由"], [1, "东山村", "甲", DEAD, "低保对象", "唯一"]]})
    assert lists.read_side_lists([merged]).roster == {DEAD: "低保对象"}


# ---------------------------------------------------------------- yibao dedupe over a folder

P1 = make_id("19500101", 21, "430999")
P2 = make_id("19620305", 33, "430999")
P3 = make_id("19700708", 45, "430999")
P4 = make_id("19801016", 57, "430999")
P5 = make_id("19881212", 69, "430999")
P6 = make_id("19900202", 71, "430999")


def _department(path, rows, village=True):
    header = ["序号", "姓名", "身份证号", "身份类别"] + (["村（社区）"] if village else [])
    body = [[n + 1, *r] if village else [n + 1, *r[:3]] for n, r in enumerate(rows)]
    return _book(path, {"低保": [["示例县2026年资助名单"], header, *body]})


def _roster(out):
    ws = openpyxl.load_workbook(out)["资助名单汇总"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    header = list(rows[0])
    return [dict(zip(header, r)) for r in rows[1:]]


def _sheet(out, name):
    rows = list(openpyxl.load_workbook(out)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_a_wildcard_sweeps_in_death_and_employee_lists_and_they_are_applied(tmp_path):
    folder = tmp_path / "部门名单"
    folder.mkdir()
    _department(folder / "民政.xlsx", [["甲", P1, "低保户", "东山村"], ["乙", P2, "低保户", "南岭村"],
                                      ["丙", P3, "低保户", "东山村"]])
    _book(folder / "职工医保参保名单.xlsx", {"Sheet1": [["姓名", "身份证号", "参保单位"], ["乙", P2, "某公司"]]})
    _book(folder / "死亡人员名单.xlsx", {"Sheet1": [["姓名", "身份证号", "死亡日期"], ["丙", P3, "2025-07-03"]]})
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", *sorted(map(str, folder.glob("*.xlsx"))), "--policy", "shili-2026", "-o", str(out))
    roster = _roster(out)
    assert [r["身份证号"] for r in roster] == [P1]              # not the employee-insured, not the deceased
    assert roster[0]["村（社区）"] == "东山村"
    kinds = {(r["异常类型"], r["姓名"]) for r in _sheet(out, "异常名单")}
    assert ("已参加职工医保", "乙") in kinds and ("已死亡", "丙") in kinds
    assert not any(k == "缺少身份类别" for k, _ in kinds)
    assert "职工医保参保名单.xlsx" in proc.stdout and "死亡人员名单.xlsx" in proc.stdout


def test_a_list_that_cannot_be_classified_is_refused_naming_the_options(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [["甲", P1, "低保户", "东山村"]])
    plain = _book(tmp_path / "名单.xlsx", {"Sheet1": [["姓名", "身份证号"], ["甲", P1]]})
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", str(dept), str(plain), "--policy", "shili-2026", "-o", str(out), check_rc=2)
    assert "名单.xlsx" in proc.stderr and "--deceased" in proc.stderr and "--employee" in proc.stderr
    assert "Traceback" not in proc.stderr and not out.exists()
    # the option says what it is
    run_yibao("dedupe", str(dept), "--deceased", str(plain), "--policy", "shili-2026", "-o", str(out))
    assert _roster(out) == [] and any(r["异常类型"] == "已死亡" for r in _sheet(out, "异常名单"))


def test_unreadable_death_list_ids_are_never_dropped_silently(tmp_path):
    """Three deceased persons whose numbers the death list spoilt (a float,
    an old 15-digit number, an invisible character) keep no subsidy; a name
    whose number cannot be matched at all is held back as 待核实; every
    unreadable row is in 异常名单 and the message (issue 11)."""
    dept = _department(tmp_path / "民政.xlsx", [
        ["甲", P1, "低保户", "东山村"], ["乙", P2, "低保户", "东山村"], ["丙", P3, "低保户", "东山村"],
        ["丁", P4, "低保户", "南岭村"], ["戊", P5, "低保户", "南岭村"], ["己", P6, "低保户", "南岭村"]])
    typo = P4[:10] + ("1" if P4[10] != "1" else "2") + P4[11:]
    dead = _book(tmp_path / "死亡人员名单.xlsx", {"Sheet1": [
        ["姓名", "身份证号", "死亡日期"],
        ["甲", float(P1), "2025-07-03"],                 # Excel stored it as a number
        ["乙", P2[:6] + P2[8:17], "2025-07-04"],          # old 15-digit number
        ["丙", P3[:9] + "\u200b" + P3[9:], "2025-07-05"],  # an invisible character pasted in
        ["丁", typo, "2025-07-06"],                       # a typo: same name, number does not agree
        ["庚", "不详", "2025-07-07"]]})                   # nobody of that name on the lists
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", str(dept), str(dead), "--policy", "shili-2026", "-o", str(out))
    funded = {r["身份证号"] for r in _roster(out)}
    assert funded == {P5, P6}
    exceptions = _sheet(out, "异常名单")
    dead_rows = {r["姓名"] for r in exceptions if r["异常类型"] == "已死亡"}
    assert {"甲", "乙", "丙"} <= dead_rows
    pending = [r for r in exceptions if r["异常类型"] == "待核实"]
    assert [r["姓名"] for r in pending] == ["丁"]
    assert "死亡人员名单.xlsx 第5行" in pending[0]["说明"] and "民政.xlsx：低保 第6行" in pending[0]["说明"]
    unreadable = {r["行"] for r in exceptions if r["异常类型"] == "死亡人员名单身份证号无法识别"}
    # the float (row 2), the typo and 不详; the 15-digit number (row 3) is upgraded
    assert {2, 5, 6} <= unreadable and 3 not in unreadable
    assert "身份证号无法识别" in proc.stdout and "1人待核实" in proc.stdout
    assert "死亡人员名单.xlsx：Sheet1 第6行庚" in proc.stdout and "民政.xlsx：低保 第6行丁" in proc.stdout


def test_every_row_of_every_list_is_accounted_for_in_the_statistics(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [
        ["甲", P1, "低保户", "东山村"], ["甲", P1, "低保户", "东山村"], ["乙", P2, "低保户", "东山村"],
        ["丙", "123", "低保户", "东山村"], ["丁", P4, "不知道", "东山村"], ["戊", P5, "低保户", "南岭村"]])
    dead = _book(tmp_path / "死亡.xlsx", {"Sheet1": [["姓名", "身份证号", "死亡日期"], ["乙", P2, "2025-01-01"],
                                                     ["乙", P2, "2025-01-01"], ["某", "x", "2025-01-01"]]})
    out = tmp_path / "结果.xlsx"
    run_yibao("dedupe", str(dept), str(dead), "--policy", "shili-2026", "-o", str(out))
    lines = [r for r in _sheet(out, "分类统计") if r["分类"] == "名单核对"]
    sources = {r["项目"].rsplit("：", 1)[0] for r in lines}
    assert sources == {"民政.xlsx：低保", "死亡.xlsx：Sheet1"}
    for source in sources:
        mine = {r["项目"].rsplit("：", 1)[1]: r["人数"] for r in lines if r["项目"].rsplit("：", 1)[0] == source}
        read = mine.pop("读入行数")
        assert read == sum(mine.values()), (source, mine)
    dept_lines = {r["项目"].rsplit("：", 1)[1]: r["人数"] for r in lines if r["项目"].startswith("民政")}
    assert dept_lines["读入行数"] == 6 and dept_lines["剔除（死亡人员）"] == 1 and dept_lines["列入异常名单"] == 3
    dead_lines = {r["项目"].rsplit("：", 1)[1]: r["人数"] for r in lines if r["项目"].startswith("死亡")}
    assert dead_lines["读入行数"] == 3 and dead_lines["身份证号无法识别（列入异常名单）"] == 1


def test_the_village_column_is_blank_when_the_list_has_none(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [["甲", P1, "低保户"]], village=False)
    out = tmp_path / "结果.xlsx"
    run_yibao("dedupe", str(dept), "--policy", "shili-2026", "-o", str(out))
    assert [(r["姓名"], r["村（社区）"]) for r in _roster(out)] == [("甲", None)]


def test_a_forced_death_list_without_an_id_column_is_refused(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [["甲", P1, "低保户", "东山村"]])
    notes = _book(tmp_path / "说明.xlsx", {"Sheet1": [["这里没有名单"]]})
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", str(dept), "--deceased", str(notes), "--policy", "shili-2026", "-o", str(out),
                     check_rc=2)
    assert "“说明.xlsx”里找不到死亡人员名单" in proc.stderr and not out.exists()


def test_a_gbk_csv_death_list_with_excel_text_formulas_is_read(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [["甲", P1, "低保户", "东山村"], ["乙", P2, "低保户", "东山村"]])
    dead = tmp_path / "死亡.csv"
    dead.write_bytes(f'姓名,身份证号,死亡日期\r\n甲,="{P1}",2025-07-03 08:30:00\r\n'.encode("gbk"))
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", str(dept), str(dead), "--policy", "shili-2026", "-o", str(out))
    assert {r["身份证号"] for r in _roster(out)} == {P2}
    assert not [r for r in _sheet(out, "异常名单") if "无法识别" in r["异常类型"]]
    assert "无法识别" not in proc.stdout


def test_the_merge_result_reads_back_as_the_roster(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [["甲", P1, "低保户", "东山村"], ["乙", P2, "低保户", "东山村"]])
    out = tmp_path / "结果.xlsx"
    run_yibao("dedupe", str(dept), "--policy", "shili-2026", "-o", str(out))
    side = lists.read_side_lists([out])
    assert side.roster == {P1: "低保对象", P2: "低保对象"} and not side.deceased and not side.unreadable
    # and it is refused as a department list
    proc = run_yibao("dedupe", str(dept), str(out), "--policy", "shili-2026", "-o", str(tmp_path / "x.xlsx"),
                     check_rc=2)
    assert "是合并结果" in proc.stderr


def test_an_employee_whose_insurance_ended_keeps_the_subsidy(tmp_path):
    """A 职工医保 export lists persons whose employee insurance ended (终止参保);
    they may enroll as residents, so only the insured ones are excluded."""
    dept = _department(tmp_path / "民政.xlsx", [["甲", P1, "低保户", "东山村"], ["乙", P2, "低保户", "东山村"]])
    work = _book(tmp_path / "职工.xlsx", {"Sheet1": [
        ["姓名", "身份证号", "单位名称", "参保状态"], ["甲", P1, "某公司", "正常参保"], ["乙", P2, "某公司", "终止参保"]]})
    out = tmp_path / "结果.xlsx"
    run_yibao("dedupe", str(dept), str(work), "--policy", "shili-2026", "-o", str(out))
    assert {r["身份证号"] for r in _roster(out)} == {P2}
    lines = {r["项目"]: r["人数"] for r in _sheet(out, "分类统计") if r["分类"] == "名单核对"}
    assert lines["职工.xlsx：Sheet1：读入行数"] == 2
    assert lines["职工.xlsx：Sheet1：不用于比对（参保状态为“终止参保”，不按已参加职工医保处理）"] == 1
    assert lists.read_side_lists([work]).employee == {P1: "职工.xlsx 第2行"}


def test_a_damaged_death_entry_matches_a_name_typed_with_a_space(tmp_path):
    dept = _department(tmp_path / "民政.xlsx", [["肖桂娟", P1, "低保户", "东山村"], ["林军明", P2, "低保户", "东山村"]])
    dead = _book(tmp_path / "死亡人员名单.xlsx", {"Sheet1": [
        ["姓名", "身份证号", "死亡日期"], ["肖 桂娟", float(P1), "2025-07-03"]]})
    out = tmp_path / "结果.xlsx"
    run_yibao("dedupe", str(dept), str(dead), "--policy", "shili-2026", "-o", str(out))
    assert {r["身份证号"] for r in _roster(out)} == {P2}
    said = [r["说明"] for r in _sheet(out, "异常名单") if r["异常类型"] == "已死亡"]
    assert said and "死亡人员名单.xlsx 第2行" in said[0] and "身份证号损坏，按姓名和前1" in said[0]


def test_a_list_with_columns_of_two_kinds_goes_by_its_file_name(tmp_path):
    rows = [["姓名", "身份证号", "身份类别", "死亡日期"], ["甲", P1, "低保户", None]]
    assert lists.classify(rows, "Sheet1", "民政.xlsx").kind is None
    assert lists.classify(rows, "Sheet1", "民政资助名单.xlsx").kind == lists.SUBSIDY
    assert lists.classify(rows, "Sheet1", "死亡人员.xlsx").kind == lists.DECEASED
    assert "文件名里写明" in lists.unclassified_message("民政.xlsx", "Sheet1", lists.classify(rows, "Sheet1", "民政.xlsx"))


def test_the_bundled_folder_by_wildcard_merges_as_with_the_options(tmp_path):
    """`yibao dedupe 部门名单/*.xlsx` on the example town gives the same roster
    as naming the death and employee lists by option: 肖桂娟 (death list) and
    the three employee-insured persons are not funded (issue 11)."""
    from pathlib import Path
    folder = Path(__file__).parent.parent / "examples" / "示例镇" / "部门名单"
    every = sorted(map(str, folder.glob("*.xlsx")))
    by_content = tmp_path / "a.xlsx"
    run_yibao("dedupe", *every, "--policy", "shili-2026", "-o", str(by_content))
    departments = [p for p in every if not p.endswith(("死亡人员名单.xlsx", "职工医保参保名单.xlsx"))]
    by_option = tmp_path / "b.xlsx"
    run_yibao("dedupe", *departments, "--deceased", str(folder / "死亡人员名单.xlsx"),
              "--employee", str(folder / "职工医保参保名单.xlsx"), "--policy", "shili-2026", "-o", str(by_option))
    assert _roster(by_content) == _roster(by_option)
    names = {r["姓名"] for r in _roster(by_content)}
    assert not names & {"肖桂娟", "杜雪", "何峰", "曹娟"}
    assert all(r["村（社区）"] for r in _roster(by_content))


def test_the_plan_is_read_from_the_lists_when_no_policy_is_given(tmp_path):
    # a list carrying its 方案编号 (as the ledgers do) needs no --policy
    _book(tmp_path / "民政.xlsx", {"低保": [["示例县2026年资助名单", None, "方案编号", "shili-2026"],
                                          ["序号", "姓名", "身份证号", "身份类别"], [1, "甲", P1, "低保户"]]})
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", str(tmp_path / "民政.xlsx"), "-o", str(out))
    assert "确定资助1人" in proc.stdout
    assert [r["身份证号"] for r in _roster(out)] == [P1]
    # a list that names no plan: one line saying how to name it, exit 2
    plain = _department(tmp_path / "残联.xlsx", [["乙", P2, "低保户", "东山村"]])
    proc = run_yibao("dedupe", str(plain), "-o", str(tmp_path / "x.xlsx"), check_rc=2)
    assert "--policy" in proc.stderr and "Traceback" not in proc.stderr
