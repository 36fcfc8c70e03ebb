"""What each person function (=PAYABLE(), =SUBSIDY_TIER(), ...) shows for a
computed person, shared by the Excel functions (:mod:`yibao.functions.udf`)
and ``yibao refresh``, which writes exactly these values where formulas
cannot run; :func:`problem_value` is what both show for a row that cannot be
computed.

Kept apart from :mod:`~yibao.functions.udf` so that the command line does
not import xlwings (and with it pandas) just to fill a column.
"""

from __future__ import annotations

from typing import Callable

from .person import VALUE_ERROR
from .values import yuan

__all__ = ["PICKS", "NUMERIC", "money", "problem_value"]


def money(fen_value):
    """Fen as the number a cell shows: an int when whole, else a float."""
    value = yuan(fen_value)
    return value if isinstance(value, int) else float(value)


PICKS: dict[str, Callable] = {
    "PAYABLE": lambda r: money(r.payable),
    "SUBSIDY_AMOUNT": lambda r: money(r.subsidy),
    "SUBSIDY_TIER": lambda r: r.subsidy_tier or "",
    "FUNDING": lambda r: r.funding_text,
    "BENEFIT_START": lambda r: r.benefit_start,
}

#: the functions whose cells hold a number or a date: for a row they cannot
#: compute they show ``#VALUE!`` (so a SUM over the column is an error, not a
#: total that silently leaves the person out: issue 13 item 6); the text
#: functions show the Chinese reason
NUMERIC = frozenset(("PAYABLE", "SUBSIDY_AMOUNT", "BENEFIT_START"))


def problem_value(function: str, message: str):
    """What ``function``'s cell shows for a row that cannot be computed
    because of ``message`` (Chinese): blank for a blank message (an empty
    row), a :class:`~yibao.functions.person.CellError` carrying the message
    for :data:`NUMERIC` functions, else the message itself."""
    if not message:
        return ""
    return VALUE_ERROR(message) if function in NUMERIC else message
