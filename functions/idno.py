"""身份证号: the 18-digit resident identity number of GB 11643-1999.

The number has four parts::

    430423 19800101 123 X
    |      |        |   `- check digit, ISO 7064 MOD 11-2 (0-9 or X)
    |      |        `----- sequence; odd for men, even for women
    |      `-------------- birth date YYYYMMDD
    `--------------------- region code of the place of first registration

Region codes are renamed and merged over the years, so a code that no longer
exists (or did not yet exist when an elderly person was born) says nothing
about the number's validity: we never reject a number for its region. That is
why this module follows python-stdnum's check-digit arithmetic (inlined on
the hot path; a test checks it against ``stdnum.cn.ric.calc_check_digit``) but not its
``validate``, which looks the region up in a dated table and rejects most
elderly residents of renamed counties.

Input is normalized by :func:`yibao.functions.text.compact_id`, the one
reading of ID text: spaces, full-width digits, a lowercase x, an apostrophe
that Excel users type to force text, the ``="…"`` of CSV exports, and the
invisible characters web systems paste around a number (U+202D … U+202C):

>>> compact(' 11010519491231002x ')
'11010519491231002X'
>>> compact('１１０１０５１９４９１２３１００２Ｘ')
'11010519491231002X'
>>> validate('\u202d11010519491231002X\u202c')
'11010519491231002X'
>>> validate('11010519491231002X')
'11010519491231002X'
>>> birth_date('11010519491231002X')
datetime.date(1949, 12, 31)
>>> gender('11010519491231002X')
'女'
>>> age_on('11010519491231002X', datetime.date(2021, 12, 31))
72
>>> mask('11010519491231002X')
'110105********002X'

An old 15-digit number (issued before 1999: no century, no check digit) is
upgraded to its 18-digit form, which is what is matched and shown; the note
says so:

>>> validate('110105491231002')
'11010519491231002X'
>>> check_message('110105491231002')
'15位旧身份证号，对应的18位号码为11010519491231002X，请改填18位号码'

The region code is looked up in python-stdnum's list of administrative
division codes since 1980, abolished codes included, for the place shown;
an unknown code is at most a warning, never a rejection:

>>> birthplace('110103194912310027'), birthplace('520221194003150454')
('北京市崇文区（已撤销，代码用至2010年）', '贵州省六盘水市水城县（已撤销，代码用至2020年）')
>>> region_note('430999198001010313')
'身份证号前6位430999不在行政区划代码表中（含已撤销的代码），请核对；不影响计算'

A number that Excel stored as a float (shown as 1.10105E+17, only 15
significant digits kept) is recognized and reported as such:

>>> validate(110105194912310000)
Traceback (most recent call last):
  ...
yibao.functions.idno.DamagedByExcel: 身份证号被Excel当作数字保存，末尾几位已变成0，无法恢复：请把单元格设为“文本”后按证件重新录入
"""

from __future__ import annotations

import datetime
import functools
import re

from stdnum import exceptions as _stdnum_exc

from .text import compact_id

__all__ = [
    "InvalidID", "InvalidLength", "InvalidFormat", "InvalidChecksum",
    "InvalidBirthDate", "DamagedByExcel",
    "compact", "validate", "is_valid", "check_message",
    "birth_date", "gender", "age_on", "mask",
    "upgrade_15", "upgrade_note", "birthplace", "region_note",
]

#: earliest birth year we accept (the oldest living residents)
MIN_BIRTH_YEAR = 1890


class InvalidID(ValueError):
    """Base of every ID problem; ``str(exc)`` is a Chinese message for staff."""

    message = "身份证号无效"

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)


class InvalidLength(InvalidID, _stdnum_exc.InvalidLength):
    message = "身份证号应为18位"


class InvalidFormat(InvalidID, _stdnum_exc.InvalidFormat):
    message = "身份证号只能是17位数字加1位数字或X"


class InvalidChecksum(InvalidID, _stdnum_exc.InvalidChecksum):
    message = "身份证号校验位不对，请逐位核对"


class InvalidBirthDate(InvalidID, _stdnum_exc.InvalidComponent):
    message = "身份证号中的出生日期不存在"


class DamagedByExcel(InvalidID, _stdnum_exc.InvalidFormat):
    message = ("身份证号被Excel当作数字保存，末尾几位已变成0，无法恢复：" 
               "请把单元格设为“文本”后按证件重新录入")


_CHECK_CHARS = frozenset("0123456789X")
#: the check character of each MOD 11-2 value (10 is X)
_CHECK_DIGIT = "0123456789X"
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")


def compact(number) -> str:
    """Return the number as an upper-case string without separators.

    Numbers (int or float, as Excel hands over a cell it stored as a number)
    become their digit string; the caller's ``validate`` then spots damage.
    """
    if isinstance(number, bool):
        raise InvalidFormat()
    if isinstance(number, float):
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidFormat()
        number = int(number)
    if isinstance(number, int):
        return str(number)
    return compact_id(str(number))


def _looks_damaged(raw, digits: str) -> bool:
    """True for the forms an 18-digit number takes after Excel stored it as
    a float: a number type, scientific notation, or 18 digits ending in 000
    whose check digit fails."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return len(digits) >= 16
    text = str(raw).strip()
    if _SCIENTIFIC.match(text.replace(" ", "")):
        return True
    return len(digits) == 18 and digits.endswith("000")


@functools.lru_cache(maxsize=65536)
def _birth(yyyymmdd: str) -> datetime.date:
    # a ledger's persons share some 30,000 birthdays: each read once (lru_cache keeps no errors)
    return _read_birth(yyyymmdd)


def _read_birth(yyyymmdd: str) -> datetime.date:
    try:
        born = datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise InvalidBirthDate() from None
    if born.year < MIN_BIRTH_YEAR:
        raise InvalidBirthDate(f"身份证号中的出生年份{born.year}不合理")
    return born


def validate(number, today: datetime.date | None = None) -> str:
    """Return the compact number, or raise an :class:`InvalidID` subclass.

    Checks length, characters, the birth date (exists, not before 1890, not
    after ``today``) and the check digit. The region code is not checked.

    >>> validate('110105194912310021')
    Traceback (most recent call last):
      ...
    yibao.functions.idno.InvalidChecksum: 身份证号校验位不对，请逐位核对
    >>> validate('4.30423E+17')
    Traceback (most recent call last):
      ...
    yibao.functions.idno.DamagedByExcel: 身份证号被Excel当作数字保存，末尾几位已变成0，无法恢复：请把单元格设为“文本”后按证件重新录入
    """
    return parse(number, today)[0]


def parse(number, today: datetime.date | None = None) -> tuple[str, datetime.date]:
    """(compact number, birth date) of a valid number; raises like :func:`validate`."""
    if (type(number) is str and len(number) == 18 and number.isascii()
            and (body := number[:17]).isdigit() and number[17] in _CHECK_CHARS):
        digits = number          # fast path: already clean, as in most ledgers
    else:
        digits = _clean_for_validate(number)
        body = digits[:17]
    born = _birth(digits[6:14])
    if born > (today or datetime.date.today()):
        raise InvalidBirthDate(f"身份证号中的出生日期{born.isoformat()}晚于今天")
    check = (1 - 2 * int(body, 13)) % 11      # ISO 7064 MOD 11-2, as stdnum's calc_check_digit
    if digits[17] != _CHECK_DIGIT[check]:
        if _looks_damaged(number, digits):
            raise DamagedByExcel()
        raise InvalidChecksum()
    return digits, born


def _clean_for_validate(number) -> str:
    """Compact the number and reject everything but 17 digits + digit/X."""
    digits = compact(number)
    if not isinstance(number, str) and _looks_damaged(number, digits):
        raise DamagedByExcel()
    if isinstance(number, str) and _SCIENTIFIC.match(digits):
        raise DamagedByExcel()
    if not digits:
        raise InvalidLength("身份证号为空")
    if len(digits) == 15 and digits.isdigit():
        return upgrade_15(digits)
    if len(digits) != 18:
        raise InvalidLength(f"身份证号应为18位，现为{len(digits)}位")
    if not (digits[:17].isdigit() and (digits[17].isdigit() or digits[17] == "X")):
        raise InvalidFormat()
    return digits


def upgrade_15(digits: str) -> str:
    """The 18-digit form of an old 15-digit number: ``19`` put before the
    two-digit birth year and the check digit appended (GB 11643-1999, the
    rule by which the old numbers were converted). Raises
    :class:`InvalidID` for anything but 15 digits with an existing date.

    >>> upgrade_15('430423800101123')
    '430423198001011231'
    """
    if not (isinstance(digits, str) and len(digits) == 15 and digits.isdigit()):
        raise InvalidLength(f"15位旧身份证号应为15位数字，见到“{digits}”")
    body = digits[:6] + "19" + digits[6:]
    _birth(body[6:14])
    check = (1 - 2 * int(body, 13)) % 11      # ISO 7064 MOD 11-2, as stdnum's calc_check_digit
    return body + ("X" if check == 10 else str(check))


def upgrade_note(raw, number: str | None = None) -> str:
    """A note for staff when ``raw`` is an old 15-digit number ('' otherwise);
    ``number`` is its 18-digit form when already known."""
    if isinstance(raw, str) and len(raw) == 18:
        return ""             # the common case, without compacting
    try:
        digits = compact(raw)
    except InvalidID:
        return ""
    if len(digits) != 15 or not digits.isdigit():
        return ""
    try:
        number = number or upgrade_15(digits)
    except InvalidID:
        return ""
    return f"15位旧身份证号，对应的18位号码为{number}，请改填18位号码"


def is_valid(number, today: datetime.date | None = None) -> bool:
    """Check whether the number is valid.

    >>> is_valid('11010519491231002X'), is_valid('110105194912310020')
    (True, False)
    """
    try:
        return bool(validate(number, today))
    except InvalidID:
        return False


def check_message(number, today: datetime.date | None = None) -> str:
    """The Chinese message for a bad number, the note on an old 15-digit
    number (valid, upgraded: :func:`upgrade_note`), or '' when it is valid.

    >>> check_message('11010519491231002X')
    ''
    >>> check_message('1101051949123100')
    '身份证号应为18位，现为16位'
    """
    try:
        valid = validate(number, today)
    except InvalidID as exc:
        return str(exc)
    return upgrade_note(number, valid)


def birth_date(number) -> datetime.date:
    """The birth date encoded in a valid number."""
    return _birth(validate(number)[6:14])


def birth_of_valid(number: str) -> datetime.date:
    """Birth date of a number already returned by :func:`validate` (no re-check)."""
    return _birth(number[6:14])


def gender(number) -> str:
    """'男' when the sequence is odd, '女' when even."""
    return "男" if int(validate(number)[16]) % 2 else "女"


def age_on(number, on: datetime.date) -> int:
    """Full years of age on the given date (周岁); 0 before the first birthday
    and for a person not yet born on that date.

    >>> age_on('11010519491231002X', datetime.date(2019, 12, 30))
    69
    >>> age_on('11010519491231002X', datetime.date(2019, 12, 31))
    70
    """
    return age_from_birth(birth_date(number), on)


def age_from_birth(born: datetime.date, on: datetime.date) -> int:
    """Full years between ``born`` and ``on``; a person born on 29 February
    turns a year older on 1 March in common years."""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return max(years, 0)


def mask(number) -> str:
    """Mask a number for public notices: region and last four kept.

    Invalid input is masked the same way as far as it goes, never shown whole.

    >>> mask('4.30423E+17')
    '******'
    """
    digits = compact(number)
    if len(digits) != 18 or not digits[:17].isdigit():
        return "*" * 6
    return digits[:6] + "*" * 8 + digits[14:]


# ---------------------------------------------------------------- region

@functools.lru_cache(maxsize=1)
def _regions():
    from stdnum import numdb
    return numdb.get("cn/loc")


def _region_names(code: str) -> dict:
    """{'province': …, 'county': …} of a 6-digit code, as python-stdnum's
    cn/loc table has them (county names carry their years: "[1987-2020]水城县")."""
    found = {}
    for _part, props in _regions().info(code):
        found.update(props)
    return found


def _current(names: str) -> tuple[str, str]:
    """(latest name, year its code was abolished or '') of a table entry
    such as "[-1986]水城特区,[1987-]钟山区"."""
    last = names.split(",")[-1]
    if not last.startswith("["):
        return last, ""
    years, name = last[1:].split("]", 1)
    return name, years.split("-")[1]


_NOT_PLACES = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})


@functools.lru_cache(maxsize=4096)
def _place(code: str) -> str:
    names = _region_names(code)
    if "province" not in names or (code[2:] != "0000" and "county" not in names):
        return ""
    parts, ended = [names["province"]], ""
    if code[4:] != "00":
        prefecture = _region_names(code[:4] + "00").get("county")
        if prefecture:
            name, _end = _current(prefecture)
            if name not in _NOT_PLACES:
                parts.append(name)
    if code[2:] != "0000":
        name, ended = _current(names["county"])
        if name != parts[-1]:
            parts.append(name)
    place = "".join(dict.fromkeys(parts))
    return place + (f"（已撤销，代码用至{ended}年）" if ended else "")


def birthplace(number) -> str:
    """Where the number was first registered (its region code), from
    python-stdnum's table of division codes since 1980 including abolished
    ones: '湖南省衡阳市衡山县'; '' for a code not in the table. Never raises
    for a valid number; the code says nothing about the number's validity.

    >>> birthplace('430423198001011231')
    '湖南省衡阳市衡山县'
    """
    return _place(validate(number)[:6])


def region_note(number) -> str:
    """A warning for a region code not in the table ('' when it is there).
    Only a warning: codes are renamed and merged, and the table may miss
    one."""
    code = validate(number)[:6]
    if _place(code):
        return ""
    return f"身份证号前6位{code}不在行政区划代码表中（含已撤销的代码），请核对；不影响计算"
