"""Money and dates as they arrive from plan files, Excel cells and typed text.

Money is kept in integer fen (分) everywhere inside; yuan only at the edges.

>>> fen('280'), fen('1.2'), fen(0.6), fen('1,070元')
(28000, 120, 60, 107000)
>>> yuan(28000), yuan(120)
(280, Decimal('1.2'))

Dates accept ``date``/``datetime``, Excel serial numbers and the text forms
staff type:

>>> to_date('2024.10.15'), to_date('2024年10月15日'), to_date(45580)
(datetime.date(2024, 10, 15), datetime.date(2024, 10, 15), datetime.date(2024, 10, 15))

A time of day, as web systems export a date, is read and dropped:

>>> to_date('2025-10-15 09:31:27'), to_date('2025/10/15 0:00'), to_date('2025年10月15日 9:31')
(datetime.date(2025, 10, 15), datetime.date(2025, 10, 15), datetime.date(2025, 10, 15))
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from .text import INVISIBLE, clean

__all__ = ["BadValue", "fen", "yuan", "yuan_text", "to_date", "add_months", "first_of_next_month"]


class BadValue(ValueError):
    """A value that cannot be read; ``str(exc)`` is a Chinese message."""


_MONEY_JUNK = re.compile(f"[,，\\s{INVISIBLE}元¥￥]")


def fen(value) -> int:
    """Yuan (text, int, Decimal or a float from an Excel cell) to integer fen.

    Floats are read as Excel shows them, to 15 significant digits, so the
    0.1 + 0.2 style noise a formula leaves in a cell (399.99999999999994 for
    a cell showing 400) cannot leak in; more than two decimals is an error.

    >>> fen(399.99999999999994), fen(0.1 + 0.2), fen(201.5), fen("1,100.50")
    (40000, 30, 20150, 110050)
    >>> fen("Infinity")
    Traceback (most recent call last):
    yibao.functions.values.BadValue: 无法识别的金额“Infinity”
    """
    if isinstance(value, bool):
        raise BadValue("金额不能是真/假值")
    if isinstance(value, int):
        return value * 100
    if isinstance(value, float):
        value = f"{value:.15g}" if abs(value) < 1e15 else repr(value)
    text = _MONEY_JUNK.sub("", str(value))
    try:
        amount = Decimal(text) * 100
    except InvalidOperation:
        raise BadValue(f"无法识别的金额“{value}”") from None
    if not amount.is_finite():      # "inf", "NaN" typed in a CSV
        raise BadValue(f"无法识别的金额“{value}”")
    if amount != amount.to_integral_value():
        raise BadValue(f"金额“{value}”超过两位小数")
    return int(amount)


def yuan(amount_fen: int):
    """Integer fen to yuan: an ``int`` when whole, else an exact ``Decimal``."""
    if amount_fen % 100 == 0:
        return amount_fen // 100
    return Decimal(amount_fen) / 100


def yuan_text(amount_fen: int) -> str:
    """Fen as a yuan string for messages: '280', '1.2'.

    >>> yuan_text(28000), yuan_text(120), yuan_text(-5)
    ('280', '1.2', '-0.05')
    """
    return str(yuan(amount_fen))


_EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DATE_TEXT = re.compile(
    r"^\s*(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?|(\d{2})(\d{2}))"
    # a time of day, as systems export a date (2025-10-15 09:31:27, 2025/10/15 0:00,
    # 2025-10-15T00:00:00.000+08:00, 2025年10月15日 9时31分): read and dropped
    r"(?:(?:\s*T\s*|\s+|(?<=日))(\d{1,2})\s*[:：时点]\s*(\d{1,2})?\s*(?:[:：分]\s*(?:(\d{1,2})(?:\.\d+)?\s*秒?)?)?"
    r"\s*(?:Z|[+-]\d{2}:?\d{2})?)?\s*$"
)


def _parse_text_date(text: str) -> datetime.date:
    match = _DATE_TEXT.match(text)
    if not match:
        raise BadValue(f"无法识别的日期“{text}”，请写成2024-10-15或2024年10月15日")
    year = int(match.group(1))
    month = int(match.group(2) or match.group(4))
    day = int(match.group(3) or match.group(5))
    hour, minute, second = (int(g or 0) for g in match.group(6, 7, 8))
    try:
        datetime.time(hour, minute, second)
        return datetime.date(year, month, day)
    except ValueError:
        raise BadValue(f"日期“{text}”不存在") from None


def to_date(value) -> datetime.date:
    """Read a date from a cell value or text; raises :class:`BadValue`.

    >>> to_date('20241015'), to_date('2024/1/5')
    (datetime.date(2024, 10, 15), datetime.date(2024, 1, 5))
    """
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise BadValue("日期不能是真/假值")
    if isinstance(value, (int, float)):
        # Excel serial (1900 date system); 61 and later skip the fake 1900-02-29
        if not 1 <= value < 2958466:
            raise BadValue(f"无法识别的日期“{value}”")
        return _EXCEL_EPOCH + datetime.timedelta(days=int(value))
    if value is None:
        raise BadValue("日期为空")
    return _parse_text(str(value))


@functools.lru_cache(maxsize=8192)
def _parse_text(text: str) -> datetime.date:
    text = text.strip()
    if len(text) > 64:                # no date is this long; keeps the patterns below cheap
        raise BadValue(f"无法识别的日期“{text[:20]}…”，请写成2024-10-15或2024年10月15日")
    if not text.isascii():            # full-width digits, marks pasted from web pages
        text = unicodedata.normalize("NFKC", clean(text))
    if re.fullmatch(r"\d{5}(\.\d+)?", text):     # a serial as text, with or without a time
        return to_date(int(float(text)))
    return _parse_text_date(text)


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day ``months`` later, clipped to the month's end.

    >>> add_months(datetime.date(2021, 12, 20), 1), add_months(datetime.date(2021, 1, 31), 1)
    (datetime.date(2022, 1, 20), datetime.date(2021, 2, 28))
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def first_of_next_month(day: datetime.date) -> datetime.date:
    """The first day of the month after ``day`` (002's "从缴费的下个月起").

    >>> first_of_next_month(datetime.date(2021, 12, 5))
    datetime.date(2022, 1, 1)
    """
    return add_months(day.replace(day=1), 1)
