"""What each person function (=PAYABLE(), =SUBSIDY_TIER(), ...) shows for a
computed person, shared by the Excel functions (:mod:`yibao.functions.udf`)
and ``yibao refresh``, which writes exactly these values where formulas
cannot run.

Kept apart from :mod:`~yibao.functions.udf` so that the command line does
not import xlwings (and with it pandas) just to fill a column.
"""

from __future__ import annotations

from typing import Callable

from .values import yuan

__all__ = ["PICKS", "money"]


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
