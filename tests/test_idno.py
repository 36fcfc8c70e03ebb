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
    ("430423801301123", "出生日期不存在"),        # an old 15-digit number with month 13
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


# ---------------------------------------------------------------- old 15-digit numbers (issue 12 第10项)

old_births = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(1999, 12, 31))


@given(old_births, st.integers(0, 999), regions)
def test_an_old_15_digit_number_is_upgraded_to_the_18_digit_number_it_became(born, seq, region):
    number = make_id(born.strftime("%Y%m%d"), seq, region)
    old = number[:6] + number[8:17]            # what the first-generation card printed
    assert idno.validate(old, TODAY) == number
    assert idno.parse(old, TODAY) == (number, born)
    assert idno.upgrade_15(old) == number
    # shown to the user: the 校验 column (ID_CHECK) and every result say which number it is
    assert idno.check_message(old, TODAY) == f"15位旧身份证号，对应的18位号码为{number}，请改填18位号码"
    assert idno.check_message(number, TODAY) == ""


def test_an_old_number_typed_as_a_number_keeps_all_15_digits_and_is_upgraded():
    number = make_id("19620110", 21, "430999")
    old = number[:6] + number[8:17]
    assert idno.validate(int(old), TODAY) == number        # Excel keeps 15 digits exactly
    assert idno.validate(float(old), TODAY) == number


def test_an_old_number_is_computed_and_matched_as_its_18_digit_form():
    from yibao.functions import plan as plans
    number = make_id("19620110", 21, "430999")
    old = number[:6] + number[8:17]
    p = plans.load("zaozhuang-2022")
    got = engine.compute(p, engine.Person(old, (), datetime.date(2022, 1, 15)), TODAY)
    want = engine.compute(p, engine.Person(number, (), datetime.date(2022, 1, 15)), TODAY)
    assert (got.payable, got.subsidy_tier, got.benefit_start) == (want.payable, want.subsidy_tier, want.benefit_start)
    assert got.message.startswith(f"15位旧身份证号，对应的18位号码为{number}")
    assert udf.PAYABLE(old, pay_date="2022-01-15", policy="zaozhuang-2022") == 140


def test_a_15_digit_number_with_an_impossible_date_is_rejected():
    assert "出生日期不存在" in idno.check_message("430423800230123", TODAY)


# ---------------------------------------------------------------- region codes (issue 12 第10项)

@pytest.mark.parametrize("region,born,place", [
    ("430423", "19800101", "湖南省衡阳市衡山县"),
    ("110105", "19491231", "北京市朝阳区"),                     # 市辖区 is no place name
    ("110103", "19491231", "北京市崇文区（已撤销，代码用至2010年）"),   # merged into 东城区 in 2010
    ("520221", "19400315", "贵州省六盘水市水城县（已撤销，代码用至2020年）"),  # now 水城区 520204
    ("520204", "19900315", "贵州省六盘水市水城区"),
    ("370402", "19850312", "山东省枣庄市市中区"),
])
def test_the_region_code_is_shown_as_a_place_abolished_codes_included(region, born, place):
    number = make_id(born, 45, region)
    assert idno.is_valid(number, TODAY)
    assert idno.birthplace(number) == place
    assert idno.region_note(number) == ""


@pytest.mark.parametrize("region", ["110103", "520221", "430999", "999999"])
def test_a_region_code_never_rejects_a_valid_person(region):
    # python-stdnum's own validate rejects a code abolished or not yet created
    # in the birth year; the number is valid all the same
    number = make_id("19400315", 45, region)
    assert idno.validate(number, TODAY) == number
    assert idno.check_message(number, TODAY) == ""


def test_an_unknown_region_code_is_a_warning_only():
    number = make_id("19800101", 31, "430999")          # the project's fictional region
    assert idno.birthplace(number) == ""
    assert idno.region_note(number) == "身份证号前6位430999不在行政区划代码表中（含已撤销的代码），请核对；不影响计算"


@pytest.mark.parametrize("region", ["430423", "110103", "520221", "370402"])
def test_our_place_is_the_one_stdnum_finds(region):
    from stdnum.cn import ric
    number = make_id("19990101", 45, region)
    assert ric.get_birth_place(number)["county"] in idno.birthplace(number)


def test_validate_matches_an_old_number_with_its_18_digit_form_and_warns(tmp_path):
    import openpyxl
    from conftest import run_yibao
    number = make_id("19800101", 11)
    old = number[:6] + number[8:17]
    path = tmp_path / "台账.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["填报单位：新桥镇 示例村", None, None, None, "方案编号", "xinqiao-2021"])
    ws.append(["序号", "姓名", "身份证号", "个人缴费", "缴费日期"])
    ws.append([1, "张三", old, 280, "2020-10-21"])
    ws.append([2, "张三", number, 280, "2020-10-21"])
    wb.save(path)
    run_yibao("validate", str(path), "--policy", "xinqiao-2021", check_rc=None)
    rows = list(openpyxl.load_workbook(path)["校验报告"].iter_rows(min_row=2, values_only=True))
    on_old = [r for r in rows if r[2] == 3 and r[3] == "C3"]
    assert ("警告", f"15位旧身份证号，对应的18位号码为{number}，请改填18位号码") in [(r[5], r[6]) for r in on_old]
    # the same person twice: the old number is matched as the new one
    assert any(r[2] == 4 and "身份证号重复" in r[6] for r in rows)


def test_id_place_shows_the_place_in_excel_and_never_an_error_for_a_valid_number():
    known = make_id("19400315", 45, "520221")
    fictional = make_id("19800101", 31, "430999")
    assert udf.ID_PLACE([[known], [fictional], [None]]) == [
        ["贵州省六盘水市水城县（已撤销，代码用至2020年）"], [""], [""]]
    assert "校验位" in udf.ID_PLACE(known[:-1] + ("0" if known[-1] != "0" else "1"))
