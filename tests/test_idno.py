"""ID numbers: what staff type, what Excel does to them, what we answer."""
from __future__ import annotations

import datetime
import doctest

import pytest
from hypothesis import given, strategies as st

from conftest import make_id
from yibao.functions import engine, identity, idno, plan, udf, values

TODAY = datetime.date(2026, 11, 22)


@pytest.mark.parametrize("module", [idno, values, identity, plan, engine, udf])
def test_docstring_examples(module):
    failures, _tried = doctest.testmod(module)
    assert failures == 0


births = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2026, 11, 1))
regions = st.sampled_from(["430423", "520221", "370402", "110105", "999999"])


@st.composite
def valid_ids(draw):
    born = draw(births)
    return make_id(born.strftime("%Y%m%d"), draw(st.integers(0, 999)), draw(regions)), born


@given(valid_ids())
def test_every_correctly_built_number_is_valid_whatever_its_region(pair):
    number, born = pair
    assert idno.validate(number, TODAY) == number
    assert idno.birth_date(number) == born
    assert idno.gender(number) == ("男" if int(number[16]) % 2 else "女")


@given(valid_ids(), st.sampled_from([" ", "\u3000", "-", "'"]))
def test_normalization_of_what_people_paste(pair, sep):
    number, _ = pair
    fullwidth = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    assert idno.validate(fullwidth, TODAY) == number
    spaced = sep + number[:6] + sep + number[6:14] + sep + number[14:].lower() + sep
    assert idno.validate(spaced, TODAY) == number


@given(valid_ids(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_wrong_digit_is_caught(pair, position, delta):
    number, _ = pair
    digit = (int(number[position]) + delta) % 10
    wrong = number[:position] + str(digit) + number[position + 1:]
    assert not idno.is_valid(wrong, TODAY)


@given(valid_ids())
def test_any_adjacent_swap_is_caught(pair):
    number, _ = pair
    for i in range(16):
        if number[i] != number[i + 1]:
            swapped = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            assert not idno.is_valid(swapped, TODAY)


@given(valid_ids())
def test_a_number_excel_stored_as_a_float_is_reported_as_damaged(pair):
    number, _ = pair
    if number.endswith("X"):
        number = number[:-1] + "0"
    as_float = float(int(number))          # what a General-formatted cell holds
    with pytest.raises(idno.DamagedByExcel):
        idno.validate(as_float, TODAY)
    shown = f"{as_float:.5E}".replace("E+", "E+")  # what the cell shows: 4.30423E+17
    with pytest.raises(idno.DamagedByExcel):
        idno.validate(shown, TODAY)
    assert "Excel" in idno.check_message(as_float, TODAY)


def test_digits_after_the_fifteenth_turned_to_zero_are_named_as_excel_damage():
    good = make_id("19800101", 123)
    damaged = good[:15] + "000"
    if damaged[-1] != good[-1] or not idno.is_valid(damaged, TODAY):
        assert "Excel" in idno.check_message(damaged, TODAY)


@pytest.mark.parametrize("raw,message", [
    ("", "身份证号为空"),
    ("43042319800101123", "身份证号应为18位，现为17位"),
    ("430423800101123", "15位旧身份证号"),
    ("43042319801301123X", "出生日期不存在"),
    ("43042318800101123X", "出生年份1880不合理"),
    ("4304231980010112AX", "只能是17位数字"),
])
def test_bad_numbers_get_a_chinese_reason(raw, message):
    assert message in idno.check_message(raw, TODAY)


def test_birth_date_after_today_is_rejected():
    number = make_id("20261201", 1)
    assert "晚于今天" in idno.check_message(number, TODAY)
    assert idno.is_valid(number, datetime.date(2026, 12, 2))


def test_elderly_resident_of_a_renamed_county_is_valid():
    # python-stdnum's full validate rejects numbers whose region code did not
    # exist in the birth year; an 1940 birth in a code created later is fine here.
    number = make_id("19400315", 45, "520221")
    assert idno.is_valid(number, TODAY)


@pytest.mark.parametrize("born,on,age", [
    ("19620101", datetime.date(2022, 1, 1), 60),
    ("19620102", datetime.date(2022, 1, 1), 59),
    ("20000229", datetime.date(2021, 2, 28), 20),
    ("20000229", datetime.date(2021, 3, 1), 21),
    ("20220601", datetime.date(2022, 1, 1), 0),
])
def test_age_in_full_years(born, on, age):
    assert idno.age_on(make_id(born), on) == age


def test_mask_keeps_region_and_last_four_only():
    number = make_id("19800101", 123)
    masked = idno.mask(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
    assert number[6:14] not in masked and masked.count("*") == 8


@given(valid_ids(), st.integers(0, 9))
def test_our_check_digit_is_stdnums(pair, last):
    from stdnum.cn.ric import calc_check_digit
    number, _ = pair
    candidate = number[:17] + str(last)
    assert idno.is_valid(candidate, TODAY) == (calc_check_digit(candidate) == str(last))
