"""Text as it really arrives: pasted from web systems, exported as CSV,
typed by two departments two ways. One reading for every reader (issue 16
items 1, 3, 9)."""
from __future__ import annotations

import datetime
import doctest
import json

import openpyxl
import pytest

from conftest import make_id, run_yibao
from yibao.functions import engine, identity, idno, text, values
from yibao.functions import plan as plans
from yibao.macros.table import cell_text

TODAY = datetime.date(2026, 11, 22)
A = make_id("19800101", 11, "430999")
B = make_id("19850505", 22, "430999")
X = "43099919500101007X"
assert idno.is_valid(X)


def test_docstring_examples():
    failures, _tried = doctest.testmod(text)
    assert failures == 0


@pytest.mark.parametrize("pasted", [
    "\u202d" + A + "\u202c",                 # copied from a web page: left-to-right override … pop
    A[:6] + "\u200b" + A[6:],                # zero-width space inside
    "\ufeff" + A,                            # byte-order mark of a CSV's first cell
    "\u200e" + A + "\u200f",                 # direction marks
    A[:6] + "\u2060" + A[6:14] + "\u00a0" + A[14:],   # word joiner, no-break space
    '="' + A + '"',                          # Excel CSV export
    "'" + A,                                 # apostrophe typed to keep it text
    "\t" + A,
])
def test_an_id_as_pasted_validates_as_the_18_digits_on_screen(pasted):
    assert idno.validate(pasted, TODAY) == A
    assert idno.check_message(pasted, TODAY) == ""


def test_full_width_digits_and_a_lowercase_x_read_as_the_number():
    wide = X.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    assert idno.validate(wide, TODAY) == X
    assert idno.validate(X.lower(), TODAY) == X
    assert idno.validate("\u202d" + wide + "\u202c", TODAY) == X


def test_invisible_characters_do_not_hide_a_wrong_number():
    assert idno.check_message("\u202d" + A[:17] + "\u202c", TODAY) == "身份证号应为18位，现为17位"
    wrong = A[:-1] + ("0" if A[-1] != "0" else "1")
    assert "校验位" in idno.check_message("\u202d" + wrong + "\u202c", TODAY)


@pytest.mark.parametrize("one, other", [
    ("张三", "张\u3000三"),                   # ideographic space
    ("张三", " 张 三 "),
    ("张三", "张\u00a0三"),                   # no-break space
    ("张三", "\u202d张三\u202c"),
    ("张三", '="张三"'),
    ("阿依古丽·买买提", "阿依古丽.买买提"),
    ("阿依古丽·买买提", "阿依古丽．买买提"),   # full-width full stop
    ("阿依古丽·买买提", "阿依古丽•买买提"),    # bullet
    ("阿依古丽·买买提", "阿依古丽‧买买提"),    # hyphenation point U+2027
    ("阿依古丽·买买提", "阿依古丽・买买提"),   # katakana middle dot U+30FB
    ("阿依古丽·买买提", "阿依古丽 · 买买提"),
])
def test_one_name_written_two_ways_reads_as_one(one, other):
    assert cell_text(one) == cell_text(other) == one


def test_text_that_is_not_a_chinese_name_keeps_its_spaces_and_dots():
    assert cell_text("Maria Chen") == "Maria Chen"
    assert cell_text("2025.10.15") == "2025.10.15"
    assert cell_text("低保对象\n特困人员") == "低保对象\n特困人员"   # one identity per line stays split
    assert identity.split_names(cell_text("低保对象\n特困人员")) == ("低保对象", "特困人员")


def test_identity_names_match_through_invisible_characters_and_any_dot():
    assert identity.key("低保\u200b对象") == identity.key("低保对象")
    assert identity.key("\ufeff特困人员\u202c") == identity.key("特困人员")
    plan = plans.load("shili-2026")
    assert plan.lookup("\u202d低保对象\u202c").name == "低保对象"


def test_a_cell_with_thousands_of_names_is_read_whole_and_right():
    """100,000 characters of 、-listed names (cubic before: over 3 minutes at
    32,000): every part read, 一、二级残疾人 still one name."""
    plan = plans.load("shili-2026")
    unit = "低保对象、一、二级残疾人、特困人员"
    cell = "、".join([unit] * (100_000 // len(unit) + 1))
    assert len(cell) > 100_000
    found = identity.runs(cell, plan.by_key)
    assert found is not None and len(found) == 3 * (100_000 // len(unit) + 1)
    assert [c.name for c in found[:3]] == ["低保对象", "一二级残疾人", "特困人员"]
    assert identity.runs(cell + "、不存在的身份", plan.by_key) is None
    # through the engine, as a ledger's 身份类别 cell is read
    result = engine.compute(plan, engine.Person(A, (cell,), datetime.date(2025, 10, 15)), TODAY)
    assert result.ok and result.subsidy_tier == "特困人员"
    bad = engine.compute(plan, engine.Person(A, (cell + "、五保老人",), datetime.date(2025, 10, 15)), TODAY)
    assert not bad.ok and "未知身份类别" in bad.message


def test_longest_known_run_wins():
    known = {identity.key(n): n for n in ("一级残疾人", "二级残疾人", "一、二级残疾人", "低保对象")}
    assert identity.runs("一、二级残疾人、低保对象", known) == ["一、二级残疾人", "低保对象"]
    assert identity.runs("低保对象、、一级残疾人", known) == ["低保对象", "一级残疾人"]
    assert identity.runs("、、", known) is None


@pytest.mark.parametrize("typed", [
    "2025-10-15 09:31:27", "2025/10/15 0:00", "2025-10-15T00:00:00", "2025-10-15T09:31:27.000+08:00",
    "2025-10-15T00:00:00Z", "2025年10月15日 9:31", "2025年10月15日9时31分", "2025.10.15 09:31",
    "２０２５年１０月１５日", "\u200e2025-10-15\u200f", "45945.39652",
    datetime.datetime(2025, 10, 15, 9, 31, 27),
])
def test_a_date_with_a_time_of_day_is_that_date(typed):
    assert values.to_date(typed) == datetime.date(2025, 10, 15)


@pytest.mark.parametrize("typed", ["2025-10-15 25:00", "2025-10-15 09:61", "2025-10-15 下午", "2025-10-15" + " " * 100 + "x"])
def test_a_time_that_cannot_be_is_refused(typed):
    with pytest.raises(values.BadValue):
        values.to_date(typed)


def test_calc_accepts_a_pay_date_with_a_time():
    rows = [{"id_no": "\u202d430999195001010213\u202c", "identities": ["低保户"], "pay_date": day}
            for day in ("2025-10-15 09:31:27", "2025/10/15 0:00", "2025-10-15T00:00:00")]
    stdin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    proc = run_yibao("calc", "--policy", "shili-2026", stdin=stdin)
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["ok"] for r in out] == [True] * 3, out
    assert {r["benefit_start"] for r in out} == {"2026-01-01"}


def test_validate_reads_pasted_ids_and_dates_with_times(tmp_path):
    from test_actions_ledger import HEADER, report_rows
    path = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "台账"
    ws.append(["方案编号", "shili-2026"])
    ws.append(HEADER)
    ws.append([1, "001", "张三", "户主", "男", "\u202d" + A + "\u202c", "上门告知", 400, None, None, None,
               "2025-10-15 09:31:27", "2025-10-15 10:00"])
    ws.append([2, "001", "李四", "配偶", "女", B[:6] + "\u200b" + B[6:] + "\ufeff", "上门告知", 400, None, None, None,
               datetime.datetime(2025, 10, 15, 9, 31), "2025/10/15 0:00"])
    wb.save(path)
    proc = run_yibao("validate", str(path))
    messages = [r[6] for r in report_rows(path)]
    assert not any("身份证号" in m or "日期" in m for m in messages), messages
    assert proc.stdout.startswith("共检查2行")


def _list_book(path, header, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_merge_sees_one_person_in_a_name_written_two_ways(tmp_path):
    minzheng = _list_book(tmp_path / "民政.xlsx", ["姓名", "身份证号", "救助类型"],
                          [["张\u3000三", "\u202d" + A + "\u202c", "低保对象"], ["阿依古丽·买买提", B, "低保对象"]])
    canlian = tmp_path / "残联.csv"
    canlian.write_text(f'姓名,证件号码,人员类别\n张三,="{A}",一二级残疾人\n阿依古丽.买买提,="{B}",一二级残疾人\n',
                       encoding="gb18030")
    out = tmp_path / "结果.xlsx"
    proc = run_yibao("dedupe", str(minzheng), str(canlian), "--policy", "shili-2026", "-o", str(out))
    assert "确定资助2人" in proc.stdout, proc.stdout
    wb = openpyxl.load_workbook(out)
    kinds = [r[0] for r in wb["异常名单"].iter_rows(min_row=2, values_only=True)]
    assert "一人两名" not in kinds and "身份证号有误" not in kinds, kinds
    names = {r[3]: r[2] for r in wb["资助名单汇总"].iter_rows(min_row=3, values_only=True)}
    assert names == {A: "张三", B: "阿依古丽·买买提"}


def test_a_list_without_an_identity_column_is_an_error_naming_its_headers(tmp_path):
    odd = _list_book(tmp_path / "名单.xlsx", ["姓名", "身份证号", "类别说明"], [["张三", A, "低保对象"]])
    proc = run_yibao("dedupe", str(odd), "--policy", "shili-2026", "-o", str(tmp_path / "o.xlsx"), check_rc=2)
    assert "找不到“身份类别”列" in proc.stderr and "“类别说明”" in proc.stderr, proc.stderr
    assert not (tmp_path / "o.xlsx").exists()


def test_an_id_with_a_control_character_from_an_export_validates():
    """Reviewer's case: a CSV row '430999…\\x08' was rejected as 19 digits and shown as _x0008_."""
    from yibao.functions import idno
    for raw in (A + "\x08", A[:9] + "\x00" + A[9:], "\x1f" + A + "\x7f"):
        assert idno.parse(raw)[0] == A
