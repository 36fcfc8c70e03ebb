"""Finding the table: header names as departments and systems write them,
from one data file; what is ambiguous or missing is said, never guessed
(issue 16 item 8)."""
from __future__ import annotations

import doctest

import openpyxl
import pytest

from conftest import make_id, run_yibao
from yibao.macros import table as tables
from yibao.macros.ledger import read_ledger_tables
from yibao.macros.table import AmbiguousColumns, TableError, field_of, find_table, synonyms

A = make_id("19800101", 11, "430999")
B = make_id("19850505", 22, "430999")
HEAD = make_id("19500303", 33, "430999")


def test_docstring_examples():
    failures, _tried = doctest.testmod(tables)
    assert failures == 0


@pytest.mark.parametrize("header, field", [
    ("人员类别", "identities"), ("救助类型", "identities"), ("对象类别", "identities"),
    ("救助类别", "identities"), ("优抚类别", "identities"), ("身份类别★", "identities"),
    ("证件号码", "id_no"), ("公民身份号码", "id_no"), ("身份证件号码", "id_no"), ("身份证号*", "id_no"),
    ("\u200b身份证号码\u3000", "id_no"),
    ("姓名", "name"), ("人员姓名", "name"), ("参保人姓名", "name"),
    ("户主身份证号", None), ("户主姓名", None), ("证件类型", None),
])
def test_headers_departments_write_name_their_field(header, field):
    assert field_of(header) == field


def test_one_data_file_holds_the_names_of_every_kind_each_name_once():
    ledger = synonyms("ledger")
    assert ledger is tables.FIELDS and ledger["id_no"][0] == "身份证号"
    payment = synonyms("payment")      # for the reconciliation of payment exports
    for field, example in [("person_no", "人员编号"), ("insurance", "征收品目"), ("amount", "实缴金额"),
                           ("pay_date", "入库日期"), ("region", "参保地"), ("proxy_type", "代缴类别"),
                           ("id_no", "证件号码"), ("name", "姓名")]:
        assert example in payment[field], field
    # a name may stand for one field only within a kind (the loader refuses the file otherwise)
    for kind in (ledger, payment):
        seen = {}
        for field, names in kind.items():
            for name in names:
                key = tables.header_key(name)
                assert seen.setdefault(key, field) == field, name


def test_two_id_columns_are_an_error_naming_both():
    grid = [["姓名", "身份证号", "证件号码", "身份类别"], ["张三", A, B, "低保对象"]]
    with pytest.raises(AmbiguousColumns) as caught:
        find_table("名单", grid)
    message = str(caught.value)
    assert "B列“身份证号”" in message and "C列“证件号码”" in message


def test_the_household_heads_id_is_another_field_not_a_second_id_column():
    grid = [["姓名", "户主身份证号", "身份证号", "身份类别"], ["张三", HEAD, A, "低保对象"]]
    found = find_table("名单", grid)
    assert found.columns["id_no"] == 3 and found.rows[0].values["id_no"] == A


def test_a_missing_column_names_the_headers_the_sheet_has():
    grid = [["姓名", "证件类型", "号码", "人员属性", "联系电话"], ["张三", "居民身份证", A, "低保对象", "13800000000"]]
    with pytest.raises(TableError) as caught:
        find_table("民政", grid)
    message = str(caught.value)
    assert "找不到“身份证号”列" in message and "“证件类型”“号码”" in message
    no_header = [["张三", A], ["李四", B]]
    with pytest.raises(TableError, match="找不到表头.*前几行写的是：“张三”"):
        find_table("民政", no_header)


def _sheet(rows, header=("序号", "姓名", "身份证号", "个人缴费")):
    return [list(header)] + [list(r) for r in rows]


def test_a_ledger_sheet_is_read_whatever_its_name_and_only_our_sheets_are_skipped():
    masked = A[:6] + "********" + A[14:]
    grids = {
        "一组": _sheet([[1, "张三", A, 400]]),
        "_二组": _sheet([[1, "李四", B, 400]]),                          # skipped before: 1 of 2 persons lost
        "公示名单": _sheet([[1, "张三", masked, 400]]),                   # ours: IDs masked
        "校验报告": [["序号", "工作表", "行", "单元格", "级别", "类别", "说明"], [1, "一组", 2, "C2", "错误", "x", "y"]],
        "_yibao标注": [["单元格", "样式"], ["C2", 1]],
    }
    found, _skipped = read_ledger_tables(grids)
    assert [t.sheet for t in found] == ["一组", "_二组"]
    grids["公示名单"] = _sheet([[1, "王五", HEAD, 400]])                 # a user's own list with real IDs
    found, _skipped = read_ledger_tables(grids)
    assert [t.sheet for t in found] == ["一组", "_二组", "公示名单"]


def test_a_ledger_with_two_id_columns_is_refused_not_half_read():
    grids = {"一组": _sheet([[1, "张三", A, 400]]),
             "二组": _sheet([[1, "李四", B, B]], header=("序号", "姓名", "身份证号", "证件号码"))}
    with pytest.raises(AmbiguousColumns):
        read_ledger_tables(grids)


def test_validate_and_summary_count_the_sheet_called_underscore_two(tmp_path):
    path = tmp_path / "东山村.xlsx"
    wb = openpyxl.Workbook()
    for title, person in (("一组", ("张三", A)), ("_二组", ("李四", B))):
        ws = wb.create_sheet(title)
        ws.append(["方案编号", "shili-2026"])
        ws.append(["序号", "姓名", "身份证号", "个人缴费", "缴费日期"])
        ws.append([1, *person, 400, "2025-10-15"])
    del wb["Sheet"]
    wb.save(path)
    proc = run_yibao("validate", str(path))
    assert proc.stdout.startswith("共检查2行"), proc.stdout


def test_validate_refuses_two_id_columns_with_one_chinese_line(tmp_path):
    path = tmp_path / "东山村.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["方案编号", "shili-2026"])
    ws.append(["序号", "姓名", "身份证号", "个人缴费", "证件号码"])
    ws.append([1, "张三", A, 400, A])
    wb.save(path)
    before = path.read_bytes()
    proc = run_yibao("validate", str(path), check_rc=2)
    assert proc.stderr.startswith("错误：") and "C列“身份证号”" in proc.stderr and "E列“证件号码”" in proc.stderr
    assert "Traceback" not in proc.stderr and path.read_bytes() == before


def test_a_workbook_without_a_ledger_says_what_headers_it_has(tmp_path):
    path = tmp_path / "东山村.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "证件类型", "号码", "联系电话"])
    wb.active.append(["张三", "居民身份证", A, "13800000000"])
    wb.save(path)
    proc = run_yibao("validate", str(path), "--policy", "shili-2026", check_rc=2)
    assert "没有找到台账" in proc.stderr and "“证件类型”“号码”" in proc.stderr, proc.stderr


def test_a_deceased_list_that_cannot_be_read_is_an_error_not_an_empty_list(tmp_path):
    lists = tmp_path / "民政.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["姓名", "身份证号", "身份类别"])
    wb.active.append(["张三", A, "低保对象"])
    wb.save(lists)
    dead = tmp_path / "死亡名单.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["死者姓名", "号码", "死亡日期"])
    wb.active.append(["张三", A, "2025-07-03"])
    wb.save(dead)
    proc = run_yibao("dedupe", str(lists), "--policy", "shili-2026", "-o", str(tmp_path / "o.xlsx"),
                     "--deceased", str(dead), check_rc=2)
    assert "死亡名单.xlsx" in proc.stderr and "“死者姓名”“号码”" in proc.stderr, proc.stderr
    assert not (tmp_path / "o.xlsx").exists()


@pytest.mark.parametrize("header, field", [
    # 004 附件1 and 000 附件 as towns type them (plan year 2020)
    ("村  名", ("unit", None)), ("村（社区）", ("unit", None)), ("镇街", ("unit", None)),
    ("2019年派出所户籍人口数", ("population", None)), ("总人口", ("population", None)),
    ("2019年目标任务数", ("prev_target", None)), ("上年目标任务数", ("prev_target", None)),
    ("2020年目标任务数", ("target", None)), ("目标任务数", ("target", None)),
    ("2020预计净增数", ("net_increase", None)), ("指定任务数", ("override", None)),
    ("实际参保数", ("enrolled", None)), ("参保人数", ("enrolled", None)),
    ("建档立卡贫困人口数", ("poor_total", None)), ("建档立卡已参保人数", ("poor_enrolled", None)),
    ("建档立卡参保率", ("", None)), ("12月31日前应完成（95%）", ("", None)), ("完成率", ("", None)),
    ("工作经费（元，0.2元/人）", ("", None)), ("备注", None),
])
def test_task_table_headers_are_read_from_the_one_data_file(header, field):
    assert tables.header_match(header, "task", 2020) == field


def test_task_table_reach_dates_keep_their_rate():
    from fractions import Fraction
    assert tables.header_match("达到95%日期", "task", 2020) == ("reached", Fraction(95, 100))
    assert tables.header_match("完成100%时间", "task", 2020) == ("reached", Fraction(1))


def test_the_task_table_has_no_header_scanner_of_its_own():
    """tasks.py reads the task table through table.scan_header; its header
    names live in functions/headers.toml ([task], [[task_words]]), each once."""
    import inspect
    import io
    import tokenize
    from yibao.macros import tasks
    source = inspect.getsource(tasks)
    assert "scan_header(" in source
    literals = " ".join(t.string for t in tokenize.generate_tokens(io.StringIO(source).readline)
                        if t.type == tokenize.STRING)
    for word in ("户籍人口", "村名", "净增", "建档立卡", "指定任务", "完成率", "达到"):
        assert word not in literals, word
    task = synonyms("task")
    seen = {}
    for field, names in task.items():
        for name in names:
            assert seen.setdefault(tables.header_key(name), field) == field, name
    assert {rule["field"] for rule in tables.word_rules("task")} >= {"reached", "poor_total", "target", ""}
