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
