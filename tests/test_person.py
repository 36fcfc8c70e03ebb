"""The one reading of a row (yibao.functions.person): the cell values staff
type, as each shell hands them over, become the same person."""
from __future__ import annotations

import datetime
import doctest

import pytest

from conftest import make_id
from yibao.functions import person as reading
from yibao.functions.values import BadValue

ID = make_id("19800101", 11)
DAY = datetime.date(2025, 10, 15)


def test_doctests():
    failures, tried = doctest.testmod(reading)
    assert tried >= 4 and failures == 0


@pytest.mark.parametrize("value", ["√", "是", "Y", "y", "YES", "true", "TRUE", "1", 1, 1.0, True, "已参加",
                                   " √ ", "✓", "ｙ", "１"])
def test_yes(value):
    assert reading.flag(value) is True


@pytest.mark.parametrize("value", [None, "", "  ", "否", "×", "N", "no", "FALSE", "0", 0, 0.0, False, "未参加"])
def test_no(value):
    assert reading.flag(value) is False


@pytest.mark.parametrize("value", ["x", "不详", 2, "是否", "#N/A"])
def test_anything_else_is_an_error_naming_the_column(value):
    with pytest.raises(BadValue, match="是否参加职工医保"):
        reading.flag(value)


@pytest.mark.parametrize("value", [DAY, datetime.datetime(2025, 10, 15, 9, 31), 45945, 45945.0, 45945.4,
                                   "45945", "2025-10-15", "2025/10/15 0:00", "2025年10月15日", "20251015",
                                   "2025-10-15T09:31:27.000+08:00", "２０２５－１０－１５"])
def test_dates_every_way_they_arrive(value):
    assert reading.date_of(value) == DAY


def test_blank_dates_and_bad_ones():
    assert reading.date_of(None) is None and reading.date_of(" ") is None
    with pytest.raises(BadValue, match="事件日期.*#REF!"):
        reading.date_of("#REF!", "事件日期")
    with pytest.raises(BadValue, match="不存在"):
        reading.date_of("2025-02-30")


def test_identities_as_one_cell_or_a_list_cleaned():
    assert reading.identities_of("低保对象；脱贫人口") == ("低保对象", "脱贫人口")
    assert reading.identities_of(["低保对象", "脱贫人口"]) == ("低保对象", "脱贫人口")
    assert reading.identities_of("\u200b低保对象\u3000") == ("低保对象",)
    assert reading.identities_of(None) == () and reading.identities_of("") == ()
    with pytest.raises(BadValue):
        reading.identities_of(["低保对象", 3])


def test_a_row_of_cells_and_a_calc_line_make_the_same_person():
    from_cells = reading.person(ID, "低保对象", datetime.datetime(2025, 10, 15, 9, 0), None, None, "×", "脱贫户")
    from_json = reading.person_from_json({"id_no": ID, "identities": ["低保对象", "脱贫户"],
                                          "pay_date": "2025-10-15", "employee_insured": False})
    assert from_cells == from_json
    assert from_cells.identities == ("低保对象", "脱贫户") and from_cells.enroll_type == "普通"
    assert reading.person_from_json({"id_no": ID, "employee_insured": "√"}).employee_insured is True


@pytest.mark.parametrize("row,needle", [
    ({"id_no": ID, "identity": ["低保对象"]}, "不认识的输入项：“identity”"),
    ({"identities": ["低保对象"]}, "缺少身份证号"),
    ({"id_no": ID, "identities": 3}, "identities 应为文字列表"),
    ({"id_no": ID, "employee_insured": "maybe"}, "是否参加职工医保"),
    ({"id_no": "#N/A"}, "“身份证号”单元格是错误值#N/A"),
    ([1, 2], "JSON对象"),
])
def test_bad_calc_lines(row, needle):
    with pytest.raises(BadValue, match=needle):
        reading.person_from_json(row)


def test_cell_error_is_an_excel_error_value_with_its_reason():
    err = reading.VALUE_ERROR("身份证号校验位不对")
    assert err == "#VALUE!" and err.reason == "身份证号校验位不对"
    assert reading.cell_error(err) == "#VALUE!" and reading.cell_error("#VALUE") is None
    import pickle
    assert pickle.loads(pickle.dumps(err)).reason == err.reason
    with pytest.raises(ValueError):
        reading.CellError("#OOPS")


def test_a_ledger_reads_each_row_as_person_does():
    """A ledger's rows go through PersonReader, which reads the cells after
    the ID once per distinct set: every row, repeated or not, must come out
    as person() makes it, and a bad cell must raise on every row it is in
    (a 是否参加职工医保 of 1 and of True mean 是; a date of 45945 and of
    45945.0 are one day)."""
    read = reading.PersonReader()
    other = make_id("19900202", 12)
    rows = [(ID, "低保户", DAY, None, None, "√", None),
            (other, "低保户", DAY, None, None, "√", None),
            (other, "低保户", DAY, None, None, 1, None),
            (ID, "特困人员", 45945, "新生儿", "2025-10-01", True, "五保户"),
            (other, "特困人员", 45945.0, "新生儿", "2025-10-01", True, "五保户"),
            ("#N/A", "低保户", DAY, None, None, "√", None),
            (ID, ["低保户", "边缘户"], DAY, None, None, None, None)]
    for row in rows + rows:
        try:
            expected = reading.person(*row)
        except BadValue as exc:
            with pytest.raises(BadValue, match=str(exc)):
                read(*row)
            continue
        assert read(*row) == expected
    for _ in range(2):      # a bad date raises on every row it is in, not only the first
        with pytest.raises(BadValue, match="2025-13-45"):
            read(other, "低保户", "2025-13-45", None, None, None, None)
    # True == 1, but a 身份类别 of True is refused where 1 is read as text
    assert read(ID, 1).identities == reading.person(ID, 1).identities
    with pytest.raises(BadValue, match="身份类别"):
        read(ID, True)
